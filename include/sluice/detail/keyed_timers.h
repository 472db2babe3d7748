// KeyedTimers: the event-time and processing-time timers of a keyed operator subtask, by key
// slot (see key_directory.h), with a count per slot so that a key with timers keeps its slot.
//
// Independent of the key type, so that TimerService (which user code receives) registers a timer
// with a direct call.
//
// Thread-safety: owned by one operator subtask.
#pragma once

#include <cstdint>
#include <vector>

#include "sluice/detail/timer_queue.h"

namespace sluice {

namespace detail {

class KeyedTimers {
 public:
  void add(TimeDomain d, Timestamp t, uint32_t slot) {
    if (queue(d).add(t, slot)) ++count_of_[slot];
  }
  void remove(TimeDomain d, Timestamp t, uint32_t slot) {
    if (queue(d).remove(t, slot)) --count_of_[slot];
  }
  // Removes and hands to fn(time, slot), in time order, the timers of `d` at or before `limit`.
  template <typename Fn>
  void fire_until(TimeDomain d, Timestamp limit, Fn&& fn) {
    queue(d).fire_until(limit, [&](Timestamp t, uint32_t slot) {
      --count_of_[slot];
      fn(t, slot);
    });
  }
  Timestamp next(TimeDomain d) const { return queue(d).next(); }
  uint32_t count(uint32_t slot) const { return count_of_[slot]; }
  size_t size() const { return event_.size() + processing_.size(); }
  void resize(size_t slots) {
    if (slots > count_of_.size()) count_of_.resize(slots, 0);
  }
  size_t slots() const { return count_of_.size(); }
  // The timers of `d` as they are now, for a checkpoint cut (see TimerQueue::freeze()).
  TimerQueue::Set::Frozen freeze(TimeDomain d) { return queue(d).freeze(); }
  const TimerQueue& queue(TimeDomain d) const {
    return d == TimeDomain::kEventTime ? event_ : processing_;
  }
  int64_t bytes() const {
    return event_.bytes() + processing_.bytes() +
           static_cast<int64_t>(count_of_.capacity() * sizeof(uint32_t));
  }

 private:
  TimerQueue& queue(TimeDomain d) { return d == TimeDomain::kEventTime ? event_ : processing_; }

  TimerQueue event_;
  TimerQueue processing_;
  std::vector<uint32_t> count_of_;  // timers per slot
};

}  // namespace detail
}  // namespace sluice
