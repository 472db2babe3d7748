// A bounded single-producer/single-consumer ring of trivially copyable values.
//
// The producer owns `tail_`, the consumer `head_`; each keeps a cached copy of the other's index
// so that most operations touch no shared cache line. Capacity is a power of two.
//
// Thread-safety: exactly one producer thread and one consumer thread at any time.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

namespace sluice::runtime {

template <typename T>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  // REQUIRES: capacity is a power of two.
  explicit SpscRing(size_t capacity)
      : mask_(capacity - 1), slots_(std::make_unique<T[]>(capacity)) {}

  size_t capacity() const { return mask_ + 1; }

  // Producer side.
  bool try_push(const T& value) {
    uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_cache_ > mask_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail - head_cache_ > mask_) return false;
    }
    slots_[tail & mask_] = value;
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }
  bool full_for_producer() {
    uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_cache_ <= mask_) return false;
    head_cache_ = head_.load(std::memory_order_acquire);
    return tail - head_cache_ > mask_;
  }

  // Consumer side.
  bool try_pop(T& out) {
    uint64_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_cache_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head == tail_cache_) return false;
    }
    out = slots_[head & mask_];
    head_.store(head + 1, std::memory_order_release);
    return true;
  }
  bool empty_for_consumer() {
    uint64_t head = head_.load(std::memory_order_relaxed);
    if (head != tail_cache_) return false;
    tail_cache_ = tail_.load(std::memory_order_acquire);
    return head == tail_cache_;
  }

  // Either side; approximate while the other side runs.
  size_t size_approx() const {
    return tail_.load(std::memory_order_acquire) - head_.load(std::memory_order_acquire);
  }

 private:
  const size_t mask_;
  std::unique_ptr<T[]> slots_;
  alignas(64) std::atomic<uint64_t> head_{0};
  uint64_t tail_cache_ = 0;  // consumer's copy of tail_
  alignas(64) std::atomic<uint64_t> tail_{0};
  uint64_t head_cache_ = 0;  // producer's copy of head_
};

}  // namespace sluice::runtime
