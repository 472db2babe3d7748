// Randomized tests of the event-time joins against a nested-loop oracle: random keys, random
// out-of-order times within the watermark bound (so nothing is late), every combination of
// parallelism and batch size. The result must be exactly the oracle's, whatever the
// parallelism and batching, and the state must be purged by the end.
#include <algorithm>
#include <atomic>
#include <memory>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "join_test_util.h"
#include "sluice/joins.h"
#include "sluice/sluice.h"

namespace {

using sluice::testing::TimedEvent;

struct Joined {
  int64_t left = 0;
  int64_t right = 0;
  friend auto operator<=>(const Joined&, const Joined&) = default;
};

struct Tumbling {  // the shape of sluice::Tumbling (sluice/window.h)
  sluice::Duration size;
};

constexpr size_t kRows = 6000;  // per side
constexpr uint64_t kKeys = 40;
constexpr int64_t kMaxDelay = 25;  // disorder, and the watermark bound
constexpr int64_t kLower = -7, kUpper = 4;
constexpr int64_t kWindow = 20;

// The pairs of equal keys for which `match(l, r)` holds, by nested loops within each key.
template <typename Match>
std::vector<Joined> oracle(const std::vector<TimedEvent>& left,
                           const std::vector<TimedEvent>& right, Match match) {
  std::vector<std::vector<const TimedEvent*>> by_key(kKeys);
  for (const TimedEvent& r : right) by_key[r.key].push_back(&r);
  std::vector<Joined> out;
  for (const TimedEvent& l : left) {
    for (const TimedEvent* r : by_key[l.key]) {
      if (match(l, *r)) out.push_back({l.id, r->id});
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

class EventTimeJoinTest : public ::testing::TestWithParam<std::tuple<int, size_t, uint32_t>> {
 protected:
  void SetUp() override {
    auto [parallelism, batch_size, seed] = GetParam();
    options_.parallelism = parallelism;
    options_.batch_size = batch_size;
    // Different rates on the two sides, times crossing the epoch.
    left_ = std::make_shared<const std::vector<TimedEvent>>(
        sluice::testing::out_of_order_events(kRows, kKeys, -300, 3, kMaxDelay, seed));
    right_ = std::make_shared<const std::vector<TimedEvent>>(
        sluice::testing::out_of_order_events(kRows, kKeys, -300, 2, kMaxDelay, seed * 7 + 1));
  }

  // The two sides as keyed streams with event times.
  auto keyed(sluice::Environment& env, std::shared_ptr<const std::vector<TimedEvent>> rows) {
    return env.generate(rows->size(), [rows](uint64_t i) { return (*rows)[i]; })
        .assign_timestamps([](const TimedEvent& e) { return e.time; }, kMaxDelay)
        .key_by([](const TimedEvent& e) { return e.key; });
  }

  sluice::JobOptions options_;
  std::shared_ptr<const std::vector<TimedEvent>> left_;
  std::shared_ptr<const std::vector<TimedEvent>> right_;
};

TEST_P(EventTimeJoinTest, IntervalJoinMatchesTheOracle) {
  sluice::Environment env(options_);
  sluice::JoinMetrics metrics;
  std::vector<Joined> out;
  keyed(env, left_)
      .interval_join(keyed(env, right_), kLower, kUpper,
                     [](const TimedEvent& l, const TimedEvent& r) {
                       return Joined{l.id, r.id};
                     },
                     {.metrics = &metrics})
      .sink(sluice::sinks::collect(&out));
  sluice::Status s = env.execute();
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  std::sort(out.begin(), out.end());
  auto expected = oracle(*left_, *right_, [](const TimedEvent& l, const TimedEvent& r) {
    return l.time + kLower <= r.time && r.time <= l.time + kUpper;
  });
  ASSERT_GT(expected.size(), kRows / 2);
  EXPECT_EQ(out, expected);
  EXPECT_EQ(metrics.late_rows.load(), 0);
  EXPECT_EQ(metrics.rows_held_at_end.load(), 0);
}

TEST_P(EventTimeJoinTest, WindowJoinMatchesTheOracle) {
  sluice::Environment env(options_);
  sluice::JoinMetrics metrics;
  std::vector<Joined> out;
  keyed(env, left_)
      .window_join(keyed(env, right_), Tumbling{kWindow},
                   [](const TimedEvent& l, const TimedEvent& r) {
                     return Joined{l.id, r.id};
                   },
                   {.metrics = &metrics})
      .sink(sluice::sinks::collect(&out));
  sluice::Status s = env.execute();
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  std::sort(out.begin(), out.end());
  auto window = [](int64_t t) { return sluice::detail::floor_div(t, kWindow); };
  auto expected = oracle(*left_, *right_, [&](const TimedEvent& l, const TimedEvent& r) {
    return window(l.time) == window(r.time);
  });
  ASSERT_GT(expected.size(), kRows / 2);
  EXPECT_EQ(out, expected);
  EXPECT_EQ(metrics.late_rows.load(), 0);
  EXPECT_EQ(metrics.rows_held_at_end.load(), 0);
}

// A row of either side, from one source, so that the two sides advance together (two
// independent sources can run far apart, and the join must then hold the faster one).
struct Tagged {
  bool left = false;
  TimedEvent event;
};

// While the job runs, the state holds about what the interval and the disorder cover, not the
// input: rows are purged as the watermark passes them.
TEST(EventTimeJoinStateTest, StateStaysSmallWhileTheJobRuns) {
  for (int parallelism : {1, 2}) {
    sluice::JobOptions options;
    options.parallelism = parallelism;
    options.batch_size = 7;
    sluice::Environment env(options);
    auto rows = std::make_shared<const std::vector<TimedEvent>>(
        sluice::testing::out_of_order_events(4 * kRows, kKeys, 0, 4, kMaxDelay, 3));
    auto both = env.generate(rows->size(),
                             [rows](uint64_t i) {
                               return Tagged{i % 2 == 0, (*rows)[i]};
                             })
                    .assign_timestamps([](const Tagged& t) { return t.event.time; }, kMaxDelay);
    auto side = [&](bool left) {
      return both.filter([left](const Tagged& t) { return t.left == left; })
          .map([](const Tagged& t) { return t.event; })
          .key_by([](const TimedEvent& e) { return e.key; });
    };
    sluice::JoinMetrics metrics;
    std::atomic<uint64_t> count{0};
    side(true)
        .interval_join(side(false), kLower, kUpper,
                       [](const TimedEvent& l, const TimedEvent& r) {
                         return Joined{l.id, r.id};
                       },
                       {.metrics = &metrics})
        .sink(sluice::sinks::count<Joined>(&count));
    sluice::Status s = env.execute();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    EXPECT_GT(count.load(), 0u);
    EXPECT_EQ(metrics.late_rows.load(), 0);
    EXPECT_EQ(metrics.rows_held_at_end.load(), 0);
    EXPECT_GT(metrics.peak_rows_held.load(), 0);
    EXPECT_LT(metrics.peak_rows_held.load(), static_cast<int64_t>(rows->size()) / 10)
        << "parallelism " << parallelism;
  }
}

INSTANTIATE_TEST_SUITE_P(All, EventTimeJoinTest,
                         ::testing::Combine(::testing::Values(1, 2, 4),
                                            ::testing::Values(size_t{1}, size_t{7}, size_t{1024}),
                                            ::testing::Values(1u, 2u, 3u)));

}  // namespace
