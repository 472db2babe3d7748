// The figures of a running job as the runtime keeps them: the physical graph (operators with
// their parallelism and chain, edges with their partitioning) and, per operator subtask and per
// task, the single-writer counters the data path updates (operator_metrics.h). Built once by the
// JobRunner before the job starts; its shape never changes afterwards, so readers on other threads
// (the metrics endpoint, the status line) walk it without a lock and read the counters' relaxed
// atomics.
//
// Time accounting per task, from the worker pool's slices: a slice that made progress is busy
// time; a slice that found the task blocked on a full output channel, and the time until its next
// slice, is backpressured time; every other moment (no input, or waiting while other tasks of the
// same worker run) is idle time. The three add up to the task's wall time.
//
// Thread-safety: shape read-only once the job starts; counters as in operator_metrics.h.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "sluice/detail/operator_metrics.h"

namespace sluice::runtime {

class Channel;

// Aligned to a cache line, as are operator metrics below: subtasks run on different workers, and
// counters of two subtasks sharing a line would make their threads fight over it on every batch.
struct alignas(64) TaskMetrics {
  int chain = 0;
  int subtask = 0;
  detail::SingleWriterCounter busy_us;
  detail::SingleWriterCounter idle_us;
  detail::SingleWriterCounter backpressured_us;
  std::vector<const Channel*> inputs;  // input queue depth = envelopes waiting in these
  // The task thread's own, never read elsewhere (metered_output.h): the ingestion time (monotonic
  // µs) of the input being processed, stamped on the batches the task emits; the start of the
  // current slice, the "now" of sink latencies (no clock read per batch); and wall clock minus
  // monotonic clock (ms), fixed when the job starts, for event-time latency.
  int64_t ingest_us = 0;
  int64_t now_us = 0;
  int64_t wall_offset_ms = 0;

  size_t queue_depth() const;
};

struct OperatorNode {
  std::string name;
  int parallelism = 1;
  int chain = 0;  // the task chain (operators of one chain run in the same tasks)
  bool is_source = false;
  bool is_sink = false;                            // ends its chain with no output
  std::vector<detail::OperatorMetrics*> subtasks;  // by subtask; not owned
};

struct EdgeNode {
  int from = 0;
  int to = 0;
  std::string partitioning;  // "forward", "rebalance", "broadcast", "hash"
  bool chained = false;      // a direct call inside a task, no channel
  bool side_output = false;
};

class JobMetrics {
 public:
  std::string job_name;
  int64_t start_wall_ms = 0;            // wall clock when the job started
  std::vector<OperatorNode> operators;  // in graph order (upstream first)
  std::vector<EdgeNode> edges;
  std::deque<TaskMetrics> tasks;  // deque: stable addresses

  // Forgets the figures of an earlier attempt: a restart builds the tasks anew.
  void clear() {
    start_wall_ms = 0;
    operators.clear();
    edges.clear();
    tasks.clear();
    operator_metrics_.clear();
  }

  detail::OperatorMetrics* add_operator_metrics() {
    return &operator_metrics_.emplace_back().metrics;
  }

 private:
  struct alignas(64) Padded {
    detail::OperatorMetrics metrics;
  };
  std::deque<Padded> operator_metrics_;
};

}  // namespace sluice::runtime
