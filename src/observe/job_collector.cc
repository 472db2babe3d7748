#include "observe/job_collector.h"

#include <limits>
#include <string>

#include "observe/job_snapshot.h"
#include "observe/metric_names.h"
#include "runtime/metered_output.h"

namespace sluice::observe {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(const MetricName& m, MetricType type) {
  return MetricFamily{m.name, m.help, type, {}};
}

ClientMetric labelled(std::vector<ClientMetric::Label> labels) {
  ClientMetric c;
  c.label = std::move(labels);
  return c;
}

void add_histogram(MetricFamily& f, std::vector<ClientMetric::Label> labels,
                   const std::vector<const detail::LatencyHistogram*>& parts) {
  using H = detail::LatencyHistogram;
  ClientMetric c = labelled(std::move(labels));
  uint64_t cumulative = 0;
  for (size_t b = 0; b < H::kBuckets; ++b) {
    for (const H* h : parts) cumulative += h->bucket(b);
    const double bound = b < H::kBoundsMs.size() ? H::kBoundsMs[b] / 1000.0
                                                 : std::numeric_limits<double>::infinity();
    c.histogram.bucket.push_back({cumulative, bound});
  }
  c.histogram.sample_count = cumulative;
  for (const H* h : parts) c.histogram.sample_sum += h->sum_ms() / 1000.0;
  f.metric.push_back(std::move(c));
}

}  // namespace

void JobCollector::attach(const runtime::JobMetrics* job) {
  std::lock_guard<std::mutex> lock(mutex_);
  job_ = job;
}

void JobCollector::detach() {
  std::lock_guard<std::mutex> lock(mutex_);
  job_ = nullptr;
}

