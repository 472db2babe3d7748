#include "runtime/worker_pool.h"

#include <chrono>

#include "sluice/detail/operator.h"

namespace sluice::runtime {

namespace {
constexpr int kSpinRounds = 64;
constexpr int64_t kMaxSleepUs = 50'000;
}  // namespace

int64_t monotonic_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

void Worker::start() {
  thread_ = std::thread([this] { loop(); });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::wake() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!sleeping_.load(std::memory_order_relaxed)) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_pending_ = true;
  }
  cv_.notify_one();
}

void Worker::sleep_until(int64_t deadline_us) {
  std::unique_lock<std::mutex> lock(mutex_);
  int64_t wait = std::min(deadline_us - monotonic_us(), kMaxSleepUs);
  if (wait > 0 && !wake_pending_) {
    cv_.wait_for(lock, std::chrono::microseconds(wait),
                 [&] { return wake_pending_ || pool_->cancelled(); });
  }
  wake_pending_ = false;
}

// A worker runs until every task of the pool has finished, not only its own: a finished task
// still acknowledges checkpoints and lets its sinks commit (Task::run_finished).
void Worker::loop() {
  int idle_rounds = 0;
  while (!pool_->all_finished() && !pool_->cancelled()) {
    int64_t now = monotonic_us();
    bool progress = false;
    for (Task* task : tasks_) {
      Task::Slice s;
      try {
        if (task->finished()) {
          progress |= task->run_finished();
          continue;
        }
        s = task->run_slice(now);
      } catch (const detail::OperatorError& e) {
        pool_->report_failure(e.what(), e.kind());
        return;
      } catch (const std::exception& e) {
        pool_->report_failure(e.what(), "operator");
        return;
      }
      const int64_t end = monotonic_us();  // one clock read per slice: the next slice's start
      task->account(s, now, end);
      now = end;
      if (s == Task::Slice::kFinished) {
        pool_->task_finished();
        progress = true;
        continue;
      }
      progress |= s == Task::Slice::kProgress;
    }
    if (progress) {
      idle_rounds = 0;
      continue;
    }
    if (++idle_rounds < kSpinRounds) {
      std::this_thread::yield();
      continue;
    }
    sleeping_.store(true, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    now = monotonic_us();
    bool work = false;
    int64_t deadline = now + kMaxSleepUs;
    for (Task* task : tasks_) {
      if (task->finished()) {
        work |= task->has_checkpoint_work();
        continue;
      }
      work |= task->has_work(now);
      deadline = std::min(deadline, task->deadline_us());
    }
    if (!work && !pool_->cancelled()) sleep_until(deadline);
    sleeping_.store(false, std::memory_order_relaxed);
    idle_rounds = 0;
  }
}

WorkerPool::WorkerPool(int threads) {
  for (int i = 0; i < threads; ++i) workers_.push_back(std::make_unique<Worker>(this, i));
}

WorkerPool::~WorkerPool() {
  cancel();
  for (auto& w : workers_) w->join();
}

void WorkerPool::start(const std::vector<Task*>& tasks) {
  unfinished_ = static_cast<int>(tasks.size());
  for (size_t i = 0; i < tasks.size(); ++i) {
    Worker* w = workers_[i % workers_.size()].get();
    tasks[i]->set_worker(w);
    w->add_task(tasks[i]);
  }
  for (auto& w : workers_) w->start();
}

void WorkerPool::join() {
  for (auto& w : workers_) w->join();
}

void WorkerPool::cancel() {
  cancelled_.store(true);
  for (auto& w : workers_) w->wake();
  done_cv_.notify_all();
}

void WorkerPool::report_failure(std::string message, const char* kind) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (failure_.empty()) {
      failure_ = std::move(message);
      failure_kind_ = kind;
    }
  }
  cancel();
}

void WorkerPool::task_finished() {
  if (unfinished_.fetch_sub(1) == 1) {
    for (auto& w : workers_) w->wake();  // they wait for the last task, not only their own
    std::lock_guard<std::mutex> lock(mutex_);
    done_cv_.notify_all();
  }
}

std::string WorkerPool::failure() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return failure_;
}

const char* WorkerPool::failure_kind() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return failure_kind_;
}

void WorkerPool::wait_for(int timeout_ms) {
  std::unique_lock<std::mutex> lock(mutex_);
  done_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                    [&] { return unfinished_.load() == 0 || cancelled_.load(); });
}

}  // namespace sluice::runtime
