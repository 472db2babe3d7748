// The copy-on-write checkpoint cut of the in-memory keyed state backend (detail/slot_cut.h): the
// key groups written after the cut, while the task changed keys, state, slots and timers (or
// while it changes them on another thread), hold what a synchronous snapshot at the cut held.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sluice/detail/in_memory_state_backend.h"
#include "sluice/detail/key_groups.h"
#include "sluice/state.h"

namespace sluice {
namespace {

using Backend = detail::InMemoryStateBackend<uint64_t>;
constexpr int kMaxParallelism = 16;
constexpr uint64_t kKeys = 20'000;  // five pages of slots

struct States {
  explicit States(Backend& b)
      : value(b.tables().handle<ValueState<std::string>>("v", std::nullopt)),
        map(b.tables().handle<MapState<int64_t, double>>("m", StateTtl{.ttl = 1'000'000})),
        list(b.tables().handle<ListState<int64_t>>("l", std::nullopt)) {}
  ValueState<std::string> value;
  MapState<int64_t, double> map;
  ListState<int64_t> list;
};

void fill(Backend& b, States& s, uint64_t from, uint64_t to, const std::string& tag) {
  b.scope().processing_now = 1000;
  for (uint64_t k = from; k < to; ++k) {
    b.set_current_key(k);
    s.value.update(tag + std::to_string(k));
    if (k % 2 == 0) s.map.put(static_cast<int64_t>(k), k * 0.5);
    for (uint64_t i = 0; i < k % 4; ++i) s.list.add(static_cast<int64_t>(i));
    if (k % 3 == 0) b.add_timer(TimeDomain::kEventTime, static_cast<Timestamp>(k));
    if (k % 5 == 0) b.add_timer(TimeDomain::kProcessingTime, static_cast<Timestamp>(k) + 7);
  }
}

// Drops all that fill() gave key k: its state and its timers.
void empty_key(Backend& b, States& s, uint64_t k) {
  b.set_current_key(k);
  s.value.clear();
  s.map.clear();
  s.list.clear();
  b.remove_timer(TimeDomain::kEventTime, static_cast<Timestamp>(k));
  b.remove_timer(TimeDomain::kProcessingTime, static_cast<Timestamp>(k) + 7);
}

// What the task does after the cut: rewrites keys across every page, empties some keys entirely
// (state and timers) so that cleanup releases their slots, adds new keys that take those slots,
// and fires timers.
void change(Backend& b, States& s) {
  for (uint64_t k = 1; k < kKeys; k += 7) {
    b.set_current_key(k);
    s.value.update("changed");
    s.map.put(-1, 1.0);
    s.list.add(99);
  }
  for (uint64_t k = 0; k < kKeys; k += 11) empty_key(b, s, k);
  for (int i = 0; i < 2000; ++i) b.cleanup_step();  // releases the emptied keys' slots
  fill(b, s, kKeys, kKeys + 1500, "new ");          // reuses them
  b.fire_timers(TimeDomain::kEventTime, 6000, [&](Timestamp) { s.value.update("fired"); });
}

struct Dump {
  std::map<uint64_t, std::string> values;
  std::map<uint64_t, std::vector<std::pair<int64_t, double>>> maps;
  std::map<uint64_t, std::vector<int64_t>> lists;
  std::multimap<uint64_t, std::pair<int, Timestamp>> timers;
  std::vector<uint64_t> keys;  // every key restored, those without state included
  bool operator==(const Dump&) const = default;
};

// A fresh backend restored from `groups`, read back key by key.
Dump restore_and_dump(const std::vector<detail::KeyGroupState>& groups) {
  Backend b(kMaxParallelism);
  States s(b);
  for (const detail::KeyGroupState& g : groups) {
    StateReader r(g.bytes);
    Status st = b.restore(g.key_group, r);
    EXPECT_TRUE(st.is_ok()) << st.to_string();
    EXPECT_TRUE(r.at_end());
  }
  Dump d;
  for (TimeDomain dom : {TimeDomain::kEventTime, TimeDomain::kProcessingTime}) {
    std::as_const(b.timers()).queue(dom).for_each([&](Timestamp t, uint32_t slot) {
      d.timers.emplace(b.keys().key_of(slot), std::make_pair(static_cast<int>(dom), t));
    });
  }
  std::vector<uint64_t> keys;
  b.keys().for_each([&](uint64_t k, uint32_t) { keys.push_back(k); });
  std::sort(keys.begin(), keys.end());
  d.keys = keys;
  b.scope().processing_now = 1000;
  for (uint64_t k : keys) {
    b.set_current_key(k);
    if (auto x = s.value.value()) d.values[k] = *x;
    s.map.for_each([&](int64_t mk, double mv) { d.maps[k].emplace_back(mk, mv); });
    std::sort(d.maps[k].begin(), d.maps[k].end());
    if (d.maps[k].empty()) d.maps.erase(k);
    if (!s.list.empty()) d.lists[k] = s.list.get();
  }
  return d;
}

// The key groups of a synchronous snapshot, now.
std::vector<detail::KeyGroupState> snapshot_now(const Backend& b) {
  std::vector<detail::KeyGroupState> groups;
  for (int g = 0; g < kMaxParallelism; ++g) {
    detail::KeyGroupState& state = groups.emplace_back();
    state.key_group = g;
    StateWriter w(&state.bytes);
    b.snapshot(g, w);
  }
  return groups;
}

std::vector<detail::KeyGroupState> write(std::function<void(detail::OperatorSnapshot&)>& cut) {
  detail::OperatorSnapshot out;
  cut(out);
  return out.key_groups;
}

TEST(SlotCut, HoldsTheStateAtTheCutWhileTheTaskChangesIt) {
  Backend b(kMaxParallelism);
  States s(b);
  fill(b, s, 0, kKeys, "value of ");
  const Dump at_cut = restore_and_dump(snapshot_now(b));
  auto cut = b.cut();
  EXPECT_TRUE(b.cut_in_flight());
  change(b, s);
  const Dump after = restore_and_dump(snapshot_now(b));
  ASSERT_NE(after, at_cut);  // the change reached every part the cut must keep
  EXPECT_EQ(restore_and_dump(write(cut)), at_cut);
  EXPECT_EQ(restore_and_dump(snapshot_now(b)), after);
}

TEST(SlotCut, TheWriterReadsOnAnotherThreadWhileTheTaskWrites) {
  for (int round = 0; round < 5; ++round) {
    Backend b(kMaxParallelism);
    States s(b);
    fill(b, s, 0, kKeys, "value of ");
    const Dump at_cut = restore_and_dump(snapshot_now(b));
    auto cut = b.cut();
    std::vector<detail::KeyGroupState> written;
    std::thread writer([&] { written = write(cut); });
    change(b, s);
    writer.join();
    EXPECT_EQ(restore_and_dump(written), at_cut) << "round " << round;
  }
}

TEST(SlotCut, ANewKeyTakingASlotFreedBeforeTheCutLeavesTheCutAlone) {
  Backend b(kMaxParallelism);
  States s(b);
  fill(b, s, 0, kKeys, "value of ");
  for (uint64_t k = 0; k < kKeys; k += 13) empty_key(b, s, k);
  for (int i = 0; i < 2000; ++i) b.cleanup_step();
  const Dump at_cut = restore_and_dump(snapshot_now(b));
  auto cut = b.cut();
  fill(b, s, kKeys, kKeys + 1000, "new ");  // nothing but new keys, in the freed slots
  EXPECT_EQ(restore_and_dump(write(cut)), at_cut);
}

TEST(SlotCut, CleanupAfterTheCutLeavesTheCutAlone) {
  Backend b(kMaxParallelism);
  States s(b);
  fill(b, s, 0, kKeys, "value of ");
  for (uint64_t k = 0; k < kKeys; k += 13) {  // empty, but not yet released
    b.set_current_key(k);
    s.value.clear();
    s.list.clear();
  }
  const Dump at_cut = restore_and_dump(snapshot_now(b));
  auto cut = b.cut();
  b.scope().processing_now = 3'000'000;  // every map entry has expired since the cut
  for (int i = 0; i < 2000; ++i) b.cleanup_step();
  EXPECT_EQ(restore_and_dump(write(cut)), at_cut);
}

TEST(SlotCut, ReleasingAKeyEmptiedBeforeTheCutLeavesTheCutAlone) {
  Backend b(kMaxParallelism);
  auto value = b.tables().handle<ValueState<std::string>>("v", std::nullopt);  // no TTL
  for (uint64_t k = 0; k < kKeys; ++k) {
    b.set_current_key(k);
    if (k % 13 != 0) value.update("value of " + std::to_string(k));  // 13, 26...: no state
  }
  const Dump at_cut = restore_and_dump(snapshot_now(b));
  auto cut = b.cut();
  for (int i = 0; i < 2000; ++i) b.cleanup_step();
  EXPECT_EQ(restore_and_dump(write(cut)), at_cut);
}

TEST(SlotCut, ANewCutSettlesTheOneInFlight) {
  Backend b(kMaxParallelism);
  States s(b);
  fill(b, s, 0, kKeys, "value of ");
  const Dump first_state = restore_and_dump(snapshot_now(b));
  auto first = b.cut();
  fill(b, s, 0, 100, "second ");
  const Dump second_state = restore_and_dump(snapshot_now(b));
  auto second = b.cut();
  change(b, s);
  EXPECT_EQ(restore_and_dump(write(second)), second_state);
  EXPECT_EQ(restore_and_dump(write(first)), first_state);
}

TEST(SlotCut, ACutNobodyWritesStopsBeingWatched) {
  Backend b(kMaxParallelism);
  States s(b);
  fill(b, s, 0, kKeys, "value of ");
  {
    auto cut = b.cut();
    EXPECT_TRUE(b.cut_in_flight());
  }  // abandoned: the checkpoint failed before its write
  b.set_current_key(3);
  EXPECT_FALSE(b.cut_in_flight());
}

TEST(SlotCut, AnEmptyBackendCutsToNothing) {
  Backend b(kMaxParallelism);
  States s(b);
  auto cut = b.cut();
  EXPECT_FALSE(b.cut_in_flight());
  EXPECT_TRUE(write(cut).empty());
}

}  // namespace
}  // namespace sluice