std::vector<MetricFamily> JobCollector::Collect() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (job_ == nullptr) return {};
  const runtime::JobMetrics& job = *job_;
  const int64_t now_ms = runtime::wall_clock_ms();

  // Operator figures: one series per (operator, subtask).
  struct Field {
    MetricName name;
    MetricType type;
    double (*value)(const detail::OperatorMetrics&);
  };
  const Field fields[] = {
      {metric::kRecordsIn, MetricType::Counter,
       [](const auto& m) { return double(m.records_in.get()); }},
      {metric::kRecordsOut, MetricType::Counter,
       [](const auto& m) { return double(m.records_out.get()); }},
      {metric::kSideRecordsOut, MetricType::Counter,
       [](const auto& m) { return double(m.side_records_out.get()); }},
      {metric::kBytesIn, MetricType::Counter,
       [](const auto& m) { return double(m.bytes_in.get()); }},
      {metric::kBytesOut, MetricType::Counter,
       [](const auto& m) { return double(m.bytes_out.get()); }},
      {metric::kLateDropped, MetricType::Counter,
       [](const auto& m) { return double(m.late_dropped.get()); }},
      {metric::kDeadLettered, MetricType::Counter,
       [](const auto& m) { return double(m.dead_lettered.get()); }},
      {metric::kBadRecords, MetricType::Counter,
       [](const auto& m) { return double(m.bad_records.get()); }},
      {metric::kStateBytes, MetricType::Gauge,
       [](const auto& m) { return double(m.state_bytes.get()); }},
      {metric::kStateKeys, MetricType::Gauge,
       [](const auto& m) { return double(m.state_keys.get()); }},
  };
  std::vector<MetricFamily> out;
  for (const Field& f : fields) {
    MetricFamily fam = family(f.name, f.type);
    for (const runtime::OperatorNode& op : job.operators) {
      for (size_t s = 0; s < op.subtasks.size(); ++s) {
        ClientMetric c = labelled(
            {{"sluice_job", job.job_name}, {"operator", op.name}, {"subtask", std::to_string(s)}});
        (f.type == MetricType::Counter ? c.counter.value : c.gauge.value) =
            f.value(*op.subtasks[s]);
        fam.metric.push_back(std::move(c));
      }
    }
    out.push_back(std::move(fam));
  }

  // Watermarks and connector lag: only the subtasks that have them.
  MetricFamily watermark = family(metric::kWatermark, MetricType::Gauge);
  MetricFamily lag = family(metric::kWatermarkLag, MetricType::Gauge);
  MetricFamily connector_lag = family(metric::kConnectorLag, MetricType::Gauge);
  MetricFamily latency = family(metric::kLatency, MetricType::Histogram);
  for (const runtime::OperatorNode& op : job.operators) {
    std::vector<const detail::LatencyHistogram*> ingest, event;
    for (size_t s = 0; s < op.subtasks.size(); ++s) {
      const detail::OperatorMetrics& m = *op.subtasks[s];
      std::vector<ClientMetric::Label> labels{
          {"sluice_job", job.job_name}, {"operator", op.name}, {"subtask", std::to_string(s)}};
      if (const int64_t w = m.watermark.get(); w != kMinTimestamp && w != kMaxTimestamp) {
        ClientMetric c = labelled(labels);
        c.gauge.value = static_cast<double>(w);
        watermark.metric.push_back(c);
        c.gauge.value = static_cast<double>(now_ms - w) / 1000.0;
        lag.metric.push_back(std::move(c));
      }
      if (const int64_t l = m.connector_lag.get(); l >= 0 && l <= kLargestConnectorLag) {
        ClientMetric c = labelled(labels);
        c.gauge.value = static_cast<double>(l);
        connector_lag.metric.push_back(std::move(c));
      }
      if (m.ingest_latency != nullptr) {
        ingest.push_back(m.ingest_latency.get());
        event.push_back(m.event_latency.get());
      }
    }
    if (!ingest.empty()) {
      add_histogram(latency,
                    {{"sluice_job", job.job_name}, {"operator", op.name}, {"kind", "ingestion"}},
                    ingest);
      add_histogram(latency,
                    {{"sluice_job", job.job_name}, {"operator", op.name}, {"kind", "event_time"}},
                    event);
    }
  }
  out.push_back(std::move(watermark));
  out.push_back(std::move(lag));
  out.push_back(std::move(connector_lag));
  out.push_back(std::move(latency));

  // Tasks: time accounting and input queues, labelled by the chain's head operator.
  MetricFamily busy = family(metric::kBusy, MetricType::Counter);
  MetricFamily idle = family(metric::kIdle, MetricType::Counter);
  MetricFamily backpressured = family(metric::kBackpressured, MetricType::Counter);
  MetricFamily depth = family(metric::kQueueDepth, MetricType::Gauge);
  std::vector<std::string> head_of_chain;
  for (const runtime::OperatorNode& op : job.operators) {
    if (op.chain >= static_cast<int>(head_of_chain.size())) head_of_chain.push_back(op.name);
  }
  for (const runtime::TaskMetrics& t : job.tasks) {
    ClientMetric c = labelled({{"sluice_job", job.job_name},
                               {"task", head_of_chain[t.chain]},
                               {"subtask", std::to_string(t.subtask)}});
    c.counter.value = static_cast<double>(t.busy_us.get()) / 1e6;
    busy.metric.push_back(c);
    c.counter.value = static_cast<double>(t.idle_us.get()) / 1e6;
    idle.metric.push_back(c);
    c.counter.value = static_cast<double>(t.backpressured_us.get()) / 1e6;
    backpressured.metric.push_back(c);
    c.counter.value = 0;
    c.gauge.value = static_cast<double>(t.queue_depth());
    depth.metric.push_back(std::move(c));
  }
  out.push_back(std::move(busy));
  out.push_back(std::move(idle));
  out.push_back(std::move(backpressured));
  out.push_back(std::move(depth));

  MetricFamily uptime = family(metric::kUptime, MetricType::Gauge);
  ClientMetric u = labelled({{"sluice_job", job.job_name}});
  u.gauge.value = static_cast<double>(now_ms - job.start_wall_ms) / 1000.0;
  uptime.metric.push_back(std::move(u));
  out.push_back(std::move(uptime));
  return out;
}

}  // namespace sluice::observe
