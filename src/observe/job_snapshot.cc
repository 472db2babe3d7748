#include "observe/job_snapshot.h"

#include <algorithm>

#include "runtime/metered_output.h"

namespace sluice::observe {

JobSnapshot take_snapshot(const runtime::JobMetrics& job) {
  JobSnapshot snap;
  snap.monotonic_us = runtime::monotonic_us();
  snap.wall_ms = runtime::wall_clock_ms();
  snap.operators.resize(job.operators.size());
  std::vector<int> head_of_chain;
  for (size_t i = 0; i < job.operators.size(); ++i) {
    const runtime::OperatorNode& op = job.operators[i];
    OperatorFigures& f = snap.operators[i];
    if (op.chain >= static_cast<int>(head_of_chain.size())) head_of_chain.push_back(int(i));
    bool any_watermark = false;
    int64_t watermark = kMaxTimestamp;
    for (const detail::OperatorMetrics* m : op.subtasks) {
      f.records_in += m->records_in.get();
      f.records_out += m->records_out.get();
      f.side_records_out += m->side_records_out.get();
      f.bytes_in += m->bytes_in.get();
      f.bytes_out += m->bytes_out.get();
      f.late_dropped += m->late_dropped.get();
      f.dead_lettered += m->dead_lettered.get();
      f.bad_records += m->bad_records.get();
      f.state_bytes += m->state_bytes.get();
      f.state_keys += m->state_keys.get();
      if (const int64_t lag = m->connector_lag.get(); lag >= 0 && lag <= kLargestConnectorLag) {
        f.connector_lag = std::max<int64_t>(f.connector_lag, 0) + lag;
      }
      const int64_t w = m->watermark.get();
      if (w != kMinTimestamp) any_watermark = true;
      watermark = std::min(watermark, w);
      if (m->ingest_latency == nullptr) continue;
      for (size_t b = 0; b < detail::LatencyHistogram::kBuckets; ++b) {
        snap.ingest_latency[b] += m->ingest_latency->bucket(b);
        snap.event_latency[b] += m->event_latency->bucket(b);
      }
    }
    // A subtask without a watermark yet holds the operator's back: report none until all have.
    if (any_watermark && watermark != kMinTimestamp) f.watermark = watermark;
    if (op.is_source) snap.source_records += f.records_out;
    if (op.is_sink) snap.sink_records += f.records_in;
  }
  for (const runtime::TaskMetrics& t : job.tasks) {
    for (size_t i = 0; i < job.operators.size(); ++i) {
      if (job.operators[i].chain != t.chain) continue;
      OperatorFigures& f = snap.operators[i];
      f.busy_us += t.busy_us.get();
      f.idle_us += t.idle_us.get();
      f.backpressured_us += t.backpressured_us.get();
      if (static_cast<int>(i) == head_of_chain[t.chain]) f.queue_depth += t.queue_depth();
    }
  }
  return snap;
}

double quantile_ms(const LatencyBuckets& buckets, double q) {
  using H = detail::LatencyHistogram;
  uint64_t total = 0;
  for (uint64_t n : buckets) total += n;
  if (total == 0) return -1;
  const double rank = q * static_cast<double>(total);
  uint64_t below = 0;
  for (size_t b = 0; b < buckets.size(); ++b) {
    if (buckets[b] == 0 || static_cast<double>(below + buckets[b]) < rank) {
      below += buckets[b];
      continue;
    }
    const double lo = b == 0 ? 0 : H::kBoundsMs[b - 1];
    if (b == H::kBoundsMs.size()) return lo;  // beyond the last bound
    const double hi = H::kBoundsMs[b];
    const double within = (rank - static_cast<double>(below)) / static_cast<double>(buckets[b]);
    return lo + (hi - lo) * std::clamp(within, 0.0, 1.0);
  }
  return H::kBoundsMs.back();
}

LatencyBuckets difference(const LatencyBuckets& later, const LatencyBuckets& earlier) {
  LatencyBuckets d{};
  for (size_t b = 0; b < d.size(); ++b) d[b] = later[b] - std::min(later[b], earlier[b]);
  return d;
}

}  // namespace sluice::observe
