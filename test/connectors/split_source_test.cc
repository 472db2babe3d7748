// The split source (detail/split_source.h) on its own: splits assigned and revoked between polls,
// checkpoints restored at other parallelisms, turn order, and per-split watermarks and idleness.
// The test source's splits are counters: split "sK" makes the rows (K, 0), (K, 1)… up to its
// length, its position being the next sequence number.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "operators/window_test_util.h"
#include "sluice/detail/processing_clock.h"
#include "sluice/detail/split_source.h"
#include "sluice/state_serializer.h"

namespace sluice {
namespace {

struct Row {
  int split = 0;
  uint64_t seq = 0;
  int64_t time = 0;
  bool operator<(const Row& o) const { return std::tie(split, seq) < std::tie(o.split, o.seq); }
  bool operator==(const Row& o) const { return split == o.split && seq == o.seq; }
};

struct Script {
  uint64_t length = 0;    // rows of each split
  uint64_t chunk = 0;     // rows a read returns at most (0: up to the limit)
  int64_t time_step = 1;  // event time of row (K, n): base[K] + n * time_step
  std::map<int, int64_t> base;
  std::set<int> empty_now;  // splits that have nothing to read now
};

Script script_of(uint64_t length, uint64_t chunk = 0, int64_t time_step = 1,
                 std::map<int, int64_t> base = {}) {
  Script s;
  s.length = length;
  s.chunk = chunk;
  s.time_step = time_step;
  s.base = std::move(base);
  return s;
}

class CounterReader final : public detail::SplitReader<Row> {
 public:
  CounterReader(int split, uint64_t next, const Script* script)
      : split_(split), next_(next), script_(script) {}
  detail::SplitStatus read(detail::RowVector<Row>& rows, size_t& used, size_t limit) override {
    if (script_->empty_now.count(split_) > 0) return detail::SplitStatus::kNothingNow;
    size_t n = 0;
    while (used < limit && next_ < script_->length) {
      if (script_->chunk > 0 && n == script_->chunk) return detail::SplitStatus::kMore;
      const auto base = script_->base.count(split_) ? script_->base.at(split_) : 0;
      Row row{split_, next_, base + static_cast<int64_t>(next_) * script_->time_step};
      if (used < rows.size()) {
        rows[used] = row;
      } else {
        rows.push_back(row);
      }
      ++used, ++next_, ++n;
    }
    return next_ < script_->length ? detail::SplitStatus::kMore : detail::SplitStatus::kEnd;
  }
  void position(std::vector<char>& out) const override { StateWriter(&out).write(next_); }

 private:
  int split_;
  uint64_t next_;
  const Script* script_;
};

class CounterSource final : public detail::SplitSource<Row> {
 public:
  CounterSource(Options options, std::vector<std::string> listed, const Script* script)
      : SplitSource<Row>(options), listed_(std::move(listed)), script_(script) {}

 protected:
  std::vector<std::string> list_splits() override { return listed_; }
  std::unique_ptr<detail::SplitReader<Row>> make_reader(const detail::SourceSplit& s) override {
    uint64_t next = 0;
    if (!s.position.empty()) StateReader(s.position).read(next);
    return std::make_unique<CounterReader>(std::stoi(s.id.substr(1)), next, script_);
  }

