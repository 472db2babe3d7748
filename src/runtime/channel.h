// A channel joins one producer subtask to one consumer subtask.
//
// Envelopes (a data batch, a watermark, an idleness status, a checkpoint barrier, or
// end-of-stream) travel forward in a bounded SPSC ring; emptied batches travel back in a second
// ring so the producer reuses them. A full forward ring is what backpressure is made of: the
// producer's task stops being runnable until the consumer pops.
//
// Thread-safety: the producer task's thread pushes data and pops returns; the consumer task's
// thread does the opposite. Wake-ups go through the workers' sleep flags (worker_pool.h).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "runtime/spsc_ring.h"
#include "sluice/detail/batch.h"
#include "sluice/time.h"

namespace sluice::runtime {

class Task;

struct Envelope {
  enum class Kind : uint8_t { kData, kWatermark, kIdle, kBarrier, kEnd };
  Kind kind = Kind::kData;
  int64_t value = 0;  // watermark, checkpoint id, or for kIdle 1 (idle) / 0 (active again)
  detail::BatchBase* batch = nullptr;
};

class Channel {
 public:
  static constexpr size_t kMinReturnSlots = 64;

  // The return ring must hold every batch that can be in flight on this channel, or give_back()
  // deletes batches that the producer then allocates again, once per batch in steady state. In
  // flight are the data ring's `capacity`, the overflow (the output of one input batch: several
  // batches after a flat_map), the partial batch and the one the consumer holds; the floor of 64
  // slots (512 bytes) covers the overflow of small channels. A power of two, as rings need.
  explicit Channel(size_t capacity)
      : data_(capacity), returns_(std::max<size_t>(capacity * 2, kMinReturnSlots)) {}
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Producer side. try_push wakes the consumer's worker if it sleeps.
  bool try_push(const Envelope& e);
  bool full() { return data_.full_for_producer(); }
  detail::BatchBase* take_returned();

  // Consumer side. After a pop the producer's worker is woken if it sleeps (room appeared).
  bool try_pop(Envelope& e);
  bool empty() { return data_.empty_for_consumer(); }
  void give_back(detail::BatchBase* batch);

  size_t depth() const { return data_.size_approx(); }
  // The highest depth seen right after a push (job statistics). Producer side while the job
  // runs; read by others once the producer's thread has been joined.
  size_t max_depth() const { return max_depth_; }
  size_t capacity() const { return data_.capacity(); }

  Task* producer = nullptr;
  Task* consumer = nullptr;

 private:
  SpscRing<Envelope> data_;
  SpscRing<detail::BatchBase*> returns_;
  size_t max_depth_ = 0;  // written by the producer only
};

}  // namespace sluice::runtime
