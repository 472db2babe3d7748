// ChannelSet: the outgoing channels of one producer subtask on one edge, seen by a typed exchange.
//
// The runtime implements it over single-producer/single-consumer rings; typed exchanges
// (exchange.h) fill batches and push them. A push never fails: when a ring is full the batch waits
// in the set's overflow and blocked() turns true, which makes the producing task unrunnable until
// the consumer catches up. That bounds memory to the rings plus the output of one input batch.
//
// Thread-safety: used by the producer task only.
#pragma once

#include <cstdint>

#include "sluice/detail/batch.h"
#include "sluice/time.h"

namespace sluice::detail {

class ChannelSet {
 public:
  virtual ~ChannelSet() = default;
  virtual int size() const = 0;
  // An emptied batch handed back by channel `c`'s consumer, or nullptr (the caller allocates).
  virtual BatchBase* acquire(int c) = 0;
  // Takes ownership of `batch`.
  virtual void push(int c, BatchBase* batch) = 0;
  virtual void push_watermark(Timestamp watermark) = 0;
  virtual void push_idle(bool idle) = 0;
  virtual void push_barrier(uint64_t checkpoint_id) = 0;
  virtual void push_end() = 0;
  // Moves overflow into rings; true while some overflow remains.
  virtual bool blocked() = 0;
};

}  // namespace sluice::detail