 private:
  std::vector<std::string> listed_;
  const Script* script_;
};

using Out = testing::CollectOutput<Row>;

std::vector<std::string> ids(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) {
    std::string id = std::to_string(i);
    id.insert(id.begin(), 's');
    v.push_back(std::move(id));
  }
  return v;
}

std::unique_ptr<CounterSource> make(Out* out, const Script* script, int subtask, int parallelism,
                                    std::vector<std::string> listed,
                                    detail::SplitSourceBase::Options options = {},
                                    size_t batch_size = 7) {
  auto s = std::make_unique<CounterSource>(options, std::move(listed), script);
  s->set_info(detail::OperatorInfo{"counters", subtask, parallelism, 128, batch_size});
  s->set_output(out);
  s->open();
  return s;
}

// Every row of `n` splits of `length` rows, each once.
std::vector<Row> all_rows(int n, uint64_t length) {
  std::vector<Row> v;
  for (int k = 0; k < n; ++k) {
    for (uint64_t i = 0; i < length; ++i) v.push_back(Row{k, i, 0});
  }
  return v;
}

std::vector<Row> sorted(std::vector<Row> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(SplitSourceTest, AFirstStartDealsTheListedSplitsOut) {
  Script script = script_of(3);
  std::set<std::string> seen;
  for (int s = 0; s < 3; ++s) {
    Out out;
    auto source = make(&out, &script, s, 3, ids(7));
    for (const std::string& id : source->split_ids()) EXPECT_TRUE(seen.insert(id).second) << id;
  }
  EXPECT_EQ(seen.size(), 7u);
}

TEST(SplitSourceTest, AssignAndRevokeBetweenPollsKeepEveryRowOnce) {
  constexpr int kSplits = 6;
  Script script = script_of(50, 4);
  detail::SplitSourceBase::Options options;
  options.bounded = false;  // a subtask left without splits waits for more
  options.batches_per_turn = 1;
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    Out out[2];
    std::unique_ptr<CounterSource> sub[2] = {make(&out[0], &script, 0, 2, ids(kSplits), options),
                                             make(&out[1], &script, 1, 2, ids(kSplits), options)};
    for (int step = 0; step < 400; ++step) {
      const int from = static_cast<int>(rng() % 2);
      if (rng() % 3 == 0) {
        std::vector<std::string> held = sub[from]->split_ids();
        if (held.empty()) continue;
        const std::string id = held[rng() % held.size()];
        Result<detail::SourceSplit> moved = sub[from]->revoke(id);
        ASSERT_TRUE(moved.is_ok()) << moved.status().to_string();
        EXPECT_FALSE(sub[from]->revoke(id).is_ok());  // no longer held
        ASSERT_TRUE(sub[1 - from]->assign(*moved).is_ok());
        EXPECT_FALSE(sub[1 - from]->assign(*moved).is_ok());  // held already
      } else {
        sub[from]->poll(0);
      }
    }
    for (int s = 0; s < 2; ++s) {
      for (int i = 0; i < 200; ++i) sub[s]->poll(0);
    }
    std::vector<Row> got = out[0].rows;
    got.insert(got.end(), out[1].rows.begin(), out[1].rows.end());
    ASSERT_EQ(sorted(got), all_rows(kSplits, script.length)) << "seed " << seed;
  }
}

TEST(SplitSourceTest, ARevokedSplitMovesWithItsPositionMidway) {
  Script script = script_of(20);
  Out a, b;
  auto first = make(&a, &script, 0, 1, {"s0"});
  first->poll(0);  // rows 0..6
  Result<detail::SourceSplit> moved = first->revoke("s0");
  ASSERT_TRUE(moved.is_ok());
  EXPECT_FALSE(moved->finished);
  detail::SplitSourceBase::Options unbounded;
  unbounded.bounded = false;
  auto second = make(&b, &script, 0, 1, {}, unbounded);
  ASSERT_TRUE(second->assign(*moved).is_ok());
  while (!second->split_ids().empty() && second->poll(0) != detail::SourceState::kIdle) {
  }
  EXPECT_EQ(a.rows.size(), 7u);
  EXPECT_EQ(b.rows.size(), 13u);
  EXPECT_EQ(b.rows.front().seq, 7u);
  // A bounded subtask left without splits ends.
  EXPECT_EQ(first->poll(0), detail::SourceState::kEnd);
}

// Runs `parallelisms[0]` subtasks for a few polls each, checkpoints them all, restores at the
// next parallelism, and so on; the last run reads to the end. Every row exactly once.
void rescale(const std::vector<int>& parallelisms, uint32_t seed) {
  constexpr int kSplits = 5;
  Script script = script_of(40);
  std::mt19937 rng(seed);
  std::vector<Row> got;
  std::vector<std::vector<char>> states;
  for (size_t run = 0; run < parallelisms.size(); ++run) {
    const int p = parallelisms[run];
    std::vector<Out> outs(static_cast<size_t>(p));
    std::vector<std::vector<char>> next(static_cast<size_t>(p));
    for (int s = 0; s < p; ++s) {
      auto source = make(&outs[static_cast<size_t>(s)], &script, s, p, ids(kSplits));
      if (!states.empty()) {
        detail::OperatorRestore in;
        in.old_parallelism = static_cast<int>(states.size());
        in.operator_states = states;
        Status restored = source->restore_state(in);
        ASSERT_TRUE(restored.is_ok()) << restored.to_string();
      }
      const bool last = run + 1 == parallelisms.size();
      const int polls = last ? 1000 : static_cast<int>(rng() % 12);
      for (int i = 0; i < polls; ++i) {
        if (source->poll(0) == detail::SourceState::kEnd) break;
      }
      detail::OperatorSnapshot snap;
      source->snapshot_state(run + 1, snap);
      next[static_cast<size_t>(s)] = snap.operator_state;
      got.insert(got.end(), outs[static_cast<size_t>(s)].rows.begin(),
                 outs[static_cast<size_t>(s)].rows.end());
    }
    states = std::move(next);
  }
  EXPECT_EQ(sorted(got), all_rows(kSplits, script.length)) << "seed " << seed;
}

TEST(SplitSourceTest, ARestoreAtAnyParallelismReadsEveryRowOnce) {
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    rescale({2, 3, 1}, seed);
    rescale({3, 2, 2, 4}, seed);
    rescale({1, 5, 2}, seed);
  }
}

