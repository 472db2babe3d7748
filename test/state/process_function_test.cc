// Keyed process functions through the runtime: state per key, event- and processing-time
// timers, side outputs, independence of parallelism and batch size, and a randomized run against
// a brute-force oracle.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "sluice/sluice.h"

namespace sluice {
namespace {

struct Event {
  uint64_t key;
  Timestamp time;
  int64_t value;
};

uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

using KeyCount = std::pair<uint64_t, int64_t>;

struct CountPerKey {
  ValueState<int64_t> count;
  void open(RuntimeContext& ctx) { count = ctx.state<ValueState<int64_t>>("count"); }
  void process(const Event&, ProcessContext<uint64_t>& ctx, Collector<KeyCount>& out) {
    const int64_t n = count.value_or(0) + 1;
    count.update(n);
    out.emit({ctx.key(), n});
  }
};

class ProcessParallelismTest
    : public ::testing::TestWithParam<std::tuple<int, size_t, StateBackendKind>> {};

TEST_P(ProcessParallelismTest, CountsPerKeyInValueState) {
  auto [parallelism, batch_size, backend] = GetParam();
  JobOptions options;
  options.parallelism = parallelism;
  options.batch_size = batch_size;
  options.state_backend = backend;
  Environment env(options);
  std::vector<KeyCount> out;
  env.generate(6000,
               [](uint64_t i) {
                 return Event{mix(i) % 101, 0, 1};
               })
      .key_by([](const Event& e) { return e.key; })
      .process(CountPerKey{})
      .sink(sinks::collect(&out));
  Status s = env.execute();
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  ASSERT_EQ(out.size(), 6000u);
  std::map<uint64_t, int64_t> last;
  for (auto [k, n] : out) last[k] = std::max(last[k], n);
  std::map<uint64_t, int64_t> expected;
  for (uint64_t i = 0; i < 6000; ++i) ++expected[mix(i) % 101];
  EXPECT_EQ(last, expected);
}

INSTANTIATE_TEST_SUITE_P(All, ProcessParallelismTest,
                         ::testing::Combine(::testing::Values(1, 2, 4),
                                            ::testing::Values(size_t{1}, size_t{7}, size_t{1024}),
                                            ::testing::Values(StateBackendKind::kMemory,
                                                              StateBackendKind::kRocksDb)));

// ---- event-time timers: in order, once, per key ----

using Fired = std::tuple<uint64_t, Timestamp, int64_t>;  // key, timer time, rows seen by then

struct TimerPerBucket {
  ValueState<int64_t> seen;
  void open(RuntimeContext& ctx) { seen = ctx.state<ValueState<int64_t>>("seen"); }
  void process(const Event& e, ProcessContext<uint64_t>& ctx, Collector<Fired>&) {
    EXPECT_EQ(ctx.timestamp(), e.time);
    seen.update(seen.value_or(0) + 1);
    ctx.timers().register_event_time((e.time / 100 + 1) * 100);  // deduplicated per bucket
  }
  void on_timer(Timestamp t, TimerContext<uint64_t>& ctx, Collector<Fired>& out) {
    EXPECT_EQ(ctx.time_domain(), TimeDomain::kEventTime);
    EXPECT_EQ(ctx.timestamp(), t);
    EXPECT_GE(ctx.current_watermark(), t);
    out.emit({ctx.key(), t, seen.value_or(0)});
  }
};

std::vector<Fired> run_bucket_timers(int parallelism, size_t batch_size) {
  JobOptions options;
  options.parallelism = parallelism;
  options.batch_size = batch_size;
  Environment env(options);
  std::vector<Fired> out;
  GeneratorOptions one{.parallelism = 1};
  env.generate(
         5000,
         [](uint64_t i) {
           return Event{mix(i) % 13, static_cast<Timestamp>(i * 2), 1};
         },
         one)
      .assign_timestamps([](const Event& e) { return e.time; }, 0)
      .parallelism(1)
      .key_by([](const Event& e) { return e.key; })
      .process(TimerPerBucket{})
      .sink(sinks::collect(&out));
  Status s = env.execute();
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  return out;
}

TEST(ProcessFunctionTest, EventTimeTimersFireInOrderOncePerKeyAtAnyParallelism) {
  // Expected: per key, one timer per 100 ms bucket that has rows of the key. When it fires, every
  // row of the key before its time has been seen (the watermark passed them); later rows may have
  // been too, depending on where batches end.
  std::map<uint64_t, std::vector<Timestamp>> times_of_key;
  for (uint64_t i = 0; i < 5000; ++i) times_of_key[mix(i) % 13].push_back(i * 2);
  std::vector<std::pair<uint64_t, Timestamp>> expected;
  std::map<std::pair<uint64_t, Timestamp>, int64_t> rows_before;
  for (auto& [k, times] : times_of_key) {
    std::set<Timestamp> timers;
    for (Timestamp t : times) timers.insert((t / 100 + 1) * 100);
    for (Timestamp timer : timers) {
      expected.emplace_back(k, timer);
      rows_before[{k, timer}] =
          std::count_if(times.begin(), times.end(), [&](Timestamp t) { return t < timer; });
    }
  }
  std::sort(expected.begin(), expected.end());
  for (int p : {1, 2, 4}) {
    for (size_t batch : {size_t{1}, size_t{64}, size_t{1024}}) {
      std::vector<Fired> out = run_bucket_timers(p, batch);
      std::map<uint64_t, Timestamp> last;  // a key's rows are collected in emission order
      std::vector<std::pair<uint64_t, Timestamp>> fired;
      for (auto& [k, t, seen] : out) {
        EXPECT_LT(last.count(k) ? last[k] : -1, t) << "key " << k << " p=" << p;
        last[k] = t;
        EXPECT_GE(seen, (rows_before[{k, t}])) << "key " << k << " timer " << t;
        fired.emplace_back(k, t);
      }
      std::sort(fired.begin(), fired.end());
      EXPECT_EQ(fired, expected) << "parallelism " << p << ", batch " << batch;
    }
  }
}

// ---- processing-time timers on an idle stream ----

// Emits `rows` once, then stays idle without ending.
class IdleAfterSource final : public detail::SourceOperator {
 public:
  explicit IdleAfterSource(std::vector<Event> rows) : rows_(std::move(rows)) {}
  detail::SourceState poll(int64_t) override {
    if (done_) return detail::SourceState::kIdle;
    done_ = true;
    if (info_.subtask == 0) {
      batch_.rows.assign(rows_.begin(), rows_.end());
      out_->emit(batch_);
      batch_.clear();
    }
    return detail::SourceState::kMore;
  }

