// The data path's counters: records and bytes per operator, chained and across exchanges, sink
// latency histograms, watermarks, task time accounting; read through a JobObserver when the job
// finishes, as the metrics endpoint reads them while it runs.
#include <algorithm>
#include <atomic>
#include <cstdint>

#include <gtest/gtest.h>

#include "checkpoint/job_checkpointing.h"
#include "checkpoint/test_dir.h"
#include "observe/job_snapshot.h"
#include "runtime/job_runner.h"
#include "sluice/sluice.h"

namespace sluice {
namespace {

struct Row {
  uint64_t key;
  int64_t time;
};

// Takes a snapshot of the figures at the end of the job, while they are still alive.
class SnapshotAtEnd : public runtime::JobObserver {
 public:
  void job_started(const runtime::JobMetrics& m) override { metrics = &m; }
  void job_finished(const Status&) override {
    snapshot = observe::take_snapshot(*metrics);
    operators = metrics->operators;
    edges = metrics->edges;
    tasks = metrics->tasks.size();
  }
  const runtime::JobMetrics* metrics = nullptr;
  observe::JobSnapshot snapshot;
  std::vector<runtime::OperatorNode> operators;
  std::vector<runtime::EdgeNode> edges;
  size_t tasks = 0;
};

constexpr uint64_t kRows = 10'000;

void build(Environment& env, std::atomic<uint64_t>* count, int parallelism) {
  env.generate(kRows,
               [](uint64_t i) {
                 return Row{i % 10, static_cast<int64_t>(i)};
               })
      .name("numbers")
      .assign_timestamps([](const Row& r) { return r.time; }, 5)
      .name("timestamps")
      .filter([](const Row& r) { return r.key % 2 == 0; })
      .name("even")
      .parallelism(parallelism)
      .sink(sinks::count<Row>(count))
      .name("sink")
      .parallelism(parallelism);
}

TEST(JobMetrics, CountsRecordsPerOperatorChainedAndAcrossExchanges) {
  for (int parallelism : {1, 2}) {
    JobOptions options;
    options.workers = 2;
    options.batch_size = 100;
    Environment env(options);
    std::atomic<uint64_t> count{0};
    build(env, &count, parallelism);
    SnapshotAtEnd observer;
    runtime::JobRunner runner(env.graph(), options, &observer, "counting");
    ASSERT_TRUE(runner.run());
    ASSERT_EQ(count.load(), kRows / 2);

    const auto& ops = observer.snapshot.operators;
    ASSERT_EQ(ops.size(), 4u);
    EXPECT_EQ(observer.operators[0].name, "numbers");
    EXPECT_TRUE(observer.operators[0].is_source);
    EXPECT_TRUE(observer.operators[3].is_sink);
    EXPECT_EQ(ops[0].records_in, 0u);
    EXPECT_EQ(ops[0].records_out, kRows);
    EXPECT_EQ(ops[1].records_in, kRows);
    EXPECT_EQ(ops[1].records_out, kRows);
    EXPECT_EQ(ops[2].records_in, kRows) << "parallelism " << parallelism;
    EXPECT_EQ(ops[2].records_out, kRows / 2);
    EXPECT_EQ(ops[3].records_in, kRows / 2);
    EXPECT_EQ(ops[2].bytes_in, kRows * sizeof(Row));
    EXPECT_EQ(observer.snapshot.source_records, kRows);
    EXPECT_EQ(observer.snapshot.sink_records, kRows / 2);
    // Every row reaching the sink is in the ingestion latency histogram, and, since rows carry
    // event times, in the event-time one.
    uint64_t ingest = 0, event = 0;
    for (uint64_t n : observer.snapshot.ingest_latency) ingest += n;
    for (uint64_t n : observer.snapshot.event_latency) event += n;
    EXPECT_EQ(ingest, kRows / 2);
    EXPECT_EQ(event, kRows / 2);
    // The timestamp assigner's last watermark: the end of the input.
    EXPECT_EQ(ops[1].watermark, kMaxTimestamp);
    // Chained at parallelism 1; a rebalance at 2 (source parallelism 1, filter 2).
    EXPECT_EQ(observer.edges[1].chained, parallelism == 1);
    EXPECT_TRUE(observer.edges[2].chained);
    EXPECT_EQ(observer.edges[1].partitioning, parallelism == 1 ? "forward" : "rebalance");
    uint64_t accounted = 0;
    for (const auto& f : ops) accounted += f.busy_us + f.idle_us + f.backpressured_us;
    EXPECT_GT(accounted, 0u);
  }
}

TEST(JobMetrics, KeyedOperatorsPublishTheirStateSize) {
  JobOptions options;
  options.workers = 2;
  options.batch_size = 100;
  Environment env(options);
  std::atomic<uint64_t> count{0};
  env.generate(kRows,
               [](uint64_t i) {
                 return Row{i % 1000, static_cast<int64_t>(i)};
               })
      .name("numbers")
      .key_by([](const Row& r) { return r.key; })
      .reduce([](const Row& a, const Row& b) {
        return Row{a.key, a.time + b.time};
      })
      .name("sums")
      .parallelism(2)
      .sink(sinks::count<Row>(&count))
      .name("sink");
  SnapshotAtEnd observer;
  runtime::JobRunner runner(env.graph(), options, &observer, "state sizes");
  ASSERT_TRUE(runner.run());
  ASSERT_EQ(count.load(), kRows);
  const auto& ops = observer.snapshot.operators;
  ASSERT_EQ(observer.operators[1].name, "sums");
  EXPECT_EQ(ops[1].state_keys, 1000);  // summed over both subtasks
  EXPECT_GE(ops[1].state_bytes, 1000 * static_cast<int64_t>(sizeof(uint64_t) + sizeof(Row)));
  EXPECT_EQ(ops[0].state_keys, 0);  // the source keeps no keyed state
}

// Counts the checkpoints the runner reports (called on the runner's control thread).
// Counts completed checkpoints; cancels the job once it has seen `stop_after` of them.
class CheckpointCounter : public runtime::JobObserver {
 public:
  void checkpoint_completed(uint64_t id, int64_t duration_us, int64_t, uint64_t) override {
    ++completed;
    EXPECT_GT(id, last_id);
    EXPECT_GE(duration_us, 0);
    last_id = id;
    if (completed == stop_after && runner != nullptr) runner->cancel();
  }
  int completed = 0;
  uint64_t last_id = 0;
  int stop_after = 0;
  runtime::JobRunner* runner = nullptr;
};

void build_checkpointed(Environment& env, std::atomic<uint64_t>* count, uint64_t rows) {
  GeneratorOptions paced;
  paced.rate = 40'000;
  env.generate(
         rows,
         [](uint64_t i) {
           return Row{i % 100, static_cast<int64_t>(i)};
         },
         paced)
      .key_by([](const Row& r) { return r.key; })
      .reduce([](const Row& a, const Row& b) {
        return Row{a.key, a.time + b.time};
      })
      .sink(sinks::count<Row>(count));
}

TEST(JobMetrics, PeriodicCheckpointsReachTheObserverAsTheyComplete) {
  testing::TempDir dir;
  JobOptions options;
  options.workers = 2;
  ASSERT_TRUE(options.set("checkpoint.interval", "50ms"));
  ASSERT_TRUE(options.set("checkpoint.dir", dir.path()));
  Environment env(options);
  std::atomic<uint64_t> count{0};
  build_checkpointed(env, &count, 1'000'000'000);  // runs until cancelled
  CheckpointCounter observer;
  checkpoint::JobCheckpointing checkpointing;
  runtime::JobRunner runner(env.graph(), options, &observer, "checkpointed", &checkpointing);
  observer.stop_after = 2;
  observer.runner = &runner;
  EXPECT_EQ(runner.run().code(), StatusCode::kCancelled);
  EXPECT_EQ(observer.completed, 2);
}

TEST(JobMetrics, TheFinalCheckpointReachesTheObserver) {
  testing::TempDir dir;
  JobOptions options;
  options.workers = 2;
  ASSERT_TRUE(options.set("checkpoint.interval", "1h"));  // none while the input lasts
  ASSERT_TRUE(options.set("checkpoint.dir", dir.path()));
  Environment env(options);
  std::atomic<uint64_t> count{0};
  build_checkpointed(env, &count, 2'000);
  CheckpointCounter observer;
  checkpoint::JobCheckpointing checkpointing;
  runtime::JobRunner runner(env.graph(), options, &observer, "checkpointed", &checkpointing);
  ASSERT_TRUE(runner.run());
  EXPECT_EQ(count.load(), 2'000u);
  EXPECT_EQ(observer.completed, 1);
  EXPECT_EQ(runner.stats().checkpoints_completed, 1u);
}

TEST(JobMetrics, WithoutAnObserverNothingIsCounted) {
  JobOptions options;
  Environment env(options);
  std::atomic<uint64_t> count{0};
  build(env, &count, 1);
  runtime::JobRunner runner(env.graph(), options);
  ASSERT_TRUE(runner.run());
  EXPECT_EQ(count.load(), kRows / 2);
}

// The bucket whose upper bound is `ms`.
size_t bucket_up_to(double ms) {
  const auto& bounds = detail::LatencyHistogram::kBoundsMs;
  return static_cast<size_t>(std::find(bounds.begin(), bounds.end(), ms) - bounds.begin());
}

TEST(JobMetrics, QuantilesInterpolateWithinBuckets) {
  observe::LatencyBuckets b{};
  EXPECT_LT(observe::quantile_ms(b, 0.99), 0);  // no rows: none
  b[bucket_up_to(1)] = 100;                     // 100 rows in (0.5, 1] ms
  EXPECT_NEAR(observe::quantile_ms(b, 0.5), 0.75, 1e-9);
  b[bucket_up_to(10)] = 100;  // 100 rows in (5, 10] ms
  EXPECT_NEAR(observe::quantile_ms(b, 0.75), 7.5, 1e-9);
  EXPECT_NEAR(observe::quantile_ms(b, 1.0), 10, 1e-9);
  b[detail::LatencyHistogram::kBuckets - 1] = 1000;  // beyond the last bound
  EXPECT_EQ(observe::quantile_ms(b, 0.99), detail::LatencyHistogram::kBoundsMs.back());
}

TEST(JobMetrics, SubMillisecondLatenciesHaveTheirOwnBuckets) {
  detail::LatencyHistogram h;
  h.observe(0.03, 5);
  h.observe(0.3, 7);
  h.observe(0.05, 1);  // on a bound: that bucket
  EXPECT_EQ(h.bucket(bucket_up_to(0.05)), 6u);
  EXPECT_EQ(h.bucket(bucket_up_to(0.5)), 7u);
  EXPECT_EQ(h.bucket(bucket_up_to(1)), 0u);
}

}  // namespace
}  // namespace sluice
