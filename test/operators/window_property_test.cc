// Randomized property tests of the window state machinery against brute-force oracles.
//
// Each case is a random script: out-of-order rows in random batches, watermarks at random delays
// behind the highest time seen, a random allowed lateness, the late side output attached or not.
// The oracle replays the script with the rules of sluice/window.h written the slow, obvious way;
// results (with their firing kind), late rows and counters must match exactly, and every row
// must be in a result, in the late output or counted as dropped.
#include <algorithm>
#include <cstdint>
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

constexpr int kCasesPerWindowType = 4000;

struct Script {
  std::vector<Step> steps;
  int64_t rows = 0;
  int64_t value_total = 0;
};

Script random_script(std::mt19937_64& rng) {
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  Script s;
  const int64_t n = uniform(1, 120);
  const int64_t keys = uniform(1, 4);
  const int64_t disorder = uniform(0, 25);
  const int64_t max_delay = uniform(0, 30);
  int64_t base = uniform(-60, 60);
  Timestamp max_seen = kMinTimestamp, last_wm = kMinTimestamp;
  int64_t i = 0;
  while (i < n) {
    Step batch;
    const int64_t size = std::min(n - i, uniform(1, 8));
    for (int64_t j = 0; j < size; ++j, ++i) {
      base += uniform(0, 3);
      Event e{static_cast<uint64_t>(uniform(1, keys)), base - uniform(0, disorder), uniform(1, 9)};
      max_seen = std::max(max_seen, e.time);
      s.value_total += e.value;
      batch.rows.push_back(e);
    }
    s.steps.push_back(std::move(batch));
    s.rows += size;
    if (uniform(0, 1) == 0) {
      const Timestamp wm = max_seen - uniform(0, max_delay);
      if (wm > last_wm) {
        last_wm = wm;
        s.steps.push_back(Step{true, wm, {}});
      }
    }
  }
  return s;
}

// What the oracle expects: every result in emission-independent order, and the late rows.
struct Expected {
  std::vector<Result> results;
  std::vector<Event> late;
};

// Tumbling (slide == size) and hopping windows, by enumeration of (key, window start).
Expected pane_oracle(const Script& script, int64_t size, int64_t slide, int64_t lateness) {
  Expected x;
  std::map<std::pair<uint64_t, Timestamp>, int64_t> windows;  // (key, start) -> sum
  Timestamp wm = kMinTimestamp;
  auto fire_up_to = [&](Timestamp new_wm) {
    for (auto& [kw, sum] : windows) {
      const Timestamp end = kw.second + size;
      if (end - 1 > wm && end - 1 <= new_wm) {
        x.results.push_back(Result{kw.first, kw.second, end, sum, Firing::kOnTime});
      }
    }
    wm = new_wm;
  };
  for (const Step& step : script.steps) {
    if (step.is_watermark) {
      if (step.watermark > wm) fire_up_to(step.watermark);
      continue;
    }
    for (const Event& e : step.rows) {
      bool accepted = false;
      for (Timestamp start = detail::floor_to(e.time, slide); start > e.time - size;
           start -= slide) {
        const Timestamp end = start + size;
        if (end - 1 + lateness <= wm) continue;
        accepted = true;
        int64_t& sum = windows[{e.key, start}];
        sum += e.value;
        if (end - 1 <= wm) x.results.push_back(Result{e.key, start, end, sum, Firing::kLate});
      }
      if (!accepted) x.late.push_back(e);
    }
  }
  fire_up_to(kMaxTimestamp);
  return x;
}

