// The formats the figures are served in: the Prometheus text exposition of the one registry, and
// the /api/job document of the tracker; both from a hand-built job.
#include <fstream>
#include <regex>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "observe/job_tracker.h"
#include "observe/metric_names.h"
#include "observe/metrics_registry.h"
#include "observe/progress_reporter.h"
#include "runtime/job_metrics.h"
#include "runtime/metered_output.h"

namespace sluice {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// source (2 subtasks) -> "sink \"quoted\"" (1 subtask), not chained.
struct HandBuiltJob {
  runtime::JobMetrics job;
  HandBuiltJob() {
    job.job_name = "unit";
    job.start_wall_ms = runtime::wall_clock_ms() - 5000;
    runtime::OperatorNode& source = job.operators.emplace_back();
    source.name = "source";
    source.parallelism = 2;
    source.is_source = true;
    for (int s = 0; s < 2; ++s) source.subtasks.push_back(job.add_operator_metrics());
    runtime::OperatorNode& sink = job.operators.emplace_back();
    sink.name = "sink \"quoted\"";
    sink.chain = 1;
    sink.is_sink = true;
    detail::OperatorMetrics* m = job.add_operator_metrics();
    m->ingest_latency = std::make_unique<detail::LatencyHistogram>();
    m->event_latency = std::make_unique<detail::LatencyHistogram>();
    sink.subtasks.push_back(m);
    job.edges.push_back(runtime::EdgeNode{0, 1, "hash", false, false});
    for (int s = 0; s < 2; ++s) {
      runtime::TaskMetrics& t = job.tasks.emplace_back();
      t.subtask = s;
    }
    job.tasks.emplace_back().chain = 1;

    // (`source` was invalidated when `sink` was added.)
    job.operators[0].subtasks[0]->records_out.add(300);
    job.operators[0].subtasks[1]->records_out.add(200);
    job.operators[0].subtasks[0]->watermark.set(job.start_wall_ms);
    job.operators[0].subtasks[0]->connector_lag.set(1234);
    job.operators[0].subtasks[1]->connector_lag.set(int64_t{1} << 62);  // unbounded: all to make
    m->records_in.add(500);
    m->bytes_in.add(8000);
    m->late_dropped.add(3);
    m->ingest_latency->observe(0.5, 400);  // 400 rows at 0.5 ms
    m->ingest_latency->observe(7, 100);    // 100 rows at 7 ms
    job.tasks[0].busy_us.add(1'500'000);
    job.tasks[2].backpressured_us.add(250'000);
  }
};

TEST(MetricsRegistry, ServesEveryFamilyInTheTextFormat) {
  HandBuiltJob hb;
  observe::MetricsRegistry registry("unit");
  registry.attach(&hb.job);
  registry.checkpoint_completed(1'200'000, 30'000, 4096);
  registry.checkpoint_failed();
  registry.error("sink");
  const std::string text = registry.text();
  EXPECT_TRUE(contains(text, "# TYPE sluice_operator_records_out_total counter")) << text;
  EXPECT_TRUE(contains(
      text,
      R"(sluice_operator_records_out_total{sluice_job="unit",operator="source",subtask="1"} 200)"))
      << text;
  EXPECT_TRUE(contains(
      text,
      R"(sluice_operator_records_in_total{sluice_job="unit",operator="sink \"quoted\"",subtask="0"} 500)"))
      << text;
  EXPECT_TRUE(contains(
      text,
      R"(sluice_operator_late_records_dropped_total{sluice_job="unit",operator="sink \"quoted\"",subtask="0"} 3)"));
  // The histogram is cumulative, in seconds, counted in rows.
  EXPECT_TRUE(contains(text, "# TYPE sluice_end_to_end_latency_seconds histogram"));
  EXPECT_TRUE(contains(text, R"(kind="ingestion",le="0.001"} 400)")) << text;
  EXPECT_TRUE(contains(text, R"(kind="ingestion",le="0.01"} 500)")) << text;
  EXPECT_TRUE(contains(text, R"(kind="ingestion",le="+Inf"} 500)")) << text;
  // Only subtasks with a watermark have watermark series; the lag is about 5 s.
  EXPECT_TRUE(contains(
      text,
      R"(sluice_operator_watermark_lag_seconds{sluice_job="unit",operator="source",subtask="0"} )"));
  EXPECT_FALSE(contains(
      text,
      R"(sluice_operator_watermark_milliseconds{sluice_job="unit",operator="source",subtask="1"})"));
  EXPECT_TRUE(contains(
      text, R"(sluice_task_busy_seconds_total{sluice_job="unit",task="source",subtask="0"} 1.5)"));
  // A lag, and no series for an unbounded source's "all it could still make".
  EXPECT_TRUE(contains(
      text,
      R"(sluice_connector_lag_records{sluice_job="unit",operator="source",subtask="0"} 1234)"))
      << text;
  EXPECT_FALSE(contains(
      text, R"(sluice_connector_lag_records{sluice_job="unit",operator="source",subtask="1"})"));
  EXPECT_TRUE(contains(
      text,
      R"(sluice_task_backpressured_seconds_total{sluice_job="unit",task="sink \"quoted\"",subtask="0"} 0.25)"));
  EXPECT_TRUE(
      contains(text, R"(sluice_checkpoints_total{sluice_job="unit",status="completed"} 1)"));
  EXPECT_TRUE(contains(text, R"(sluice_checkpoints_total{sluice_job="unit",status="failed"} 1)"));
  EXPECT_TRUE(contains(text, R"(sluice_checkpoint_size_bytes{sluice_job="unit"} 4096)"));
  EXPECT_TRUE(contains(text, R"(sluice_checkpoint_duration_seconds_count{sluice_job="unit"} 1)"));
  EXPECT_TRUE(contains(text, R"(sluice_errors_total{kind="sink",sluice_job="unit"} 1)"));
  EXPECT_TRUE(contains(text, R"(sluice_errors_total{kind="checkpoint",sluice_job="unit"} 1)"));
  // Once detached (the job is gone) only the control-plane families remain.
  registry.detach();
  const std::string after = registry.text();
  EXPECT_FALSE(contains(after, "sluice_operator_records_in_total{"));
  EXPECT_TRUE(contains(after, "sluice_checkpoints_total{"));
}

TEST(JobTracker, ServesTheJobAsJson) {
  HandBuiltJob hb;
  observe::JobTracker tracker(10'000);  // no sample during the test but the final one
  tracker.start(&hb.job);
  hb.job.operators[0].subtasks[0]->records_out.add(1000);
  tracker.checkpoint(observe::CheckpointRecord{7, true, 1, 2500, 100, 1 << 20, {}});
  tracker.checkpoint(observe::CheckpointRecord{8, false, 2, 0, 0, 0, "disk \"full\""});
  tracker.error("operator", "operator 'x' failed: bad\nline");
  tracker.stop("finished");
  const std::string json = tracker.json();
  EXPECT_TRUE(contains(json, R"("job":"unit","state":"finished")")) << json;
  EXPECT_TRUE(contains(
      json, R"("name":"sink \"quoted\"","parallelism":1,"chain":1,"source":false,"sink":true)"))
      << json;
  EXPECT_TRUE(contains(json, R"("records_out":1500)")) << json;
  EXPECT_TRUE(contains(
      json,
      R"("edges":[{"from":0,"to":1,"partitioning":"hash","chained":false,"side_output":false}])"))
      << json;
  EXPECT_TRUE(contains(
      json, R"("checkpoints":{"completed":1,"failed":1,"history":[{"id":7,"status":"completed")"))
      << json;
  EXPECT_TRUE(contains(json, R"("reason":"disk \"full\"")")) << json;
  EXPECT_TRUE(contains(json, R"("kind":"operator","message":"operator 'x' failed: bad\nline")"))
      << json;
  EXPECT_TRUE(contains(json, R"("history":[{"t":)")) << json;
  EXPECT_EQ(tracker.last_checkpoint().id, 7u);
}

TEST(ProgressReporter, FormatsTheStatusLine) {
  observe::HistoryPoint p;
  p.in_per_s = 2'500'000;
  p.out_per_s = 1'200;
  p.p99_ms = 3.26;
  EXPECT_EQ(observe::ProgressReporter::format(p, {}),
            "in 2.50M/s  out 1.2k/s  p99 3.3 ms  watermark -  checkpoint -");
  p.watermark_lag_ms = 1500;
  observe::CheckpointRecord cp{4, true, 0, 120'000, 0, 2048, {}};
  EXPECT_EQ(observe::ProgressReporter::format(p, cp),
            "in 2.50M/s  out 1.2k/s  p99 3.3 ms  watermark lag 1.50 s  checkpoint #4 120.0 ms "
            "(2048 bytes)");
}

// The Grafana dashboard queries only metrics that exist (deploy/grafana/sluice-job.json).
TEST(MetricNames, TheGrafanaDashboardUsesOnlyExportedNames) {
  using namespace observe::metric;
  std::set<std::string> names;
  for (const observe::MetricName& m :
       {kRecordsIn,           kRecordsOut,     kBytesIn,      kBytesOut,    kWatermark,
        kWatermarkLag,        kLateDropped,    kDeadLettered, kBadRecords,  kStateBytes,
        kStateKeys,           kConnectorLag,   kLatency,      kBusy,        kIdle,
        kBackpressured,       kQueueDepth,     kUptime,       kCheckpoints, kCheckpointDuration,
        kCheckpointAlignment, kCheckpointSize, kErrors}) {
    names.insert(m.name);
    names.insert(std::string(m.name) + "_bucket");  // histogram series
  }
  std::ifstream in(SLUICE_GRAFANA_DASHBOARD);
  ASSERT_TRUE(in) << SLUICE_GRAFANA_DASHBOARD;
  const std::string json((std::istreambuf_iterator<char>(in)), {});
  const std::regex metric(R"(sluice_[a-z_]+(?=\{|,|\)))");
  int used = 0;
  for (auto it = std::sregex_iterator(json.begin(), json.end(), metric);
       it != std::sregex_iterator(); ++it) {
    const std::string name = it->str();
    if (name == "sluice_job") continue;  // the label
    EXPECT_TRUE(names.count(name)) << name << " is not an exported metric";
    ++used;
  }
  EXPECT_GT(used, 20);
}

}  // namespace
}  // namespace sluice