TEST(SplitSourceTest, TwoOldSubtasksHoldingOneSplitAreRefused) {
  Script script = script_of(5);
  Out out;
  auto a = make(&out, &script, 0, 1, {"s0"});
  detail::OperatorSnapshot snap;
  a->snapshot_state(1, snap);
  detail::OperatorRestore in;
  in.old_parallelism = 2;
  in.operator_states = {snap.operator_state, snap.operator_state};
  Status s = make(&out, &script, 0, 1, {"s0"})->restore_state(in);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("'counters'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("s0"), std::string::npos) << s.message();
}

TEST(SplitSourceTest, TurnsAreSequentialOrRoundRobin) {
  Script script = script_of(14);
  Out seq_out;
  auto seq = make(&seq_out, &script, 0, 1, ids(2));
  while (seq->poll(0) != detail::SourceState::kEnd) {
  }
  std::vector<int> order;
  for (const Row& r : seq_out.rows) order.push_back(r.split);
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));  // s0 to its end, then s1

  detail::SplitSourceBase::Options rr;
  rr.batches_per_turn = 1;
  Out rr_out;
  auto round = make(&rr_out, &script, 0, 1, ids(2), rr);
  while (round->poll(0) != detail::SourceState::kEnd) {
  }
  ASSERT_EQ(rr_out.rows.size(), 28u);
  EXPECT_EQ(rr_out.rows[6].split, 0);
  EXPECT_EQ(rr_out.rows[7].split, 1);  // the turn passed after one batch
}

TEST(SplitSourceTest, TheCheckpointNamesEachSplitsPosition) {
  Script script = script_of(20);
  Out out;
  auto source = make(&out, &script, 0, 1, ids(3));
  for (int i = 0; i < 4; ++i) source->poll(0);  // s0 done, s1 at 8
  detail::OperatorSnapshot snap;
  source->snapshot_state(1, snap);
  EXPECT_NE(snap.offsets.find("s1 "), std::string::npos) << snap.offsets;
  EXPECT_NE(snap.offsets.find("s2 at the start"), std::string::npos) << snap.offsets;
  EXPECT_NE(snap.offsets.find("1 finished"), std::string::npos) << snap.offsets;
  while (source->poll(0) != detail::SourceState::kEnd) {
  }
  detail::OperatorSnapshot end;
  source->snapshot_state(2, end);
  EXPECT_EQ(end.offsets, "at the end");
}

// Per-split watermarks: split s1 is 1,000 s behind s0 in event time.
struct RowTime {
  Timestamp operator()(const Row& r) const { return r.time; }
};