Expected session_oracle(const Script& script, int64_t gap, int64_t lateness) {
  struct S {
    Timestamp start, end;
    int64_t sum;
    bool fired;
  };
  Expected x;
  std::map<uint64_t, std::vector<S>> sessions;
  Timestamp wm = kMinTimestamp;
  auto advance = [&](Timestamp new_wm) {
    wm = new_wm;
    for (auto& [key, list] : sessions) {
      for (S& s : list) {
        if (!s.fired && s.end - 1 <= wm) {
          x.results.push_back(Result{key, s.start, s.end, s.sum, Firing::kOnTime});
          s.fired = true;
        }
      }
      std::erase_if(list, [&](const S& s) { return s.end - 1 + lateness <= wm; });
    }
  };
  for (const Step& step : script.steps) {
    if (step.is_watermark) {
      if (step.watermark > wm) advance(step.watermark);
      continue;
    }
    for (const Event& e : step.rows) {
      std::vector<S>& list = sessions[e.key];
      S merged{e.time, e.time + gap, e.value, false};
      bool overlapped = false;
      // Merge until nothing overlaps (merging is transitive).
      for (bool again = true; again;) {
        again = false;
        for (size_t i = 0; i < list.size(); ++i) {
          if (list[i].start < merged.end && merged.start < list[i].end) {
            merged.start = std::min(merged.start, list[i].start);
            merged.end = std::max(merged.end, list[i].end);
            merged.sum += list[i].sum;
            list.erase(list.begin() + static_cast<ptrdiff_t>(i));
            overlapped = again = true;
            break;
          }
        }
      }
      if (!overlapped && merged.end - 1 + lateness <= wm) {
        x.late.push_back(e);
        continue;
      }
      merged.fired = merged.end - 1 <= wm;
      if (merged.fired) {
        x.results.push_back(Result{e.key, merged.start, merged.end, merged.sum, Firing::kLate});
      }
      list.push_back(merged);
    }
  }
  advance(kMaxTimestamp);
  return x;
}

Expected count_oracle(const Script& script, int64_t n) {
  struct G {
    int64_t rows = 0, sum = 0;
    Timestamp first = kMaxTimestamp, last = kMinTimestamp;
  };
  Expected x;
  std::map<uint64_t, G> groups;
  for (const Step& step : script.steps) {
    for (const Event& e : step.rows) {
      G& g = groups[e.key];
      ++g.rows;
      g.sum += e.value;
      g.first = std::min(g.first, e.time);
      g.last = std::max(g.last, e.time);
      if (g.rows == n) {
        x.results.push_back(Result{e.key, g.first, g.last + 1, g.sum, Firing::kOnTime});
        g = G{};
      }
    }
  }
  for (auto& [key, g] : groups) {
    if (g.rows > 0) x.results.push_back(Result{key, g.first, g.last + 1, g.sum, Firing::kOnTime});
  }
  return x;
}

template <typename State>
void check_case(State state, const Script& script, const Expected& expected, bool late_output,
                uint64_t seed) {
  detail::WindowConfig config;
  WindowHarness<State> h(std::move(state), config, late_output, 1 + seed % 5);
  h.run(script.steps);
  h.end();
  std::vector<Result> got = h.out().rows;
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(h.out().times[i], got[i].window_end - 1) << "seed " << seed;
  }
  std::vector<Result> want = expected.results;
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  ASSERT_EQ(got, want) << "seed " << seed;

  const WindowCounters& c = h.op().counters();
  ASSERT_EQ(c.rows, static_cast<uint64_t>(script.rows));
  if (late_output) {
    std::vector<Event> late = h.late().rows;
    for (size_t i = 0; i < late.size(); ++i) ASSERT_EQ(h.late().times[i], late[i].time);
    std::vector<Event> want_late = expected.late;
    std::sort(late.begin(), late.end());
    std::sort(want_late.begin(), want_late.end());
    ASSERT_EQ(late, want_late) << "seed " << seed;
    ASSERT_EQ(c.late_to_side_output, want_late.size());
    ASSERT_EQ(c.late_dropped, 0u);
  } else {
    ASSERT_TRUE(h.late().rows.empty());
    ASSERT_EQ(c.late_dropped, expected.late.size()) << "seed " << seed;
  }
  ASSERT_EQ(c.results_on_time + c.results_late, got.size());
  ASSERT_EQ(h.op().state().entries(), 0u) << "state left after the end, seed " << seed;
}

