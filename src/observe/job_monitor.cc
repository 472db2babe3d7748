#include "observe/job_monitor.h"

#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>

#include "runtime/metered_output.h"

namespace sluice::observe {

bool JobMonitor::wanted(const JobOptions& options) {
  return options.metrics_address != "off" || options.progress != Progress::kOff;
}

JobMonitor::JobMonitor(const std::string& job_name, int sample_ms)
    : registry_(job_name), tracker_(sample_ms) {}

JobMonitor::~JobMonitor() {
  if (progress_) progress_->stop();
  if (endpoint_) endpoint_->stop();
}

Result<std::unique_ptr<JobMonitor>> JobMonitor::create(const JobOptions& options,
                                                       const std::string& job_name,
                                                       bool stderr_is_terminal, int sample_ms) {
  static std::once_flag log_levels;
  std::call_once(log_levels, [] {
    // Logs go to stderr: stdout belongs to the job's own output (print sinks, results).
    spdlog::set_default_logger(spdlog::stderr_color_mt("sluice"));
    spdlog::cfg::load_env_levels();  // SPDLOG_LEVEL=debug, ...
  });
  std::unique_ptr<JobMonitor> m(new JobMonitor(job_name, sample_ms));
  if (options.metrics_address != "off") {
    m->endpoint_ = std::make_unique<HttpEndpoint>(&m->registry_, &m->tracker_);
    SLUICE_RETURN_IF_ERROR(m->endpoint_->start(options.metrics_address));
    spdlog::info("job '{}': metrics at http://{}/metrics, dashboard at http://{}/", job_name,
                 m->endpoint_->address(), m->endpoint_->address());
  }
  const bool live = options.progress == Progress::kOn ||
                    (options.progress == Progress::kAuto && stderr_is_terminal);
  if (options.progress != Progress::kOff) {
    m->progress_ = std::make_unique<ProgressReporter>(
        &m->tracker_, live ? ProgressReporter::Mode::kLiveLine : ProgressReporter::Mode::kLogLines);
  }
  return m;
}

void JobMonitor::job_started(const runtime::JobMetrics& metrics) {
  registry_.attach(&metrics);
  tracker_.start(&metrics);
  if (progress_) progress_->start();
}

void JobMonitor::job_finished(const Status& status) {
  if (progress_) progress_->stop();
  const char* state = status.is_ok()                            ? "finished"
                      : status.code() == StatusCode::kCancelled ? "cancelled"
                                                                : "failed";
  tracker_.stop(state);
  registry_.detach();
}

void JobMonitor::checkpoint_completed(uint64_t id, int64_t duration_us, int64_t alignment_us,
                                      uint64_t bytes) {
  registry_.checkpoint_completed(duration_us, alignment_us, bytes);
  tracker_.checkpoint(
      CheckpointRecord{id, true, runtime::wall_clock_ms(), duration_us, alignment_us, bytes, {}});
}

void JobMonitor::checkpoint_failed(uint64_t id, std::string_view reason) {
  registry_.checkpoint_failed();
  tracker_.checkpoint(
      CheckpointRecord{id, false, runtime::wall_clock_ms(), 0, 0, 0, std::string(reason)});
  tracker_.error("checkpoint", reason);
}

void JobMonitor::error(std::string_view kind, std::string_view message) {
  registry_.error(kind);
  tracker_.error(kind, message);
  spdlog::debug("{} error: {}", kind, message);  // the caller gets failures as a Status
}

}  // namespace sluice::observe
