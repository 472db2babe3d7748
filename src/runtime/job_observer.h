// JobObserver: what the control plane tells the outside about a running job. The observe layer
// implements it (metrics, REST API, dashboard, status line); the runtime calls it when the job
// starts and ends, and the checkpoint coordinator when a checkpoint completes or fails.
//
// Thread-safety: implementations accept calls from any thread; none is made on the data path.
#pragma once

#include <cstdint>
#include <string_view>

#include "runtime/job_metrics.h"
#include "sluice/status.h"

namespace sluice::runtime {

class JobObserver {
 public:
  virtual ~JobObserver() = default;

  // The tasks are built and about to run; `metrics` stays valid until job_finished() returns.
  virtual void job_started(const JobMetrics& metrics) { (void)metrics; }
  // Every task stopped; after this the runtime frees what job_started() lent.
  virtual void job_finished(const Status& status) { (void)status; }

  // A checkpoint's manifest is in place: `duration_us` from trigger to completion, of which
  // `alignment_us` was spent aligning barriers; `bytes` of state written.
  virtual void checkpoint_completed(uint64_t id, int64_t duration_us, int64_t alignment_us,
                                    uint64_t bytes) {
    (void)id, (void)duration_us, (void)alignment_us, (void)bytes;
  }
  virtual void checkpoint_failed(uint64_t id, std::string_view reason) { (void)id, (void)reason; }

  // An error that did not necessarily stop the job; `kind` is a short token ("operator",
  // "source", "sink", "checkpoint") used as a metric label.
  virtual void error(std::string_view kind, std::string_view message) { (void)kind, (void)message; }
};

}  // namespace sluice::runtime