// Every row is in exactly one window's final value (windows are disjoint), or late.
void check_conservation(const Script& script, const Expected& expected) {
  std::map<std::tuple<uint64_t, Timestamp, Timestamp>, int64_t> latest;
  for (const Result& r : expected.results) latest[{r.key, r.window_start, r.window_end}] = r.value;
  int64_t total = 0;
  for (auto& [w, v] : latest) total += v;
  for (const Event& e : expected.late) total += e.value;
  ASSERT_EQ(total, script.value_total);
}

TEST(WindowPropertyTest, TumblingMatchesOracle) {
  size_t late_rows = 0, late_updates = 0;
  for (uint64_t seed = 0; seed < kCasesPerWindowType; ++seed) {
    std::mt19937_64 rng(seed);
    const Script script = random_script(rng);
    const int64_t size = std::uniform_int_distribution<int64_t>(1, 20)(rng);
    const int64_t lateness = std::uniform_int_distribution<int64_t>(0, 2)(rng) * (seed % 17);
    const Expected expected = pane_oracle(script, size, size, lateness);
    late_rows += expected.late.size();
    for (const Result& r : expected.results) late_updates += r.firing == Firing::kLate;
    check_conservation(script, expected);
    check_case(detail::PaneWindows<uint64_t, SumAgg>(SumAgg{}, size, size, lateness), script,
               expected, seed % 2 == 0, seed);
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(late_rows, 1000u);  // the scripts do exercise both kinds of lateness
  EXPECT_GT(late_updates, 1000u);
}

TEST(WindowPropertyTest, HoppingMatchesOracle) {
  for (uint64_t seed = 0; seed < kCasesPerWindowType; ++seed) {
    std::mt19937_64 rng(seed + 1'000'000);
    const Script script = random_script(rng);
    const int64_t slide = std::uniform_int_distribution<int64_t>(1, 10)(rng);
    const int64_t size = std::uniform_int_distribution<int64_t>(slide, 30)(rng);
    const int64_t lateness = std::uniform_int_distribution<int64_t>(0, 2)(rng) * (seed % 17);
    const Expected expected = pane_oracle(script, size, slide, lateness);
    check_case(detail::PaneWindows<uint64_t, SumAgg>(SumAgg{}, size, slide, lateness), script,
               expected, seed % 2 == 0, seed);
    if (HasFatalFailure()) return;
  }
}

TEST(WindowPropertyTest, SessionMatchesOracle) {
  int merges = 0;
  for (uint64_t seed = 0; seed < kCasesPerWindowType; ++seed) {
    std::mt19937_64 rng(seed + 2'000'000);
    const Script script = random_script(rng);
    const int64_t gap = std::uniform_int_distribution<int64_t>(1, 20)(rng);
    const int64_t lateness = std::uniform_int_distribution<int64_t>(0, 2)(rng) * (seed % 17);
    const Expected expected = session_oracle(script, gap, lateness);
    for (const Result& r : expected.results) merges += r.firing == Firing::kLate;
    check_case(detail::SessionWindows<uint64_t, SumAgg>(SumAgg{}, gap, lateness), script, expected,
               seed % 2 == 0, seed);
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(merges, 100);  // the scripts do exercise late updates of sessions
}

TEST(WindowPropertyTest, GlobalCountMatchesOracle) {
  for (uint64_t seed = 0; seed < kCasesPerWindowType; ++seed) {
    std::mt19937_64 rng(seed + 3'000'000);
    const Script script = random_script(rng);
    const int64_t n = std::uniform_int_distribution<int64_t>(1, 6)(rng);
    const Expected expected = count_oracle(script, n);
    int64_t total = 0;  // each group fires once: every row is in exactly one result
    for (const Result& r : expected.results) total += r.value;
    ASSERT_EQ(total, script.value_total);
    check_case(detail::CountWindows<uint64_t, SumAgg>(SumAgg{}, n), script, expected, seed % 2 == 0,
               seed);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace sluice::testing
