// The keyed state backends on their own, each test run with the in-memory and the RocksDB
// backend: isolation per key, TTL on an explicit clock, incremental cleanup, timers, and
// snapshots per key group restored at another parallelism.
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "sluice/detail/in_memory_state_backend.h"
#include "sluice/detail/rocksdb_state_backend.h"
#include "sluice/state.h"
#include "state/state_test_util.h"

namespace sluice {
namespace {

using Backend = detail::KeyedStateBackend<uint64_t>;

template <typename S>
S make_state(Backend& b, const std::string& name, std::optional<StateTtl> ttl = std::nullopt) {
  return b.tables().handle<S>(name, ttl);
}

class KeyedStateTest : public ::testing::TestWithParam<StateBackendKind> {
 protected:
  bool rocks() const { return GetParam() == StateBackendKind::kRocksDb; }
  std::unique_ptr<Backend> make(int max_parallelism) {
    return make_test_backend<uint64_t>(GetParam(), dir_.path(), max_parallelism);
  }
  // Drops expired entries: the incremental cleanup, and for RocksDB a compaction.
  void clean_up(Backend& b) {
    b.cleanup_step();
    if (auto* r = dynamic_cast<detail::RocksDbStateBackend<uint64_t>*>(&b)) {
      ASSERT_TRUE(r->store().compact().is_ok());
    }
  }