 private:
  std::vector<Event> rows_;
  detail::Batch<Event> batch_;
  bool done_ = false;
};

struct RemindLater {
  void process(const Event& e, ProcessContext<uint64_t>& ctx, Collector<KeyCount>&) {
    ctx.timers().register_processing_time(ctx.timers().current_processing_time() + e.value);
  }
  void on_timer(Timestamp t, TimerContext<uint64_t>& ctx, Collector<KeyCount>& out) {
    EXPECT_EQ(ctx.time_domain(), TimeDomain::kProcessingTime);
    EXPECT_LE(t, ctx.timers().current_processing_time());
    out.emit({ctx.key(), t});
  }
};

TEST(ProcessFunctionTest, ProcessingTimeTimersFireOnAnIdleStream) {
  JobOptions options;
  options.parallelism = 2;
  options.handle_signals = false;
  Environment env(options);
  std::vector<Event> rows = {{1, 0, 30}, {2, 0, 60}, {3, 0, 90}};
  std::mutex mutex;
  std::vector<KeyCount> fired;
  std::atomic<bool> all{false};
  const Timestamp start = wall_clock_millis();
  env.add_source<Event>("idle source", 1,
                        [rows] { return std::make_unique<IdleAfterSource>(rows); })
      .key_by([](const Event& e) { return e.key; })
      .process(RemindLater{})
      .sink([&](const KeyCount& kc) {
        std::lock_guard<std::mutex> lock(mutex);
        fired.push_back(kc);
        if (fired.size() == 3) {
          all = true;
          env.cancel();
        }
      });
  std::thread watchdog([&] {
    for (int i = 0; i < 500 && !all; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    env.cancel();
  });
  Status s = env.execute();
  watchdog.join();
  EXPECT_EQ(s.code(), StatusCode::kCancelled) << s.to_string();
  ASSERT_TRUE(all.load()) << "processing-time timers did not fire";
  std::sort(fired.begin(), fired.end());
  ASSERT_EQ(fired.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(fired[i].first, static_cast<uint64_t>(i + 1));
    EXPECT_GE(fired[i].second, start + 30 * (i + 1));
  }
}

// ---- side outputs ----

inline constexpr OutputTag<int64_t> kEven{"even", 1};
inline constexpr OutputTag<std::string> kNames{"names", 2};

// (Not `"v" + std::to_string(v)`: GCC 12 at -O3 warns -Wrestrict wrongly on it.)
std::string name_of(int64_t v) {
  std::string s = "v";
  s += std::to_string(v);
  return s;
}

struct Splitter {
  void process(const Event& e, ProcessContext<uint64_t>& ctx, Collector<Event>& out) {
    if (e.value % 2 == 0) {
      ctx.output(kEven, e.value);
    } else {
      out.emit(e);
    }
    if (e.value % 10 == 0) ctx.output(kNames, name_of(e.value));
  }
};

// Records each row's event time as seen downstream.
struct TimeOf {
  void process(const int64_t& v, ProcessContext<int64_t>& ctx,
               Collector<std::pair<int64_t, Timestamp>>& out) {
    out.emit({v, ctx.timestamp()});
  }
};

TEST(ProcessFunctionTest, SideOutputsCarryWhatWasSentWithItsTime) {
  JobOptions options;
  options.parallelism = 2;
  Environment env(options);
  std::vector<Event> main_out;
  std::vector<std::pair<int64_t, Timestamp>> even_out;
  std::vector<std::string> names_out;
  auto result =
      env.generate(1000,
                   [](uint64_t i) {
                     return Event{i % 7, static_cast<Timestamp>(i) + 5000, static_cast<int64_t>(i)};
                   })
          .assign_timestamps([](const Event& e) { return e.time; }, 10)
          .key_by([](const Event& e) { return e.key; })
          .process(Splitter{});
  result.sink(sinks::collect(&main_out));
  result.side_output(kEven)
      .key_by([](const int64_t& v) { return v; })
      .process(TimeOf{})
      .sink(sinks::collect(&even_out));
  result.side_output(kNames).sink(sinks::collect(&names_out));
  Status s = env.execute();
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  ASSERT_EQ(main_out.size(), 500u);
  for (const Event& e : main_out) EXPECT_EQ(e.value % 2, 1);
  std::sort(even_out.begin(), even_out.end());
  ASSERT_EQ(even_out.size(), 500u);
  for (size_t i = 0; i < even_out.size(); ++i) {
    EXPECT_EQ(even_out[i].first, static_cast<int64_t>(2 * i));
    EXPECT_EQ(even_out[i].second, static_cast<Timestamp>(2 * i) + 5000);
  }
  std::vector<std::string> expected_names;
  for (int i = 0; i < 1000; i += 10) expected_names.push_back(name_of(i));
  std::sort(names_out.begin(), names_out.end());
  std::sort(expected_names.begin(), expected_names.end());
  EXPECT_EQ(names_out, expected_names);
}

// ---- TTL on event time through the runtime ----

struct LastSeen {
  ValueState<Timestamp> last;
  void open(RuntimeContext& ctx) {
    last = ctx.state<ValueState<Timestamp>>(
        "last", StateTtl{.ttl = 100, .time = StateTtl::Time::kEventTime});
  }
  // Emits whether the key was seen within the last 100 ms of event time.
  void process(const Event& e, ProcessContext<uint64_t>&, Collector<int64_t>& out) {
    out.emit(last.has_value() ? 1 : 0);
    last.update(e.time);
  }
};

class ProcessBackendTest : public ::testing::TestWithParam<StateBackendKind> {
 protected:
  JobOptions options() const {
    JobOptions o;
    o.state_backend = GetParam();
    return o;
  }
};
INSTANTIATE_TEST_SUITE_P(Backends, ProcessBackendTest,
                         ::testing::Values(StateBackendKind::kMemory, StateBackendKind::kRocksDb));

TEST_P(ProcessBackendTest, TtlOnEventTimeExpiresEntries) {
  Environment env(options());
  std::vector<int64_t> out;
  // One key; gaps of 50 (kept) then 150 (expired) alternate.
  env.generate(100,
               [](uint64_t i) {
                 return Event{1, static_cast<Timestamp>((i / 2) * 200 + (i % 2) * 50), 0};
               })
      .assign_timestamps([](const Event& e) { return e.time; }, 0)
      .key_by([](const Event& e) { return e.key; })
      .process(LastSeen{})
      .sink(sinks::collect(&out));
  ASSERT_TRUE(env.execute().is_ok());
  ASSERT_EQ(out.size(), 100u);
  for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], i % 2 == 1 ? 1 : 0) << i;
}

// ---- randomized, against a brute-force oracle ----

// Per key: per 10 ms bucket, a MapState accumulator and an event-time timer at the bucket's end
// + 5; a row with value % 7 == 0 cancels its bucket (timer and accumulator) so far. At the end,
// a timer at kEnd reports the key's row count (ValueState) and the sum of values % 5 == 0
// (ListState).
constexpr Timestamp kEnd = kMaxTimestamp - 1;
constexpr Duration kBound = 25;
using Report = std::tuple<uint64_t, Timestamp, int64_t>;

struct RandomRow {
  uint64_t keys;
  Event operator()(uint64_t i) const {
    const uint64_t h = mix(i + 12345);
    return Event{h % keys, static_cast<Timestamp>(i * 3 + (h >> 20) % 20),
                 static_cast<int64_t>((h >> 40) % 100)};
  }
};

Timestamp bucket_timer(Timestamp t) { return (t / 10) * 10 + 15; }

struct Buckets {
  MapState<Timestamp, int64_t> acc;
  ValueState<int64_t> count;
  ListState<int64_t> fives;
  void open(RuntimeContext& ctx) {
    acc = ctx.state<MapState<Timestamp, int64_t>>("acc");
    count = ctx.state<ValueState<int64_t>>("count");
    fives = ctx.state<ListState<int64_t>>("fives");
  }
  void process(const Event& e, ProcessContext<uint64_t>& ctx, Collector<Report>&) {
    if (!count.has_value()) ctx.timers().register_event_time(kEnd);
    count.update(count.value_or(0) + 1);
    if (e.value % 5 == 0) fives.add(e.value);
    const Timestamp timer = bucket_timer(e.time);
    if (e.value % 7 == 0) {
      ctx.timers().delete_event_time(timer);
      acc.remove(timer);
      return;
    }
    ctx.timers().register_event_time(timer);
    acc.put(timer, acc.get(timer).value_or(0) + e.value);
  }
  void on_timer(Timestamp t, TimerContext<uint64_t>& ctx, Collector<Report>& out) {
    if (t == kEnd) {
      int64_t sum = 0;
      fives.for_each([&](int64_t v) { sum += v; });
      out.emit({ctx.key(), t, count.value_or(0) * 1'000'000 + sum});
      return;
    }
    out.emit({ctx.key(), t, acc.get(t).value_or(-1)});
    acc.remove(t);
  }
};

std::vector<Report> oracle(uint64_t n, uint64_t keys) {
  RandomRow make{keys};
  std::map<uint64_t, std::map<Timestamp, int64_t>> acc;  // live buckets
  std::map<uint64_t, std::pair<int64_t, int64_t>> totals;
  for (uint64_t i = 0; i < n; ++i) {
    const Event e = make(i);
    auto& [count, fives] = totals[e.key];
    ++count;
    if (e.value % 5 == 0) fives += e.value;
    const Timestamp timer = bucket_timer(e.time);
    if (e.value % 7 == 0) {
      acc[e.key].erase(timer);
    } else {
      acc[e.key][timer] += e.value;
    }
  }
  std::vector<Report> out;
  for (auto& [k, buckets] : acc) {
    for (auto& [t, v] : buckets) out.emplace_back(k, t, v);
  }
  for (auto& [k, cf] : totals) out.emplace_back(k, kEnd, cf.first * 1'000'000 + cf.second);
  std::sort(out.begin(), out.end());
  return out;
}

TEST_P(ProcessBackendTest, RandomizedAgainstOracle) {
  constexpr uint64_t kRows = 20000, kKeys = 50;
  const std::vector<Report> expected = oracle(kRows, kKeys);
  for (int p : {1, 2, 4}) {
    for (size_t batch : {size_t{7}, size_t{256}}) {
      JobOptions options = this->options();
      options.parallelism = p;
      options.batch_size = batch;
      Environment env(options);
      std::vector<Report> out;
      env.generate(kRows, RandomRow{kKeys}, GeneratorOptions{.parallelism = 1})
          .assign_timestamps([](const Event& e) { return e.time; }, kBound)
          .parallelism(1)
          .key_by([](const Event& e) { return e.key; })
          .process(Buckets{})
          .sink(sinks::collect(&out));
      Status s = env.execute();
      ASSERT_TRUE(s.is_ok()) << s.to_string();
      std::sort(out.begin(), out.end());
      EXPECT_EQ(out, expected) << "parallelism " << p << ", batch " << batch;
    }
  }
}

TEST(ProcessFunctionTest, ExceptionInProcessFailsJobWithOperatorName) {
  struct Throws {
    void process(const Event& e, ProcessContext<uint64_t>&, Collector<Event>&) {
      if (e.value == 77) throw std::runtime_error("bad row 77");
    }
  };
  Environment env;
  env.generate(100,
               [](uint64_t i) {
                 return Event{i % 3, 0, static_cast<int64_t>(i)};
               })
      .key_by([](const Event& e) { return e.key; })
      .process(Throws{})
      .name("thrower")
      .sink([](const Event&) {});
  Status s = env.execute();
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("'thrower'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("bad row 77"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace sluice
