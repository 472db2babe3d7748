// Built-in sinks of the C++ API. Each is a copyable object (one copy per subtask) with
// `write(std::span<const T>)`, and optionally `open(subtask, parallelism)` and `finish()`.
//
// Here: collect() and count(), for tests and small results. The text sinks print(),
// print_json(), csv_file() and json_file() are in sluice/connectors/text_sinks.h, included below
// (library sluice_connectors).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace sluice::sinks {

// Collects every row into `out` (for tests and small results). Rows of each subtask are added
// under a lock when its input ends; `out` must outlive the job.
template <typename T>
class Collect {
 public:
  explicit Collect(std::vector<T>* out) : shared_(std::make_shared<Shared>(out)) {}
  Collect(const Collect& other) : shared_(other.shared_) {}
  void write(std::span<const T> rows) { local_.insert(local_.end(), rows.begin(), rows.end()); }
  void finish() {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    shared_->out->insert(shared_->out->end(), local_.begin(), local_.end());
    local_.clear();
  }

 private:
  struct Shared {
    explicit Shared(std::vector<T>* o) : out(o) {}
    std::mutex mutex;
    std::vector<T>* out;
  };
  std::shared_ptr<Shared> shared_;
  std::vector<T> local_;
};

template <typename T>
Collect<T> collect(std::vector<T>* out) {
  return Collect<T>(out);
}

// Counts rows (all subtasks together) into `*count`, which must outlive the job.
template <typename T>
class Count {
 public:
  explicit Count(std::atomic<uint64_t>* count) : count_(count) {}
  Count(const Count& other) : count_(other.count_) {}
  void write(std::span<const T> rows) { local_ += rows.size(); }
  void finish() { count_->fetch_add(local_); }

 private:
  std::atomic<uint64_t>* count_;
  uint64_t local_ = 0;
};

template <typename T>
Count<T> count(std::atomic<uint64_t>* out) {
  return Count<T>(out);
}

}  // namespace sluice::sinks

#include "sluice/connectors/part_file_sink.h"
#include "sluice/connectors/text_sinks.h"