std::unique_ptr<CounterSource> with_event_time(Out* out, const Script* script,
                                               std::vector<std::string> listed,
                                               detail::SplitSourceBase::Options options,
                                               WatermarkStrategy<BoundedOutOfOrderness> strategy) {
  auto s = std::make_unique<CounterSource>(options, std::move(listed), script);
  s->set_info(detail::OperatorInfo{"counters", 0, 1, 128, 7});
  s->set_output(out);
  s->set_event_time(
      std::make_unique<detail::SplitTimestampsFor<Row, RowTime, BoundedOutOfOrderness>>(RowTime{},
                                                                                        strategy));
  s->open();
  return s;
}

TEST(SplitSourceTest, TheWatermarkIsTheMinimumOverTheSplits) {
  Script script = script_of(30, 0, 10, {{0, 1'000'000}, {1, 0}});
  detail::SplitSourceBase::Options rr;
  rr.batches_per_turn = 1;
  Out out;
  auto source = with_event_time(&out, &script, ids(2), rr, bounded_out_of_orderness(5));
  detail::SourceState state = detail::SourceState::kMore;
  while (state != detail::SourceState::kEnd) {
    const size_t seen = out.watermarks.size();
    state = source->poll(0);
    uint64_t s1_rows = 0;
    for (const Row& r : out.rows) s1_rows += r.split == 1 ? 1 : 0;
    if (s1_rows == script.length) continue;
    // No watermark passes the next row s1 still has to send: none of its rows is late.
    const Timestamp next_s1 = static_cast<Timestamp>(s1_rows) * script.time_step;
    for (size_t i = seen; i < out.watermarks.size(); ++i) {
      EXPECT_LT(out.watermarks[i], next_s1) << "the watermark passed split s1";
    }
  }
  source->on_end();
  ASSERT_GT(out.watermarks.size(), 2u);
  EXPECT_EQ(out.watermarks.back(), kMaxTimestamp);
  EXPECT_TRUE(std::is_sorted(out.watermarks.begin(), out.watermarks.end()));
  for (size_t i = 0; i < out.rows.size(); ++i) EXPECT_EQ(out.times[i], out.rows[i].time);
}

TEST(SplitSourceTest, ASplitNotReadYetHoldsTheWatermarkBack) {
  // Sequential turns: s0 (far ahead) is read to its end before s1 is opened.
  Script script = script_of(30, 0, 10, {{0, 1'000'000}, {1, 0}});
  Out out;
  auto source = with_event_time(&out, &script, ids(2), {}, bounded_out_of_orderness(5));
  for (int i = 0; i < 4; ++i) source->poll(0);  // 28 rows of s0
  EXPECT_TRUE(out.watermarks.empty());
  while (source->poll(0) != detail::SourceState::kEnd) {
  }
  ASSERT_FALSE(out.watermarks.empty());
  EXPECT_LT(out.watermarks.front(), 300);  // s1's own, once s0 is out
}

TEST(SplitSourceTest, ASplitWithNothingForTheIdleTimeoutIsLeftOut) {
  Script script = script_of(1000, 3, 10, {{0, 50'000}, {1, 0}});
  script.empty_now = {1};
  detail::SplitSourceBase::Options rr;
  rr.batches_per_turn = 1;
  rr.bounded = false;
  Out out;
  auto source =
      with_event_time(&out, &script, ids(2), rr, bounded_out_of_orderness(0).with_idleness(100));
  const int64_t t0 = detail::steady_now_us();
  source->poll(t0);
  source->poll(t0 + 10'000);
  EXPECT_TRUE(out.watermarks.empty()) << "s1 has nothing, but not for the timeout yet";
  source->poll(t0 + 200'000);
  ASSERT_FALSE(out.watermarks.empty());
  EXPECT_GE(out.watermarks.back(), 50'000);
  // Rows make it active again: it holds the watermark where it was.
  script.empty_now.clear();
  const size_t emitted = out.watermarks.size();
  for (int i = 0; i < 6; ++i) source->poll(t0 + 210'000 + i);
  EXPECT_EQ(out.watermarks.size(), emitted) << "s1 (time 0) is active again";
}

}  // namespace
}  // namespace sluice
