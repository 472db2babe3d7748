#include "checkpoint/checkpoint_coordinator.h"

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

namespace sluice::checkpoint {
namespace {
// The runtime's scheduling clock (steady_clock in µs), which tick() is given.
int64_t monotonic_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

CheckpointCoordinator::CheckpointCoordinator(CheckpointConfig config, int max_parallelism,
                                             std::vector<NodeLayout> nodes, int tasks,
                                             uint64_t first_id,
                                             std::unique_ptr<CheckpointStore> store)
    : CheckpointControl(first_id),
      config_(std::move(config)),
      max_parallelism_(max_parallelism),
      nodes_(std::move(nodes)),
      tasks_(tasks),
      storage_(std::move(store)),
      next_id_(first_id) {
  writer_ = std::thread([this] { writer_loop(); });
}

CheckpointCoordinator::~CheckpointCoordinator() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    shutdown_ = true;
  }
  cv_.notify_all();
  writer_.join();
  const Status ended = Status::cancelled("the job ended before the savepoint was taken");
  if (aligning_) answer(pending_, ended);
  for (auto& r : requests_) r->done.set_value(ended);
}

std::future<Result<std::string>> CheckpointCoordinator::request_savepoint(std::string target_dir,
                                                                          bool stop) {
  auto request = std::make_shared<SavepointRequest>();
  request->target_dir = std::move(target_dir);
  request->stop = stop;
  std::future<Result<std::string>> done = request->done.get_future();
  std::lock_guard<std::mutex> lock(mutex_);
  requests_.push_back(std::move(request));
  return done;
}

std::optional<std::string> CheckpointCoordinator::stopped_with() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stopped_with_;
}

void CheckpointCoordinator::answer(Pending& p, Result<std::string> result) {
  if (p.savepoint == nullptr) return;
  if (!result && stop_id() == p.id) publish_stop(0);
  p.savepoint->done.set_value(std::move(result));
  p.savepoint.reset();
}

bool CheckpointCoordinator::trigger_savepoint(int64_t now_us) {
  while (!requests_.empty()) {
    std::shared_ptr<SavepointRequest> request = std::move(requests_.front());
    requests_.pop_front();
    if (stopped_ || stop_id() != 0) {
      request->done.set_value(Status::failed(stopped_ ? "no savepoint: the job has finished"
                                                      : "no savepoint: the job is stopping"));
      continue;
    }
    pending_ = Pending{};
    pending_.id = next_id_++;
    pending_.started_us = now_us;
    pending_.savepoint = std::move(request);
    aligning_ = true;
    // Before the trigger: a source that sees the trigger must see that it stops there.
    if (pending_.savepoint->stop) publish_stop(pending_.id);
    publish_trigger(pending_.id);
    return true;
  }
  return false;
}

bool CheckpointCoordinator::tick(int64_t now_us) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (last_trigger_us_ == 0) last_trigger_us_ = now_us;
  if (aligning_ && now_us - pending_.started_us > config_.timeout_us) {
    fail(pending_.id, "timed out after " + std::to_string(config_.timeout_us / 1000) + " ms");
  }
  if (aligning_ || to_write_.size() > 1) return false;
  if (!requests_.empty()) return trigger_savepoint(now_us);
  if (stopped_ || stop_id() != 0 || config_.interval_us <= 0) return false;
  if (writing_ || !to_write_.empty()) return false;  // the previous one is still being written
  if (now_us - last_trigger_us_ < config_.interval_us) return false;
  last_trigger_us_ = now_us;
  pending_ = Pending{};
  pending_.id = next_id_++;
  pending_.started_us = now_us;
  aligning_ = true;
  publish_trigger(pending_.id);
  return true;
}

void CheckpointCoordinator::abandon(uint64_t id) {
  abandoned_.push_back(id);
  publish_abandoned_count(abandoned_.size());
}

std::vector<uint64_t> CheckpointCoordinator::abandoned_since(uint64_t from) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (from >= abandoned_.size()) return {};
  return std::vector<uint64_t>(abandoned_.begin() + static_cast<ptrdiff_t>(from), abandoned_.end());
}

void CheckpointCoordinator::fail(uint64_t id, const std::string& reason) {
  abandon(id);
  aligning_ = false;
  ++figures_.failed;
  figures_.last_failure = fmt::format("checkpoint {} abandoned: {}", id, reason);
  answer(pending_, Status::failed(figures_.last_failure));
  pending_ = Pending{};
  std::fprintf(stderr, "sluice: %s\n", figures_.last_failure.c_str());
}

