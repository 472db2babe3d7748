// JobMonitor: everything that watches one execution of a job. It serves the job's HTTP endpoint
// (metrics, REST API, dashboard), samples its figures (JobTracker) and shows its progress on
// stderr (ProgressReporter), as the job options `metrics.address` and `progress` ask; the runtime
// and the checkpoint coordinator report to it through runtime::JobObserver.
//
// Lifetime: create before the job runs; the endpoint keeps serving the final figures until the
// monitor is destroyed.
//
// Thread-safety: the JobObserver calls from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "observe/http_endpoint.h"
#include "observe/job_tracker.h"
#include "observe/metrics_registry.h"
#include "observe/progress_reporter.h"
#include "runtime/job_observer.h"
#include "sluice/options.h"

namespace sluice::observe {

class JobMonitor final : public runtime::JobObserver {
 public:
  // Whether the options ask for any monitoring.
  static bool wanted(const JobOptions& options);
  // Starts the endpoint (logging its address) when asked for; `stderr_is_terminal` decides
  // progress=auto. Not OK when the endpoint cannot listen.
  static Result<std::unique_ptr<JobMonitor>> create(const JobOptions& options,
                                                    const std::string& job_name,
                                                    bool stderr_is_terminal, int sample_ms = 1000);
  ~JobMonitor() override;

  // The endpoint's address, empty when `metrics.address` is off.
  std::string address() const { return endpoint_ ? endpoint_->address() : std::string(); }
  const JobTracker& tracker() const { return tracker_; }
  // Lets the endpoint's savepoint routes reach the job (http_endpoint.h); no-op without endpoint.
  void set_savepoint_handler(HttpEndpoint::SavepointHandler handler) {
    if (endpoint_) endpoint_->set_savepoint_handler(std::move(handler));
  }
  const MetricsRegistry& registry() const { return registry_; }

  void job_started(const runtime::JobMetrics& metrics) override;
  void job_finished(const Status& status) override;
  void checkpoint_completed(uint64_t id, int64_t duration_us, int64_t alignment_us,
                            uint64_t bytes) override;
  void checkpoint_failed(uint64_t id, std::string_view reason) override;
  void error(std::string_view kind, std::string_view message) override;

 private:
  JobMonitor(const std::string& job_name, int sample_ms);

  MetricsRegistry registry_;
  JobTracker tracker_;
  std::unique_ptr<HttpEndpoint> endpoint_;
  std::unique_ptr<ProgressReporter> progress_;
};

}  // namespace sluice::observe
