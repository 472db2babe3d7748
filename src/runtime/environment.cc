#include "sluice/environment.h"

#include <unistd.h>

#include "checkpoint/job_checkpointing.h"
#include "observe/job_monitor.h"
#include "runtime/job_runner.h"

namespace sluice {

Environment::Environment(JobOptions options) : options_(options) {}

Environment::~Environment() = default;

Status Environment::execute(const std::string& job_name) {
  // Metrics, endpoint and status line when the options ask for them (observe/job_monitor.h).
  std::unique_ptr<observe::JobMonitor> monitor;
  const bool terminal = isatty(STDERR_FILENO) == 1;
  if (observe::JobMonitor::wanted(options_)) {
    Result<std::unique_ptr<observe::JobMonitor>> m =
        observe::JobMonitor::create(options_, job_name, terminal);
    if (!m) return m.status();
    monitor = std::move(*m);
    monitor->set_savepoint_handler(
        [this](const std::string& dir, bool stop) { return savepoint(dir, stop); });
  }
  // Checkpoints and savepoints: the checkpoint layer's coordinator and storage
  // (checkpoint/job_checkpointing.h), which the runtime sees through its own interfaces.
  checkpoint::JobCheckpointing checkpointing;
  runtime::JobRunner runner(graph_, options_, monitor.get(), job_name, &checkpointing);
  {
    std::lock_guard<std::mutex> lock(running_mutex_);
    running_ = &runner;
    if (cancel_requested_) runner.cancel();  // cancel() came just before execute()
  }
  Status status = runner.run();
  {
    // After this, cancel() cannot reach the runner, which dies with this frame; and the request,
    // if any, was for this job: the next execute() starts afresh.
    std::lock_guard<std::mutex> lock(running_mutex_);
    running_ = nullptr;
    cancel_requested_ = false;
  }
  stats_ = runner.stats();
  return status;
}

Result<std::string> Environment::trigger_savepoint(const std::string& dir) {
  return savepoint(dir, false);
}

Result<std::string> Environment::stop_with_savepoint(const std::string& dir) {
  return savepoint(dir, true);
}

Result<std::string> Environment::savepoint(const std::string& dir, bool stop) {
  Result<std::future<Result<std::string>>> done = Status::not_found("no job is running");
  {
    std::lock_guard<std::mutex> lock(running_mutex_);
    if (running_ != nullptr) {
      done = static_cast<runtime::JobRunner*>(running_)->request_savepoint(dir, stop);
    }
  }
  if (!done) return done.status();
  // Answered by the coordinator (complete, failed, timed out) or when the job ends.
  return done->get();
}

void Environment::cancel() {
  std::lock_guard<std::mutex> lock(running_mutex_);
  cancel_requested_ = true;
  if (running_ != nullptr) static_cast<runtime::JobRunner*>(running_)->cancel();
}

}  // namespace sluice
