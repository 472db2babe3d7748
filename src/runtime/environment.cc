#include "sluice/environment.h"

#include "runtime/job_runner.h"

namespace sluice {

Environment::Environment(JobOptions options) : options_(options) {}

Environment::~Environment() = default;

Status Environment::execute(const std::string& job_name) {
  (void)job_name;
  runtime::JobRunner runner(graph_, options_);
  running_.store(&runner);
  if (cancel_requested_.load()) runner.cancel();
  Status status = runner.run();
  running_.store(nullptr);
  stats_ = runner.stats();
  return status;
}

void Environment::cancel() {
  cancel_requested_.store(true);
  if (void* r = running_.load()) static_cast<runtime::JobRunner*>(r)->cancel();
}

}  // namespace sluice
