// Triggers (early firing, count, processing time) and snapshot/restore of window state.
#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "operators/window_test_util.h"
#include "sluice/detail/count_windows.h"
#include "sluice/detail/pane_windows.h"
#include "sluice/detail/session_windows.h"
#include "sluice/detail/window_functions.h"

namespace sluice::testing {
namespace {

using Result = WindowResult<uint64_t, int64_t>;
using SumAgg = detail::SumAgg<uint64_t, Event, EventValue>;
using Tumbling = detail::PaneWindows<uint64_t, SumAgg>;

Step rows(std::vector<Event> r) { return Step{false, 0, std::move(r)}; }
Step watermark(Timestamp w) { return Step{true, w, {}}; }

TEST(WindowTriggerTest, EarlyFiringOnEventTimeEmitsUpdatesThenFinal) {
  detail::WindowConfig config;
  config.early_every = 5;
  WindowHarness<Tumbling> h(Tumbling(SumAgg{}, 10, 10, 0), config, false);
  h.run({rows({{1, 1, 1}, {1, 2, 1}}), watermark(3),  // first watermark: early 2
         rows({{1, 6, 1}}), watermark(5),             // crosses 5: early 3
         rows({{1, 8, 1}}), watermark(7),             // no multiple of 5 crossed
         watermark(9)});                              // closes [0, 10): final 4
  EXPECT_EQ(h.out().rows, (std::vector<Result>{{1, 0, 10, 2, Firing::kEarly},
                                               {1, 0, 10, 3, Firing::kEarly},
                                               {1, 0, 10, 4, Firing::kOnTime}}));
  EXPECT_FALSE(h.out().rows[0].is_final());
  EXPECT_TRUE(h.out().rows[2].is_final());
}

TEST(WindowTriggerTest, EarlyFiringRandomizedFinalValuesUnchanged) {
  // Early results never change the final ones, and each early value precedes its window's final.
  for (uint64_t seed = 0; seed < 500; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<Step> steps;
    Timestamp t = 0;
    for (int b = 0; b < 30; ++b) {
      Step s;
      for (int i = 0; i < 5; ++i) s.rows.push_back(Event{rng() % 3, t += rng() % 4, 1});
      steps.push_back(s);
      steps.push_back(watermark(t - 1));
    }
    detail::WindowConfig early;
    early.early_every = 1 + static_cast<int64_t>(rng() % 7);
    WindowHarness<Tumbling> a(Tumbling(SumAgg{}, 8, 8, 0), early, false);
    WindowHarness<Tumbling> b(Tumbling(SumAgg{}, 8, 8, 0), detail::WindowConfig{}, false);
    a.run(steps);
    a.end();
    b.run(steps);
    b.end();
    std::vector<Result> finals;
    std::map<std::tuple<uint64_t, Timestamp>, int64_t> last_early;
    for (const Result& r : a.out().rows) {
      int64_t& previous = last_early[std::make_tuple(r.key, r.window_start)];
      EXPECT_GE(r.value, previous);
      if (r.firing == Firing::kEarly) {
        previous = r.value;
      } else {
        finals.push_back(r);
      }
    }
    std::vector<Result> want = b.out().rows;
    std::sort(finals.begin(), finals.end());
    std::sort(want.begin(), want.end());
    ASSERT_EQ(finals, want) << "seed " << seed;
    EXPECT_FALSE(last_early.empty());
  }
}

Timestamp g_fake_now = 0;
Timestamp fake_clock() { return g_fake_now; }

TEST(WindowTriggerTest, EarlyFiringOnProcessingTime) {
  detail::WindowConfig config;
  config.early_every = 100;
  config.early_domain = TimeDomain::kProcessingTime;
  config.early_clock = &fake_clock;
  g_fake_now = 1000;
  WindowHarness<Tumbling> h(Tumbling(SumAgg{}, 10, 10, 0), config, false);
  h.run({rows({{1, 1, 5}})});  // first check fires at once
  g_fake_now = 1050;
  h.run({rows({{1, 2, 5}})});  // not yet
  g_fake_now = 1100;
  h.run({rows({{1, 3, 5}}), watermark(20)});
  EXPECT_EQ(h.out().rows, (std::vector<Result>{{1, 0, 10, 5, Firing::kEarly},
                                               {1, 0, 10, 15, Firing::kEarly},
                                               {1, 0, 10, 15, Firing::kOnTime}}));
}

TEST(WindowTriggerTest, CountTriggerFiresEveryNRowsThenFinal) {
  using Counting = detail::CountingAgg<SumAgg>;
  using State = detail::PaneWindows<uint64_t, Counting>;
  detail::WindowConfig config;
  config.count_every = 2;
  WindowHarness<State> h(State(Counting{}, 100, 100, 0), config, false);
  h.run({rows({{1, 1, 1}, {1, 2, 1}, {2, 3, 7}, {1, 4, 1}, {1, 5, 1}, {1, 6, 1}}), watermark(99)});
  std::sort(h.out().rows.begin() + 2, h.out().rows.end());  // the final ones: in table order
  EXPECT_EQ(h.out().rows, (std::vector<Result>{{1, 0, 100, 2, Firing::kEarly},
                                               {1, 0, 100, 4, Firing::kEarly},
                                               {1, 0, 100, 5, Firing::kOnTime},
                                               {2, 0, 100, 7, Firing::kOnTime}}));
}

TEST(WindowTriggerTest, ProcessingTimeWindowsUseTheOperatorClock) {
  detail::WindowConfig config;
  config.processing_time = true;
  config.clock = &fake_clock;
  g_fake_now = 5;
  WindowHarness<Tumbling> h(Tumbling(SumAgg{}, 10, 10, 0), config, false);
  h.run({rows({{1, 999, 1}, {1, -5, 1}})});  // event times are ignored: both in [0, 10)
  g_fake_now = 9;
  h.run({rows({{1, 0, 1}})});
  EXPECT_TRUE(h.out().rows.empty());
  g_fake_now = 10;
  h.run({watermark(0)});  // the clock is read on watermarks too
  g_fake_now = 12;
  h.run({rows({{1, 0, 1}})});
  h.end();  // the end of input fires what is left
  EXPECT_EQ(h.out().rows,
            (std::vector<Result>{{1, 0, 10, 3, Firing::kOnTime}, {1, 10, 20, 1, Firing::kOnTime}}));
}

// Snapshot halfway, restore into two fresh operators split by key group (as a restart with
// parallelism 2 would), continue: together they emit what the uninterrupted operator emits.
template <typename State, typename MakeState>
void check_snapshot_round_trip(MakeState make_state, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Step> before, after;
  Timestamp t = 0;
  for (int b = 0; b < 40; ++b) {
    Step s;
    for (int i = 0; i < 6; ++i) {
      s.rows.push_back(Event{rng() % 50, t - static_cast<int64_t>(rng() % 5),
                             static_cast<int64_t>(1 + rng() % 9)});
      t += static_cast<int64_t>(rng() % 3);
    }
    (b < 20 ? before : after).push_back(s);
    (b < 20 ? before : after).push_back(watermark(t - 6));
  }
  WindowHarness<State> whole(make_state(), detail::WindowConfig{}, true);
  whole.run(before);
  const size_t emitted_before = whole.out().rows.size();

  constexpr int kMaxParallelism = 128;
  WindowHarness<State> low(make_state(), detail::WindowConfig{}, true);
  WindowHarness<State> high(make_state(), detail::WindowConfig{}, true);
  low.op().state().restore_watermark(whole.op().state().watermark());
  high.op().state().restore_watermark(whole.op().state().watermark());
  size_t entries = 0;
  whole.op().state().for_each_entry(
      kMaxParallelism,
      [&](int group, const uint64_t& key, const Window& w, const auto& acc, auto... rest) {
        ASSERT_EQ(group, detail::key_group_of(detail::hash_key(key), kMaxParallelism));
        (group < kMaxParallelism / 2 ? low : high).op().state().restore_entry(key, w, acc, rest...);
        ++entries;
      });
  ASSERT_GT(entries, 0u);
  whole.run(after);
  whole.end();
  for (const Step& s : after) {
    Step lo = s, hi = s;
    std::erase_if(lo.rows, [&](const Event& e) {
      return detail::key_group_of(detail::hash_key(e.key), kMaxParallelism) >= 64;
    });
    std::erase_if(hi.rows, [&](const Event& e) {
      return detail::key_group_of(detail::hash_key(e.key), kMaxParallelism) < 64;
    });
    low.run({lo});
    high.run({hi});
  }
  low.end();
  high.end();
  auto want = std::vector(whole.out().rows.begin() + static_cast<ptrdiff_t>(emitted_before),
                          whole.out().rows.end());
  auto got = low.out().rows;
  got.insert(got.end(), high.out().rows.begin(), high.out().rows.end());
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want) << "seed " << seed;
  EXPECT_FALSE(got.empty());
}

TEST(WindowSnapshotTest, RoundTripByKeyGroup) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    check_snapshot_round_trip<Tumbling>([] { return Tumbling(SumAgg{}, 10, 10, 5); }, seed);
    using Hop = detail::PaneWindows<uint64_t, SumAgg>;
    check_snapshot_round_trip<Hop>([] { return Hop(SumAgg{}, 12, 4, 3); }, seed);
    using Sess = detail::SessionWindows<uint64_t, SumAgg>;
    check_snapshot_round_trip<Sess>([] { return Sess(SumAgg{}, 7, 4); }, seed);
    using Count = detail::CountWindows<uint64_t, SumAgg>;
    check_snapshot_round_trip<Count>([] { return Count(SumAgg{}, 3); }, seed);
  }
}

}  // namespace
}  // namespace sluice::testing
