// Test helpers for event time while a job runs: a source whose rows the test hands over batch by
// batch and which stays open (quiet) until told to end, a sink whose rows the test can read
// before the job ends, and a probe that records the watermarks passing through it.
//
// Thread-safety: the shared objects are locked (test code, not the data path); the job runs on
// its own thread while the test's thread scripts it and waits for results.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sluice/sluice.h"

namespace sluice::testing {

struct Tick {
  uint64_t key;
  Timestamp time;
  bool marker = false;  // a punctuation: no row at or before `time` follows
};

struct TickTime {
  Timestamp operator()(const Tick& t) const { return t.time; }
};

// What one source hands out: batches pushed by the test, idle statuses (as a source that owns
// no data sends), then the end.
struct Script {
  std::mutex mutex;
  std::deque<std::vector<Tick>> batches;  // an empty batch stands for "say idle"
  bool ended = false;

  void go_idle() { push(std::vector<Tick>{}); }

  // Rows key, from, from + step, ... up to (excluding) `to`, in one batch.
  void push(uint64_t key, Timestamp from, Timestamp to, Duration step = 100) {
    std::vector<Tick> rows;
    for (Timestamp t = from; t < to; t += step) rows.push_back(Tick{key, t});
    std::lock_guard<std::mutex> lock(mutex);
    batches.push_back(std::move(rows));
  }
  void push(std::vector<Tick> rows) {
    std::lock_guard<std::mutex> lock(mutex);
    batches.push_back(std::move(rows));
  }
  void end() {
    std::lock_guard<std::mutex> lock(mutex);
    ended = true;
  }
};

class ScriptedSource final : public detail::SourceOperator {
 public:
  explicit ScriptedSource(std::shared_ptr<Script> script) : script_(std::move(script)) {}
  detail::SourceState poll(int64_t now_us) override {
    std::unique_lock<std::mutex> lock(script_->mutex);
    if (!script_->batches.empty()) {
      batch_.clear();
      const std::vector<Tick>& next = script_->batches.front();
      batch_.rows.assign(next.begin(), next.end());
      script_->batches.pop_front();
      lock.unlock();
      if (batch_.rows.empty()) {
        out_->emit_idle(true);
      } else {
        out_->emit(batch_);
      }
      return detail::SourceState::kMore;
    }
    if (script_->ended) return detail::SourceState::kEnd;
    next_poll_us_ = now_us + 500;
    return detail::SourceState::kIdle;
  }
  int64_t next_poll_us() const override { return next_poll_us_; }

 private:
  std::shared_ptr<Script> script_;
  detail::Batch<Tick> batch_;
  int64_t next_poll_us_ = 0;
};

inline Stream<Tick> scripted(Environment& env, std::shared_ptr<Script> script,
                             std::string name = "scripted", int parallelism = 1) {
  return env.add_source<Tick>(std::move(name), parallelism,
                              [script] { return std::make_unique<ScriptedSource>(script); });
}

// Rows of every subtask as they are written (not only at the end).
template <typename T>
struct LiveRows {
  std::mutex mutex;
  std::vector<T> rows;
  std::vector<T> snapshot() {
    std::lock_guard<std::mutex> lock(mutex);
    return rows;
  }
};

template <typename T>
struct LiveSink {
  std::shared_ptr<LiveRows<T>> shared;
  void write(std::span<const T> rows) {
    std::lock_guard<std::mutex> lock(shared->mutex);
    shared->rows.insert(shared->rows.end(), rows.begin(), rows.end());
  }
};

// Watermarks and idleness seen by one operator position (every subtask), in arrival order.
struct WatermarkTrace {
  std::mutex mutex;
  std::vector<std::vector<Timestamp>> by_subtask{8};
  std::vector<std::vector<bool>> idle_by_subtask{8};  // every status change
  Timestamp latest(int subtask = 0) {
    std::lock_guard<std::mutex> lock(mutex);
    auto& w = by_subtask[subtask];
    return w.empty() ? kMinTimestamp : w.back();
  }
  size_t idle_changes(int subtask = 0) {
    std::lock_guard<std::mutex> lock(mutex);
    return idle_by_subtask[subtask].size();
  }
};

template <typename T>
class WatermarkProbe final : public detail::Operator {
 public:
  explicit WatermarkProbe(std::shared_ptr<WatermarkTrace> trace) : trace_(std::move(trace)) {}
  void process(int, detail::BatchBase& batch) override { out_->emit(batch); }
  void on_watermark(Timestamp w) override {
    {
      std::lock_guard<std::mutex> lock(trace_->mutex);
      trace_->by_subtask[info_.subtask].push_back(w);
    }
    out_->emit_watermark(w);
  }
  void on_idle(bool idle) override {
    {
      std::lock_guard<std::mutex> lock(trace_->mutex);
      trace_->idle_by_subtask[info_.subtask].push_back(idle);
    }
    out_->emit_idle(idle);
  }

 private:
  std::shared_ptr<WatermarkTrace> trace_;
};

template <typename T>
Stream<T> probe(const Stream<T>& s, std::shared_ptr<WatermarkTrace> trace) {
  return s.template add<T>("probe", [trace] { return std::make_unique<WatermarkProbe<T>>(trace); });
}

// Runs a job on its own thread. Destroyed before join() (a failed assertion returned early), it
// cancels the job, whose sources may never end by themselves.
class JobThread {
 public:
  explicit JobThread(Environment& env)
      : env_(&env), thread_([this] { status_ = env_->execute("scripted"); }) {}
  ~JobThread() {
    if (!thread_.joinable()) return;
    env_->cancel();
    thread_.join();
  }
  Status join() {
    thread_.join();
    return status_;
  }

 private:
  Environment* env_;
  Status status_;
  std::thread thread_;
};

inline JobOptions test_options(int parallelism = 1) {
  JobOptions o;
  o.parallelism = parallelism;
  o.handle_signals = false;
  return o;
}

// Whether some (key, window) starting at `start` has a result in `live` (rows of WindowResult).
template <typename R>
bool has_fired(LiveRows<R>& live, Timestamp start) {
  for (const R& r : live.snapshot()) {
    if (r.window_start == start) return true;
  }
  return false;
}

// Waits (generously) until `done()` holds; false when it never did.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace sluice::testing
