// JobTracker: the live view of one job for the REST API, the dashboard and the status line.
//
// A sampler thread takes a snapshot (job_snapshot.h) every `interval_ms`, derives per-operator
// rates and busy/idle/backpressured fractions from the previous one, and keeps the last
// `kHistory` points of the job's throughput, latency percentiles (of the rows that reached sinks
// during the interval) and watermark lag for the charts. Checkpoints and errors reported by the
// control plane are kept in bounded histories. Sampling reads the data path's counters only.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "observe/job_snapshot.h"
#include "runtime/job_metrics.h"

namespace sluice::observe {

struct HistoryPoint {
  int64_t wall_ms = 0;
  double in_per_s = 0;   // records emitted by sources
  double out_per_s = 0;  // records received by sinks
  double p50_ms = -1;    // ingestion-to-sink latency over the interval; -1: no rows
  double p99_ms = -1;
  double event_p99_ms = -1;      // event time to sink
  double watermark_lag_ms = -1;  // wall clock minus the lowest operator watermark; -1: none
};

struct CheckpointRecord {
  uint64_t id = 0;
  bool completed = false;
  int64_t wall_ms = 0;
  int64_t duration_us = 0;
  int64_t alignment_us = 0;
  uint64_t bytes = 0;
  std::string reason;  // why it failed
};

struct ErrorRecord {
  int64_t wall_ms = 0;
  std::string kind;
  std::string message;
};

class JobTracker {
 public:
  static constexpr size_t kHistory = 300;
  static constexpr size_t kCheckpointHistory = 100;
  static constexpr size_t kErrorHistory = 50;

  explicit JobTracker(int interval_ms = 1000) : interval_ms_(interval_ms) {}
  ~JobTracker();

  // Starts sampling `job`, which stays alive until stop() returns.
  void start(const runtime::JobMetrics* job);
  // Takes a last sample, stops the sampler and lets go of the job's metrics; `state` is how the
  // job ended ("finished", "failed", "cancelled").
  void stop(std::string state);

  void checkpoint(CheckpointRecord record);
  void error(std::string_view kind, std::string_view message);

  // The latest history point (zeros before the first interval).
  HistoryPoint latest() const;
  // The last completed checkpoint, if any (id 0 otherwise).
  CheckpointRecord last_checkpoint() const;
  // The document served at /api/job (see README: REST API).
  std::string json() const;

 private:
  void loop();
  void sample();  // REQUIRES: mutex_ held

  const int interval_ms_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::thread thread_;
  bool stopping_ = false;                     // guarded by mutex_
  const runtime::JobMetrics* job_ = nullptr;  // guarded by mutex_
  // The shape and last figures of the job, kept after stop(); guarded by mutex_.
  std::vector<runtime::OperatorNode> operators_;
  std::vector<runtime::EdgeNode> edges_;
  std::string job_name_;
  std::string state_ = "created";
  int64_t start_wall_ms_ = 0;
  JobSnapshot last_;
  std::vector<double> in_rate_, out_rate_;           // per operator, records per second
  std::vector<double> busy_, idle_, backpressured_;  // per operator, fractions of wall time
  std::deque<HistoryPoint> history_;
  std::deque<CheckpointRecord> checkpoints_;
  uint64_t checkpoints_completed_ = 0;
  uint64_t checkpoints_failed_ = 0;
  std::deque<ErrorRecord> errors_;
};

}  // namespace sluice::observe
