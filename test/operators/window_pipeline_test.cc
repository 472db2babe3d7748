// Windows through the whole runtime: results independent of parallelism and batch size, late
// rows in the side output or counted, every window function, and windows chained on windows.
#include <algorithm>
#include <map>
#include <mutex>
#include <span>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "operators/window_test_util.h"
#include "sluice/sluice.h"

namespace sluice::testing {
namespace {

using Result = WindowResult<uint64_t, int64_t>;

constexpr uint64_t kRows = 20'000;
constexpr uint64_t kKeys = 37;

// Out of order by up to 12 ms; the watermark bound (20 ms) keeps every row on time.
Event make_event(uint64_t i) {
  const int64_t t = static_cast<int64_t>(i / 4) + static_cast<int64_t>((i * 7919) % 13) - 6;
  return Event{(i * 2654435761u) % kKeys, t, static_cast<int64_t>(i % 10) + 1};
}

std::vector<Event> all_events() {
  std::vector<Event> v;
  for (uint64_t i = 0; i < kRows; ++i) v.push_back(make_event(i));
  return v;
}

std::map<std::tuple<uint64_t, Timestamp, Timestamp>, int64_t> time_window_sums(int64_t size,
                                                                               int64_t slide) {
  std::map<std::tuple<uint64_t, Timestamp, Timestamp>, int64_t> m;
  for (const Event& e : all_events()) {
    for (Timestamp s = detail::floor_to(e.time, slide); s > e.time - size; s -= slide) {
      m[{e.key, s, s + size}] += e.value;
    }
  }
  return m;
}

std::map<std::tuple<uint64_t, Timestamp, Timestamp>, int64_t> session_sums(int64_t gap) {
  std::map<uint64_t, std::vector<Event>> by_key;
  for (const Event& e : all_events()) by_key[e.key].push_back(e);
  std::map<std::tuple<uint64_t, Timestamp, Timestamp>, int64_t> m;
  for (auto& [key, events] : by_key) {
    std::sort(events.begin(), events.end(),
              [](const Event& a, const Event& b) { return a.time < b.time; });
    Timestamp start = events[0].time, last = events[0].time;
    int64_t sum = 0;
    for (const Event& e : events) {
      if (e.time >= last + gap) {
        m[{key, start, last + gap}] = sum;
        start = e.time;
        sum = 0;
      }
      last = std::max(last, e.time);
      sum += e.value;
    }
    m[{key, start, last + gap}] = sum;
  }
  return m;
}

class WindowParallelismTest : public ::testing::TestWithParam<std::tuple<int, size_t>> {
 protected:
  template <typename Build>
  std::vector<Result> run(Build build) {
    auto [parallelism, batch_size] = GetParam();
    JobOptions options;
    options.parallelism = parallelism;
    options.batch_size = batch_size;
    options.handle_signals = false;
    Environment env(options);
    std::vector<Result> out;
    auto keyed = env.generate(kRows, make_event)
                     .assign_timestamps([](const Event& e) { return e.time; }, 20)
                     .key_by(EventKey{});
    build(keyed).sink(sinks::collect(&out));
    Status s = env.execute();
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    return out;
  }
  static std::map<std::tuple<uint64_t, Timestamp, Timestamp>, int64_t> as_map(
      const std::vector<Result>& results) {
    std::map<std::tuple<uint64_t, Timestamp, Timestamp>, int64_t> m;
    for (const Result& r : results) {
      EXPECT_EQ(r.firing, Firing::kOnTime);
      auto [it, inserted] =
          m.emplace(std::make_tuple(r.key, r.window_start, r.window_end), r.value);
      EXPECT_TRUE(inserted) << "two results for one window";
    }
    return m;
  }
};

TEST_P(WindowParallelismTest, Tumbling) {
  auto out = run([](auto& k) { return k.window(Tumbling{50}).sum(EventValue{}); });
  EXPECT_EQ(as_map(out), time_window_sums(50, 50));
}

TEST_P(WindowParallelismTest, Hopping) {
  auto out = run([](auto& k) { return k.window(Hopping{60, 15}).sum(EventValue{}); });
  EXPECT_EQ(as_map(out), time_window_sums(60, 15));
}

TEST_P(WindowParallelismTest, Session) {
  // Keys come back every ~37/4 ms on average; gaps of 12 make sessions that split and merge.
  auto out = run([](auto& k) { return k.window(Session{12}).sum(EventValue{}); });
  EXPECT_EQ(as_map(out), session_sums(12));
}

TEST_P(WindowParallelismTest, GlobalCount) {
  // Arrival order per key depends on parallelism, so check group counts and the total.
  auto out = run([](auto& k) { return k.window(GlobalCount{7}).sum(EventValue{}); });
  std::map<uint64_t, int64_t> groups, sums, rows;
  for (const Result& r : out) {
    ++groups[r.key];
    sums[r.key] += r.value;
  }
  std::map<uint64_t, int64_t> want_sums;
  for (const Event& e : all_events()) {
    want_sums[e.key] += e.value;
    ++rows[e.key];
  }
  EXPECT_EQ(sums, want_sums);
  for (auto& [key, n] : rows) EXPECT_EQ(groups[key], (n + 6) / 7);
}

INSTANTIATE_TEST_SUITE_P(All, WindowParallelismTest,
                         ::testing::Combine(::testing::Values(1, 2, 4),
                                            ::testing::Values(size_t{1}, size_t{7}, size_t{1024})));

// With a watermark bound smaller than the disorder, rows are late; each is either in a result,
// in the late output, or counted, whatever the parallelism.
TEST(WindowPipelineTest, LateRowsGoToSideOutputOrAreCounted) {
  for (bool attach : {true, false}) {
    for (int parallelism : {1, 3}) {
      JobOptions options;
      options.parallelism = parallelism;
      options.batch_size = 16;
      options.handle_signals = false;
      Environment env(options);
      std::vector<Result> out;
      std::vector<Event> late;
      auto results = env.generate(kRows, make_event)
                         .assign_timestamps([](const Event& e) { return e.time; }, 0)
                         .key_by(EventKey{})
                         .window(Tumbling{10})
                         .allowed_lateness(3)
                         .sum(EventValue{});
      results.sink(sinks::collect(&out));
      if (attach) results.late().sink(sinks::collect(&late));
      ASSERT_TRUE(env.execute().is_ok());
      std::map<std::tuple<uint64_t, Timestamp>, int64_t> latest;
      for (const Result& r : out) latest[{r.key, r.window_start}] = r.value;  // in order per key
      int64_t total = 0, want = 0;
      for (auto& [w, v] : latest) total += v;
      for (const Event& e : late) total += e.value;
      for (const Event& e : all_events()) want += e.value;
      const WindowCounters c = results.stats()->totals();
      EXPECT_EQ(c.rows, kRows);
      EXPECT_EQ(c.late_to_side_output, late.size());
      if (attach) {
        EXPECT_EQ(total, want);
        EXPECT_GT(late.size(), 0u);
        EXPECT_EQ(c.late_dropped, 0u);
      } else {
        EXPECT_GT(c.late_dropped, 0u);
        EXPECT_LT(total, want);
      }
      EXPECT_GT(c.results_late, 0u);
    }
  }
}

struct Stats {
  int64_t count = 0, sum = 0;
};
struct MeanAgg {
  Stats create() const { return {}; }
  void add(Stats& s, const Event& e) const {
    ++s.count;
    s.sum += e.value;
  }
  void merge(Stats& a, const Stats& b) const {
    a.count += b.count;
    a.sum += b.sum;
  }
  std::pair<uint64_t, double> result(const uint64_t& key, const Stats& s, const Window&) const {
    return {key, static_cast<double>(s.sum) / static_cast<double>(s.count)};
  }
};

TEST(WindowPipelineTest, EveryWindowFunction) {
  Environment env;
  std::vector<WindowResult<uint64_t, int64_t>> counts, mins, maxs;
  std::vector<WindowResult<uint64_t, double>> avgs;
  std::vector<std::pair<uint64_t, double>> means;
  std::vector<std::tuple<uint64_t, Window, size_t>> processed;
  std::mutex mutex;
  auto keyed =
      env.generate(1000,
                   [](uint64_t i) {
                     return Event{i % 2, static_cast<int64_t>(i), static_cast<int64_t>(i % 7)};
                   })
          .assign_timestamps([](const Event& e) { return e.time; }, 0)
          .key_by(EventKey{});
  keyed.window(Tumbling{100}).count().sink(sinks::collect(&counts));
  keyed.window(Tumbling{100}).min(EventValue{}).sink(sinks::collect(&mins));
  keyed.window(Tumbling{100}).max(EventValue{}).sink(sinks::collect(&maxs));
  keyed.window(Tumbling{100}).avg(EventValue{}).sink(sinks::collect(&avgs));
  keyed.window(Tumbling{100}).aggregate(MeanAgg{}).sink(sinks::collect(&means));
  keyed.window(Tumbling{100})
      .process([](const uint64_t& key, const Window& w, std::span<const Event> rows) {
        return std::make_tuple(key, w, rows.size());
      })
      .sink(sinks::collect(&processed));
  ASSERT_TRUE(env.execute().is_ok());
  ASSERT_EQ(counts.size(), 20u);
  for (auto& r : counts) EXPECT_EQ(r.value, 50);
  for (auto& r : mins) EXPECT_EQ(r.value, 0);
  for (auto& r : maxs) EXPECT_EQ(r.value, 6);
  ASSERT_EQ(avgs.size(), 20u);
  ASSERT_EQ(means.size(), 20u);
  double avg_total = 0, mean_total = 0;
  for (auto& r : avgs) avg_total += r.value;
  for (auto& m : means) mean_total += m.second;
  EXPECT_DOUBLE_EQ(avg_total, mean_total);
  ASSERT_EQ(processed.size(), 20u);
  for (auto& [key, w, n] : processed) {
    EXPECT_EQ(n, 50u);
    EXPECT_EQ(w.end - w.start, 100);
  }
}

// Results carry window end - 1 as event time: a 10 ms window of 10 ms windows equals a 100 ms one.
TEST(WindowPipelineTest, WindowsChain) {
  JobOptions options;
  options.parallelism = 2;
  options.handle_signals = false;
  Environment env(options);
  std::vector<Result> direct, chained;
  auto keyed = env.generate(kRows, make_event)
                   .assign_timestamps([](const Event& e) { return e.time; }, 20)
                   .key_by(EventKey{});
  keyed.window(Tumbling{100}).sum(EventValue{}).sink(sinks::collect(&direct));
  keyed.window(Tumbling{10})
      .sum(EventValue{})
      .key_by([](const Result& r) { return r.key; })
      .window(Tumbling{100})
      .sum([](const Result& r) { return r.value; })
      .sink(sinks::collect(&chained));
  ASSERT_TRUE(env.execute().is_ok());
  std::sort(direct.begin(), direct.end());
  std::sort(chained.begin(), chained.end());
  EXPECT_EQ(direct, chained);
}

TEST(WindowPipelineTest, EventTimeWindowWithoutTimestampsFailsTheJob) {
  JobOptions options;
  options.handle_signals = false;
  Environment env(options);
  env.generate(10, make_event)
      .key_by(EventKey{})
      .window(Tumbling{10})
      .count()
      .sink([](const Result&) {});
  Status s = env.execute();
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("assign_timestamps"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace sluice::testing
