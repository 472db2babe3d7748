// Watermark strategies: user generators (punctuation, a periodic timer) drive windows; idleness
// does not change what a bounded job computes; bad settings name themselves.
#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/scripted_source.h"
#include "sluice/sluice.h"

namespace sluice {
namespace {

using testing::eventually;
using testing::has_fired;
using testing::JobThread;
using testing::Script;
using testing::Tick;
using testing::TickTime;
using Count = WindowResult<uint64_t, int64_t>;

// Punctuated watermarks: a marker row vouches that nothing at or before its time follows.
struct Markers {
  Timestamp on_event(const Tick& t, Timestamp time) const {
    return t.marker ? time : kMinTimestamp;
  }
};

// Event time that moves on by 100 ms at every call, rows or not.
struct Clocked {
  Timestamp next = 0;
  void on_event(const Tick&, Timestamp) {}
  Timestamp on_periodic() { return next += 100; }
};

template <typename Generator>
struct OneSource {
  explicit OneSource(WatermarkStrategy<Generator> strategy) : env(testing::test_options()) {
    auto counts = testing::scripted(env, script)
                      .assign_timestamps(TickTime{}, strategy)
                      .key_by([](const Tick& t) { return t.key; })
                      .window(Tumbling{1000})
                      .count();
    counts.sink(testing::LiveSink<Count>{live});
  }
  Environment env;
  std::shared_ptr<Script> script = std::make_shared<Script>();
  std::shared_ptr<testing::LiveRows<Count>> live = std::make_shared<testing::LiveRows<Count>>();
};

TEST(WatermarkStrategyTest, PunctuationFromMarkerRowsDrivesWindows) {
  OneSource<Markers> job(watermark_strategy(Markers{}));
  job.script->push(1, 0, 3000);
  JobThread run(job.env);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(job.live->snapshot().empty()) << "no marker, no watermark";
  job.script->push({Tick{1, 2000, true}});
  ASSERT_TRUE(eventually([&] { return has_fired(*job.live, 1000); }));
  EXPECT_FALSE(has_fired(*job.live, 2000));
  job.script->end();
  ASSERT_TRUE(run.join().is_ok());
  std::map<Timestamp, int64_t> counts;
  for (const Count& c : job.live->snapshot()) counts[c.window_start] += c.value;
  EXPECT_EQ(counts, (std::map<Timestamp, int64_t>{{0, 10}, {1000, 10}, {2000, 11}}));
}

TEST(WatermarkStrategyTest, APeriodicIntervalRunsTheGeneratorWithoutRows) {
  OneSource<Clocked> job(watermark_strategy(Clocked{}).with_periodic_interval(2));
  job.script->push(1, 0, 1000);
  JobThread run(job.env);
  ASSERT_TRUE(eventually([&] { return has_fired(*job.live, 0); }));
  job.script->end();
  ASSERT_TRUE(run.join().is_ok());
}

TEST(WatermarkStrategyTest, BadSettingsNameTheSettingAndWhatWasExpected) {
  auto message = [](auto make) {
    try {
      make();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message([] { (void)bounded_out_of_orderness(0).with_idleness(0); }),
            "with_idleness: the idle timeout must be > 0 ms, not 0");
  EXPECT_EQ(message([] { (void)bounded_out_of_orderness(-5); }),
            "bounded_out_of_orderness: max_out_of_orderness must be >= 0 ms, not -5");
  EXPECT_EQ(message([] { (void)watermark_strategy(Clocked{}).with_periodic_interval(-1); }),
            "with_periodic_interval: the interval must be > 0 ms, not -1");
}

// Property: once a bounded job has ended, its results are the same with idleness on or off.
// Sources of different sizes, speeds and parallelisms (one with more subtasks than rows, one
// trickling slower than the 1 ms idle timeout) go quiet at different moments. Rows of a partition
// that resumes behind the others may come late, so lateness is generous and the final value of each
// window (its last result) is compared.
struct Spec {
  uint64_t rows;
  double rate;  // rows per second; 0: as fast as possible
  int parallelism;
};

std::map<std::tuple<uint64_t, Timestamp>, int64_t> final_counts(const std::vector<Spec>& specs,
                                                                int parallelism, bool idleness) {
  Environment env(testing::test_options(parallelism));
  auto strategy = bounded_out_of_orderness(30);
  if (idleness) strategy = strategy.with_idleness(1);
  std::vector<Stream<Tick>> streams;
  for (size_t s = 0; s < specs.size(); ++s) {
    GeneratorOptions g;
    g.rate = specs[s].rate;
    g.parallelism = specs[s].parallelism;
    g.name = "source " + std::to_string(s);
    const uint64_t key_base = s * 100;
    streams.push_back(env.generate(
                             specs[s].rows,
                             [key_base](uint64_t i) {
                               // Times rise with i, up to 25 ms out of order.
                               const Timestamp t = static_cast<Timestamp>(i * 3 + (i * 7919) % 25);
                               return Tick{key_base + i % 5, t};
                             },
                             g)
                          .assign_timestamps(TickTime{}, strategy));
  }
  Stream<Tick> all = streams[0];
  for (size_t s = 1; s < streams.size(); ++s) all = all.union_with(streams[s]);
  std::vector<Count> out;
  auto counts = all.key_by([](const Tick& t) { return t.key; })
                    .window(Tumbling{200})
                    .allowed_lateness(1'000'000)
                    .count();
  auto stats = counts.stats();
  counts.sink(sinks::collect(&out));
  Status status = env.execute();
  EXPECT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(stats->totals().late_dropped, 0u);
  std::map<std::tuple<uint64_t, Timestamp>, int64_t> last;
  for (const Count& c : out) last[{c.key, c.window_start}] = c.value;  // in order per key
  return last;
}

TEST(WatermarkStrategyTest, IdlenessDoesNotChangeTheResultsOfABoundedJob) {
  std::mt19937 rng(20261125);
  for (int round = 0; round < 4; ++round) {
    std::vector<Spec> specs;
    const int sources = 2 + static_cast<int>(rng() % 2);
    for (int s = 0; s < sources; ++s) {
      const uint64_t rows = s == 0 ? 1 : 200 + rng() % 2000;  // source 0: fewer rows than subtasks
      const double rate = rng() % 2 == 0 ? 0.0 : 20'000.0 + static_cast<double>(rng() % 40'000);
      specs.push_back(Spec{rows, rate, 1 + static_cast<int>(rng() % 3)});
    }
    specs.push_back(Spec{60, 600.0, 1});  // a row every 1.7 ms: idle between rows
    const int parallelism = 1 + static_cast<int>(rng() % 2);
    SCOPED_TRACE("round " + std::to_string(round));
    const auto without = final_counts(specs, parallelism, false);
    const auto with = final_counts(specs, parallelism, true);
    EXPECT_EQ(with, without);
    int64_t total = 0;
    for (auto& [kw, n] : without) total += n;
    uint64_t want = 0;
    for (const Spec& s : specs) want += s.rows;
    EXPECT_EQ(static_cast<uint64_t>(total), want);
  }
}

}  // namespace
}  // namespace sluice