  TempDir dir_;
};

INSTANTIATE_TEST_SUITE_P(Backends, KeyedStateTest,
                         ::testing::Values(StateBackendKind::kMemory, StateBackendKind::kRocksDb),
                         [](const auto& info) { return backend_name(info.param); });

TEST_P(KeyedStateTest, ValueMapAndListAreIsolatedPerKey) {
  auto owner = make(128);
  Backend& b = *owner;
  auto value = make_state<ValueState<int64_t>>(b, "value");
  auto map = make_state<MapState<std::string, int64_t>>(b, "map");
  auto list = make_state<ListState<std::string>>(b, "list");
  for (uint64_t k = 0; k < 100; ++k) {
    b.set_current_key(k);
    EXPECT_FALSE(value.has_value());
    value.update(static_cast<int64_t>(k) * 10);
    map.put("k" + std::to_string(k), static_cast<int64_t>(k));
    map.put("shared", 1);
    list.add(std::to_string(k));
    list.add("x");
  }
  for (uint64_t k = 0; k < 100; ++k) {
    b.set_current_key(k);
    EXPECT_EQ(value.value(), static_cast<int64_t>(k) * 10);
    EXPECT_EQ(map.size(), 2u);
    EXPECT_EQ(map.get("k" + std::to_string(k)), static_cast<int64_t>(k));
    EXPECT_FALSE(map.contains("k" + std::to_string(k + 1)));
    EXPECT_EQ(list.get(), (std::vector<std::string>{std::to_string(k), "x"}));
  }
  b.set_current_key(7);
  value.clear();
  map.remove("shared");
  list.clear();
  EXPECT_FALSE(value.has_value());
  EXPECT_EQ(map.size(), 1u);
  EXPECT_TRUE(list.empty());
  b.set_current_key(8);
  EXPECT_EQ(value.value(), 80);
  EXPECT_EQ(list.size(), 2u);

  OperatorStateStats stats = b.stats();
  ASSERT_EQ(stats.states.size(), 3u);
  EXPECT_EQ(stats.states[0].name, "value");
  EXPECT_GT(stats.bytes, 0);
  if (rocks()) {  // RocksDB's estimates: rows written, not yet net of deletes before compaction
    EXPECT_GE(stats.states[0].keys, 99);
    EXPECT_GE(stats.states[1].keys, 199);  // map entries
    return;
  }
  EXPECT_EQ(stats.keys, 100);
  EXPECT_EQ(stats.states[0].keys, 99);
  EXPECT_EQ(stats.states[1].keys, 100);
  EXPECT_EQ(stats.states[2].keys, 99);
}

TEST_P(KeyedStateTest, SameNameGivesTheSameStateAndAnotherTypeIsAnError) {
  auto owner = make(128);
  Backend& b = *owner;
  auto a = make_state<ValueState<int64_t>>(b, "s");
  auto a2 = make_state<ValueState<int64_t>>(b, "s");
  b.set_current_key(1);
  a.update(5);
  EXPECT_EQ(a2.value(), 5);
  EXPECT_THROW(make_state<ListState<int64_t>>(b, "s"), std::logic_error);
}

TEST_P(KeyedStateTest, TtlOnCreateAndWriteExpiresOnTheClock) {
  auto owner = make(128);
  Backend& b = *owner;
  auto v = make_state<ValueState<int64_t>>(b, "v", StateTtl{.ttl = 100});
  b.scope().processing_now = 1000;
  b.set_current_key(1);
  v.update(1);
  b.scope().processing_now = 1099;
  EXPECT_EQ(v.value(), 1);  // a read does not extend an OnCreateAndWrite TTL
  b.scope().processing_now = 1100;
  EXPECT_FALSE(v.has_value());
  if (!rocks()) {
    EXPECT_EQ(b.stats().states[0].keys, 0);  // dropped on access
  }
}

TEST_P(KeyedStateTest, TtlOnReadAndWriteIsExtendedByReads) {
  auto owner = make(128);
  Backend& b = *owner;
  auto v = make_state<ValueState<int64_t>>(
      b, "v", StateTtl{.ttl = 100, .update = StateTtl::Update::kOnReadAndWrite});
  b.scope().processing_now = 0;
  b.set_current_key(1);
  v.update(1);
  for (Timestamp t = 90; t <= 900; t += 90) {
    b.scope().processing_now = t;
    EXPECT_EQ(v.value(), 1) << t;
  }
  b.scope().processing_now = 1000;
  EXPECT_FALSE(v.has_value());
}

TEST_P(KeyedStateTest, ReturnExpiredUntilCleanedUp) {
  auto owner = make(128);
  Backend& b = *owner;
  auto v = make_state<ValueState<int64_t>>(b, "v", StateTtl{.ttl = 10, .return_expired = true});
  b.scope().processing_now = 0;
  b.set_current_key(1);
  v.update(3);
  b.scope().processing_now = 50;
  EXPECT_EQ(v.value(), 3);
  clean_up(b);
  EXPECT_FALSE(v.has_value());
}

TEST_P(KeyedStateTest, TtlOfMapEntriesAndListElementsIsPerEntry) {
  auto owner = make(128);
  Backend& b = *owner;
  StateTtl ttl{.ttl = 100, .time = StateTtl::Time::kEventTime};
  auto map = make_state<MapState<int64_t, int64_t>>(b, "m", ttl);
  auto list = make_state<ListState<int64_t>>(b, "l", ttl);
  b.set_current_key(1);
  b.scope().event_now = 0;
  map.put(1, 1);
  list.add(1);
  b.scope().event_now = 60;
  map.put(2, 2);
  list.add(2);
  b.scope().event_now = 120;
  EXPECT_FALSE(map.contains(1));
  EXPECT_EQ(map.get(2), 2);
  EXPECT_EQ(list.get(), std::vector<int64_t>{2});
  b.scope().event_now = 200;
  EXPECT_TRUE(map.empty());
  EXPECT_TRUE(list.empty());
}

TEST_P(KeyedStateTest, IncrementalCleanupBoundsStateOfKeysNeverSeenAgain) {
  auto owner = make(128);
  Backend& b = *owner;
  auto v = make_state<ValueState<int64_t>>(b, "v", StateTtl{.ttl = 10});
  // 1000 "batches" of 100 fresh keys each; every key expires 10 ms after it was written.
  int64_t max_keys = 0;
  for (int batch = 0; batch < 1000; ++batch) {
    b.scope().processing_now = batch;
    for (uint64_t i = 0; i < 100; ++i) {
      b.set_current_key(static_cast<uint64_t>(batch) * 100 + i);
      v.update(1);
    }
    b.cleanup_step();
    max_keys = std::max(max_keys, static_cast<int64_t>(b.keys().size()));
  }
  // Live keys are the last ~10 batches' 1000; cleanup keeps the directory within a small factor.
  // (RocksDB keeps only keys of the current batch and with timers in its directory.)
  EXPECT_LT(max_keys, 5000);
  EXPECT_LT(b.keys().slot_count(), 6000u);
  if (rocks()) {
    clean_up(b);  // compaction drops all but the entries of the last 10 ms
    int64_t live = 0;
    for (uint64_t k = 0; k < 100'000; ++k) {
      b.set_current_key(k);
      live += v.has_value();
    }
    EXPECT_EQ(live, 1000);
  }
}

TEST_P(KeyedStateTest, KeysWithTimersAreKept) {
  auto owner = make(128);
  Backend& b = *owner;
  b.set_current_key(42);
  b.add_timer(TimeDomain::kEventTime, 5);
  for (int i = 0; i < 10; ++i) b.cleanup_step();
  EXPECT_EQ(b.stats().keys, 1);
  std::vector<std::pair<uint64_t, Timestamp>> fired;
  b.fire_timers(TimeDomain::kEventTime, 10,
                [&](Timestamp t) { fired.emplace_back(b.current_key(), t); });
  EXPECT_EQ(fired, (std::vector<std::pair<uint64_t, Timestamp>>{{42, 5}}));
  for (int i = 0; i < 10; ++i) b.cleanup_step();
  EXPECT_EQ(b.stats().keys, 0);
}

TEST_P(KeyedStateTest, TimersFireInTimeOrderOnceAndCanBeDeleted) {
  auto owner = make(128);
  Backend& b = *owner;
  for (uint64_t k = 0; k < 5; ++k) {
    b.set_current_key(k);
    for (Timestamp t : {30, 10, 20, 10, 30}) b.add_timer(TimeDomain::kEventTime, t + k);
  }
  b.set_current_key(2);
  b.remove_timer(TimeDomain::kEventTime, 22);
  b.add_timer(TimeDomain::kEventTime, 12);  // already there
  EXPECT_EQ(b.timers().size(), 14u);
  std::vector<std::pair<Timestamp, uint64_t>> fired;
  b.fire_timers(TimeDomain::kEventTime, 25, [&](Timestamp t) {
    fired.emplace_back(t, b.current_key());
    if (t == 10) b.add_timer(TimeDomain::kEventTime, 24);  // registered while firing, still due
  });
  std::vector<std::pair<Timestamp, uint64_t>> expected = {
      {10, 0}, {11, 1}, {12, 2}, {13, 3}, {14, 4}, {20, 0}, {21, 1}, {23, 3}, {24, 0}, {24, 4}};
  EXPECT_EQ(fired, expected);
  fired.clear();
  b.fire_timers(TimeDomain::kEventTime, 25, [&](Timestamp t) { fired.emplace_back(t, 0); });
  EXPECT_TRUE(fired.empty());
  EXPECT_EQ(b.timers().size(), 5u);
}

// Fills a backend with value, map and list state and timers for keys 0..n-1.
void fill(Backend& b, uint64_t n) {
  auto v = make_state<ValueState<std::string>>(b, "v");
  auto m = make_state<MapState<int64_t, double>>(b, "m", StateTtl{.ttl = 1'000'000});
  auto l = make_state<ListState<int64_t>>(b, "l");
  b.scope().processing_now = 1000;
  for (uint64_t k = 0; k < n; ++k) {
    b.set_current_key(k);
    v.update("value of " + std::to_string(k));
    if (k % 2 == 0) m.put(static_cast<int64_t>(k), k * 0.5);
    for (uint64_t i = 0; i < k % 4; ++i) l.add(static_cast<int64_t>(i));
    if (k % 3 == 0) b.add_timer(TimeDomain::kEventTime, static_cast<Timestamp>(k));
    if (k % 5 == 0) b.add_timer(TimeDomain::kProcessingTime, static_cast<Timestamp>(k) + 7);
  }
}

struct Dump {
  std::map<uint64_t, std::string> values;
  std::map<uint64_t, std::vector<std::pair<int64_t, double>>> maps;
  std::map<uint64_t, std::vector<int64_t>> lists;
  std::multimap<uint64_t, std::pair<int, Timestamp>> timers;
  bool operator==(const Dump&) const = default;
};

Dump dump(Backend& b) {
  auto v = make_state<ValueState<std::string>>(b, "v");
  auto m = make_state<MapState<int64_t, double>>(b, "m", StateTtl{.ttl = 1'000'000});
  auto l = make_state<ListState<int64_t>>(b, "l");
  Dump d;
  for (uint64_t k = 0; k < 600; ++k) {  // every key fill() may have written
    b.set_current_key(k);
    if (auto x = v.value()) d.values[k] = *x;
    m.for_each([&](int64_t mk, double mv) { d.maps[k].emplace_back(mk, mv); });
    std::sort(d.maps[k].begin(), d.maps[k].end());
    if (d.maps[k].empty()) d.maps.erase(k);
    if (!l.empty()) d.lists[k] = l.get();
  }
  for (TimeDomain dom : {TimeDomain::kEventTime, TimeDomain::kProcessingTime}) {
    std::as_const(b.timers()).queue(dom).for_each([&](Timestamp t, uint32_t slot) {
      d.timers.emplace(b.keys().key_of(slot), std::make_pair(static_cast<int>(dom), t));
    });
  }
  return d;
}

TEST_P(KeyedStateTest, SnapshotPerKeyGroupRestoresAtAnotherParallelism) {
  constexpr int kMaxParallelism = 16;
  auto original_owner = make(kMaxParallelism);
  Backend& original = *original_owner;
  fill(original, 500);
  const Dump expected = dump(original);

  std::vector<std::vector<char>> groups(kMaxParallelism);
  for (int g = 0; g < kMaxParallelism; ++g) {
    StateWriter w(&groups[g]);
    original.snapshot(g, w);
  }
  // Round trip into one backend.
  auto whole_owner = make(kMaxParallelism);
  Backend& whole = *whole_owner;
  fill(whole, 0);  // creates the states, as open() would
  for (int g = 0; g < kMaxParallelism; ++g) {
    StateReader r(groups[g]);
    ASSERT_TRUE(whole.restore(g, r).is_ok());
    EXPECT_TRUE(r.at_end());
  }
  EXPECT_EQ(dump(whole), expected);

  // Two subtasks, each restoring the key groups it owns.
  std::unique_ptr<Backend> sub[2] = {make(kMaxParallelism), make(kMaxParallelism)};
  for (auto& s : sub) fill(*s, 0);
  for (int g = 0; g < kMaxParallelism; ++g) {
    Backend& owner = *sub[detail::subtask_of_key_group(g, kMaxParallelism, 2)];
    StateReader r(groups[g]);
    ASSERT_TRUE(owner.restore(g, r).is_ok());
  }
  Dump d0 = dump(*sub[0]), d1 = dump(*sub[1]);
  EXPECT_FALSE(d0.values.empty());
  EXPECT_FALSE(d1.values.empty());
  Dump merged = d0;
  merged.values.insert(d1.values.begin(), d1.values.end());
  merged.maps.insert(d1.maps.begin(), d1.maps.end());
  merged.lists.insert(d1.lists.begin(), d1.lists.end());
  merged.timers.insert(d1.timers.begin(), d1.timers.end());
  EXPECT_EQ(merged, expected);
  for (const auto& [k, v] : d0.values) {
    EXPECT_EQ(detail::subtask_of_key_group(
                  detail::key_group_of(detail::hash_key(k), kMaxParallelism), kMaxParallelism, 2),
              0);
  }
}

TEST_P(KeyedStateTest, RestoreRejectsMalformedSnapshots) {
  auto original_owner = make(8);
  Backend& original = *original_owner;
  fill(original, 50);
  std::vector<char> bytes;
  StateWriter w(&bytes);
  original.snapshot(3, w);

  auto target_owner = make(8);
  Backend& target = *target_owner;
  fill(target, 0);
  std::vector<char> truncated(bytes.begin(), bytes.end() - 5);
  StateReader r1(truncated);
  EXPECT_FALSE(target.restore(3, r1).is_ok());

  StateReader r2(bytes);
  EXPECT_FALSE(target.restore(4, r2).is_ok());  // keys of group 3 are not group 4's

  auto no_states = make(8);
  StateReader r3(bytes);
  Status s = no_states->restore(3, r3);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("'v'"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace sluice
