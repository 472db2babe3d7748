// The worker pool: a fixed set of threads that run tasks cooperatively.
//
// Each task is assigned to one worker for the life of the job; a worker loops over its tasks,
// giving each a bounded slice. When none of them can make progress it sleeps until a channel
// event wakes it (a push into one of its inputs, or room in one of its outputs) or until the
// earliest deadline of its tasks (a partial batch to flush, a rate-limited source to poll).
//
// Sleep protocol (no lost wake-ups): the worker sets `sleeping_` and then re-checks its tasks;
// a waker publishes its channel change and then reads `sleeping_`. Both sides order these with
// sequentially consistent fences, so at least one of them sees the other.
//
// Thread-safety: wake() from any thread; everything else is used by the pool's owner.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/task.h"

namespace sluice::runtime {

class WorkerPool;

class Worker {
 public:
  Worker(WorkerPool* pool, int index) : pool_(pool), index_(index) {}
  void add_task(Task* task) { tasks_.push_back(task); }
  void start();
  void join();
  void wake();

 private:
  void loop();
  void sleep_until(int64_t deadline_us);

  WorkerPool* pool_;
  int index_;
  std::vector<Task*> tasks_;
  std::thread thread_;
  std::atomic<bool> sleeping_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool wake_pending_ = false;  // guarded by mutex_
};

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();

  // Assigns `tasks` to workers (subtask-wise round robin in the order given) and starts them.
  void start(const std::vector<Task*>& tasks);
  // Blocks until every task finished, the job failed, or cancel() was called; then joins.
  void join();
  // Stops every worker at its next slice boundary. Any thread.
  void cancel();
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

  // Called by workers.
  // The first failure wins; `kind` is a string literal (OperatorInfo::error_kind).
  void report_failure(std::string message, const char* kind);
  void task_finished();
  std::string failure() const;
  const char* failure_kind() const;
  bool all_finished() const { return unfinished_.load() == 0; }
  // Blocks the caller until all tasks finished or the job stopped, or `timeout_ms` passed.
  void wait_for(int timeout_ms);

 private:
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> cancelled_{false};
  std::atomic<int> unfinished_{0};
  mutable std::mutex mutex_;
  std::condition_variable done_cv_;
  std::string failure_;                    // guarded by mutex_
  const char* failure_kind_ = "operator";  // guarded by mutex_
};

// Monotonic clock in microseconds.
int64_t monotonic_us();

}  // namespace sluice::runtime
