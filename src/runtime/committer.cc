#include "runtime/committer.h"

#include <algorithm>
#include <chrono>

namespace sluice::runtime {

namespace {
int64_t steady_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}
}  // namespace

std::string commit_failure_message(const detail::Operator& op, const Status& failure) {
  return "operator " + op.info().display() + " failed: " + failure.message();
}

Committer::~Committer() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    shutdown_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

CommitLane* Committer::add_lane(detail::Operator* op) {
  lanes_.push_back(std::make_unique<CommitLane>(op, op->commit_blocks(), this));
  return lanes_.back().get();
}

void Committer::start(std::function<void(const std::string&)> on_failure) {
  on_failure_ = std::move(on_failure);
  const bool needed = std::any_of(lanes_.begin(), lanes_.end(),
                                  [](const auto& lane) { return lane->off_thread(); });
  if (needed) start_thread();
}

void Committer::start_thread() {
  if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
}

void Committer::wake() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    woken_ = true;
  }
  cv_.notify_one();
}

void Committer::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!shutdown_) {
    woken_ = false;
    const bool all = all_lanes_;
    lock.unlock();
    int64_t next = INT64_MAX;
    for (const auto& lane : lanes_) {
      if (!all && !lane->off_thread()) continue;
      const int64_t now = steady_us();
      if (lane->due_us() <= now) {
        Status s = lane->run(now);
        if (!s.is_ok() && on_failure_) on_failure_(commit_failure_message(lane->op(), s));
      }
      next = std::min(next, lane->due_us());
    }
    lock.lock();
    done_cv_.notify_all();
    if (woken_ || shutdown_) continue;
    if (next == INT64_MAX) {
      cv_.wait(lock, [&] { return woken_ || shutdown_; });
    } else {
      cv_.wait_for(lock, std::chrono::microseconds(std::max<int64_t>(0, next - steady_us())),
                   [&] { return woken_ || shutdown_; });
    }
  }
}

Status Committer::drain(const std::function<bool()>& cancelled) {
  if (lanes_.empty()) return Status::ok();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    all_lanes_ = true;
    woken_ = true;
  }
  start_thread();
  cv_.notify_all();
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    bool idle = true;
    for (const auto& lane : lanes_) {
      const bool lane_idle = lane->idle();  // before failure(): a failing lane empties itself
      Status failure = lane->failure();
      if (!failure.is_ok()) return Status::failed(commit_failure_message(lane->op(), failure));
      idle = idle && lane_idle;
    }
    if (idle) return Status::ok();
    if (cancelled && cancelled()) return Status::cancelled("job cancelled while its sinks commit");
    done_cv_.wait_for(lock, std::chrono::milliseconds(20));
  }
}

}  // namespace sluice::runtime