void CheckpointCoordinator::acknowledge(uint64_t id, std::vector<SubtaskState> states,
                                        int64_t alignment_us, int64_t sync_us) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!aligning_ || id != pending_.id) return;  // abandoned meanwhile
  for (SubtaskState& s : states) pending_.states.push_back(std::move(s));
  pending_.alignment_us = std::max(pending_.alignment_us, alignment_us);
  pending_.sync_us = std::max(pending_.sync_us, sync_us);
  figures_.max_pause_us = std::max(figures_.max_pause_us, alignment_us + sync_us);
  figures_.max_sync_us = std::max(figures_.max_sync_us, sync_us);
  if (++pending_.acks < tasks_) return;
  aligning_ = false;
  to_write_.push_back(std::move(pending_));
  pending_ = Pending{};
  cv_.notify_all();
}

void CheckpointCoordinator::decline(uint64_t id, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (aligning_ && id == pending_.id) fail(id, reason);
}

void CheckpointCoordinator::write(Pending p) {
  Result<WrittenCheckpoint> written =
      p.savepoint ? storage_.write_savepoint(p.savepoint->target_dir, p.id, max_parallelism_,
                                             nodes_, p.states)
                  : storage_.write(p.id, max_parallelism_, nodes_, p.states);
  std::lock_guard<std::mutex> lock(mutex_);
  if (!written) {
    ++figures_.failed;
    figures_.last_failure =
        fmt::format("{} {} not written: {}", p.savepoint ? "savepoint" : "checkpoint", p.id,
                    written.status().message());
    std::fprintf(stderr, "sluice: %s\n", figures_.last_failure.c_str());
    answer(p, Status::failed(figures_.last_failure));
    abandon(p.id);
    return;
  }
  if (p.savepoint == nullptr && !config_.dir.empty()) storage_.retain(config_.retain);
  ++figures_.completed;
  figures_.last_id = p.id;
  if (p.acks > 0) {  // periodic (the final checkpoint is written after the job, without pause)
    figures_.last_duration_us = monotonic_us() - p.started_us;
    figures_.last_alignment_us = p.alignment_us;
    figures_.last_sync_us = p.sync_us;
    figures_.last_bytes = written->bytes;
  }
  const bool periodic = p.acks > 0;
  completed_log_.push_back(
      {p.id, monotonic_us() - p.started_us, periodic ? p.alignment_us : 0, written->bytes});
  publish_completed(p.id);
  if (p.savepoint != nullptr && p.savepoint->stop) stopped_with_ = written->location;
  answer(p, written->location);
}

void CheckpointCoordinator::writer_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    cv_.wait(lock, [&] { return shutdown_ || !to_write_.empty(); });
    if (to_write_.empty()) return;
    Pending p = std::move(to_write_.front());
    to_write_.pop_front();
    writing_ = true;
    lock.unlock();
    write(std::move(p));
    lock.lock();
    writing_ = false;
    cv_.notify_all();
  }
}

void CheckpointCoordinator::drain() {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [&] { return to_write_.empty() && !writing_; });
}

uint64_t CheckpointCoordinator::final_id() {
  drain();
  std::lock_guard<std::mutex> lock(mutex_);
  stopped_ = true;
  if (aligning_) {  // some tasks may have prepared it
    answer(pending_, Status::failed("no savepoint: the job has finished"));
    abandon(pending_.id);
  }
  aligning_ = false;
  return next_id_++;
}

Result<uint64_t> CheckpointCoordinator::write_final(uint64_t id, std::vector<SubtaskState> states) {
  Pending p;
  p.id = id;
  p.started_us = monotonic_us();
  p.states = std::move(states);
  write(std::move(p));
  if (completed_id() != id) {
    std::lock_guard<std::mutex> lock(mutex_);
    return Status::failed(figures_.last_failure);
  }
  return id;
}

CheckpointFigures CheckpointCoordinator::figures() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return figures_;
}

std::vector<CompletedCheckpoint> CheckpointCoordinator::take_completed() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<CompletedCheckpoint> done;
  done.swap(completed_log_);
  return done;
}

}  // namespace sluice::checkpoint
