// A point-in-time reading of a running job's figures (runtime/job_metrics.h), summed over
// subtasks per operator: what the REST API, the dashboard and the status line are computed from.
// Rates come from the difference of two snapshots.
//
// Thread-safety: take_snapshot() from any thread while the job's metrics are alive.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "runtime/job_metrics.h"

namespace sluice::observe {

using LatencyBuckets = std::array<uint64_t, detail::LatencyHistogram::kBuckets>;

// The largest connector lag that is a lag: an unbounded source publishes all it could still make
// (up to 2^64 rows), which is neither reported nor summed. Below 2^53 per subtask, sums of
// subtasks cannot overflow and the figure is exact as a double (Prometheus).
inline constexpr int64_t kLargestConnectorLag = int64_t{1} << 53;

struct OperatorFigures {
  uint64_t records_in = 0;
  uint64_t records_out = 0;
  uint64_t side_records_out = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t late_dropped = 0;
  uint64_t dead_lettered = 0;
  uint64_t bad_records = 0;
  int64_t state_bytes = 0;
  int64_t state_keys = 0;
  int64_t connector_lag = -1;         // summed over subtasks that publish one; -1: none does
  int64_t watermark = kMinTimestamp;  // the lowest over subtasks that emitted one
  // Of the tasks running the operator's chain, summed over subtasks.
  uint64_t busy_us = 0;
  uint64_t idle_us = 0;
  uint64_t backpressured_us = 0;
  uint64_t queue_depth = 0;  // the chain head's input queues; 0 for the other operators
};

struct JobSnapshot {
  int64_t monotonic_us = 0;
  int64_t wall_ms = 0;
  std::vector<OperatorFigures> operators;  // as JobMetrics::operators
  LatencyBuckets ingest_latency{};         // all sinks, rows per bucket
  LatencyBuckets event_latency{};
  uint64_t source_records = 0;  // emitted by sources
  uint64_t sink_records = 0;    // received by sinks
};

JobSnapshot take_snapshot(const runtime::JobMetrics& job);

// The q-quantile (0..1) in milliseconds of the rows counted in `buckets`, interpolated within
// its bucket; a negative value when there are none.
double quantile_ms(const LatencyBuckets& buckets, double q);

// `later` minus `earlier`, bucket by bucket: the latencies observed between two snapshots.
LatencyBuckets difference(const LatencyBuckets& later, const LatencyBuckets& earlier);

}  // namespace sluice::observe
