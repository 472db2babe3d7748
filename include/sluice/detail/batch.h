// Batches: the unit that crosses every boundary in Sluice.
//
// Operators, channels and exchanges move whole batches; per-record work happens in tight loops
// inside typed operators. The runtime sees BatchBase only; typed operators cast to Batch<T>, the
// type fixed when the graph was built, so the cast is static. Batches are recycled through their
// channels: a consumer hands an emptied batch back to its producer, so a job in steady state
// allocates no batches at all.
//
// Thread-safety: a batch belongs to one task at a time; ownership moves with the channel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace sluice::detail {

// An allocator whose value-less construct() default-initializes: resize() on a vector of
// trivial rows then costs nothing per row, so producers can size a batch and write rows by index.
template <typename T>
class DefaultInitAllocator : public std::allocator<T> {
 public:
  template <typename U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  using std::allocator<T>::allocator;
  template <typename U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

// The rows of a batch.
template <typename T>
using RowVector = std::vector<T, DefaultInitAllocator<T>>;

class BatchBase {
 public:
  explicit BatchBase(uint32_t row_bytes) : row_bytes(row_bytes) {}
  virtual ~BatchBase() = default;
  virtual size_t size() const = 0;
  virtual void clear() = 0;
  // The event time of the last row; kMinTimestamp-like INT64_MIN when rows carry none.
  virtual int64_t last_time() const = 0;

  // Monotonic time (µs) at which the source produced the input this batch's rows came from; the
  // runtime stamps it and measures end-to-end latency with it (operator_metrics.h). 0: unknown.
  int64_t ingest_us = 0;
  uint32_t row_bytes;  // in-memory size of one row (sizeof), for byte counters

  // The key hash of every row (hash_key of the key, which picked its key group), written by the
  // hash exchange that routed the rows, so the keyed operator its channel delivers to does not
  // hash them again. Only that operator sees them: a batch passed on along a chain has none
  // (runtime/task.h, ChainLink). Invariant: hashes.empty() || hashes.size() == size().
  RowVector<uint64_t> hashes;
  bool has_hashes() const { return !hashes.empty(); }
};

// Rows, and their event times once a stream has them (after assign_timestamps).
// Invariant: times.empty() || times.size() == rows.size().
template <typename T>
class Batch final : public BatchBase {
 public:
  Batch() : BatchBase(static_cast<uint32_t>(sizeof(T))) {}
  size_t size() const override { return rows.size(); }
  int64_t last_time() const override { return times.empty() ? INT64_MIN : times.back(); }
  void clear() override {
    rows.clear();
    times.clear();
    hashes.clear();
  }
  bool has_times() const { return !times.empty(); }

  RowVector<T> rows;
  RowVector<int64_t> times;  // Timestamp per row
};

template <typename T>
Batch<T>& batch_cast(BatchBase& batch) {
  return static_cast<Batch<T>&>(batch);
}

}  // namespace sluice::detail
