#include "runtime/commit_lane.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>

#include <fmt/format.h>

#include "runtime/committer.h"

namespace sluice::runtime {

namespace {
int64_t steady_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

// Removes the ids up to `id` from an ascending list.
void drop_through(std::vector<uint64_t>& ids, uint64_t id) {
  ids.erase(ids.begin(), std::upper_bound(ids.begin(), ids.end(), id));
}
}  // namespace

void CommitLane::prepared(uint64_t id) {
  last_prepared_ = std::max(last_prepared_, id);
  std::sort(abandoned_ahead_.begin(), abandoned_ahead_.end());
  const bool known_abandoned =
      std::binary_search(abandoned_ahead_.begin(), abandoned_ahead_.end(), id);
  drop_through(abandoned_ahead_, id);  // the lower ones were never prepared: nothing to abort
  if (known_abandoned) {
    push({false, id});
    return;
  }
  prepared_.push_back(id);
}

void CommitLane::completed(uint64_t id) {
  drop_through(prepared_, id);
  std::sort(abandoned_ahead_.begin(), abandoned_ahead_.end());
  drop_through(abandoned_ahead_, id);
  push({true, id});
}

void CommitLane::abandoned(uint64_t id) {
  auto it = std::find(prepared_.begin(), prepared_.end(), id);
  if (it != prepared_.end()) {
    prepared_.erase(it);
    push({false, id});
  } else if (id > last_prepared_) {
    abandoned_ahead_.push_back(id);
  }  // else: the task went past it without preparing it
}

void CommitLane::push(Step step) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (failed_) return;
    steps_.push_back(step);
  }
  if (off_thread_ && committer_ != nullptr) committer_->wake();
}

Status CommitLane::call(const Step& step) {
  try {
    return step.commit ? op_->commit_checkpoint(step.id) : op_->abort_checkpoint(step.id);
  } catch (const std::exception& e) {
    return Status::failed(e.what());
  } catch (...) {
    return Status::failed("unknown exception");
  }
}

Status CommitLane::run(int64_t now_us) {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!failed_ && !steps_.empty() && retry_at_us_ <= now_us) {
    const Step step = steps_.front();
    lock.unlock();  // a blocking commit must not hold up the task queueing the next step
    Status s = call(step);
    lock.lock();
    const char* what = step.commit ? "commit" : "abort";
    if (s.is_ok()) {
      steps_.pop_front();
      backoff_us_ = 0;
      retry_at_us_ = 0;
      continue;
    }
    if (s.code() == StatusCode::kUnavailable) {
      backoff_us_ = backoff_us_ == 0 ? kFirstBackoffUs : std::min(backoff_us_ * 2, kMaxBackoffUs);
      retry_at_us_ = std::max(now_us, steady_us()) + backoff_us_;  // after a call that blocked
      std::fprintf(stderr, "sluice: operator %s: %s of checkpoint %llu again in %lld ms: %s\n",
                   op_->info().display().c_str(), what, static_cast<unsigned long long>(step.id),
                   static_cast<long long>(backoff_us_ / 1000), s.message().c_str());
      break;
    }
    failed_ = true;
    failure_ = Status(s.code(), fmt::format("{} of checkpoint {}: {}", what, step.id, s.message()));
    steps_.clear();
    return failure_;
  }
  return Status::ok();
}

int64_t CommitLane::due_us() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (failed_ || steps_.empty()) return INT64_MAX;
  return retry_at_us_;
}

bool CommitLane::idle() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return steps_.empty();
}

Status CommitLane::failure() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return failure_;
}

}  // namespace sluice::runtime
