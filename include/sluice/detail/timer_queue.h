// TimerQueue: the timers of one time domain (event or processing time) of a keyed operator
// subtask, ordered by time, at most one per (key slot, time).
//
// A binary heap orders them; a hash set holds the live ones and deduplicates. The set is what a
// checkpoint records (the heap is rebuilt from it on restore), cut by copy on write (freeze()).
// Deleting a timer only removes it from the set: its heap entry is skipped when it surfaces (and
// the heap is rebuilt when such stale entries outnumber the live ones). Firing pops the heap up to
// a time limit, never scans keys. In steady state nothing is allocated.
//
// Thread-safety: owned by one operator subtask.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "sluice/detail/cow_map.h"
#include "sluice/time.h"

namespace sluice::detail {

class TimerQueue {
 public:
  // False when the timer was already there.
  bool add(Timestamp time, uint32_t slot) {
    if (!live_.try_emplace(Timer{time, slot}).second) return false;
    heap_.push_back({time, slot});
    std::push_heap(heap_.begin(), heap_.end(), Later{});
    if (heap_.size() > 2 * live_.size() + 64) rebuild();
    return true;
  }
  // False when there was no such timer.
  bool remove(Timestamp time, uint32_t slot) { return live_.erase(Timer{time, slot}); }

  // Removes and hands to fn(time, slot), in time order, every timer at or before `limit`. fn may
  // add and remove timers; those at or before `limit` fire in this call too.
  template <typename Fn>
  void fire_until(Timestamp limit, Fn&& fn) {
    while (!heap_.empty() && heap_.front().time <= limit) {
      const Entry e = heap_.front();
      std::pop_heap(heap_.begin(), heap_.end(), Later{});
      heap_.pop_back();
      if (!live_.erase(Timer{e.time, e.slot})) continue;  // deleted, or a re-added duplicate
      fn(e.time, e.slot);
    }
  }

  // The earliest timer's time, or kMaxTimestamp; may be a deleted timer's (an early wake-up).
  Timestamp next() const { return heap_.empty() ? kMaxTimestamp : heap_.front().time; }
  size_t size() const { return live_.size(); }
  // fn(time, slot) for every timer, in no particular order.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const auto& e : live_) fn(e.first.time, e.first.slot);
  }
  int64_t bytes() const {
    return static_cast<int64_t>(heap_.capacity() * sizeof(Entry) +
                                live_.capacity() * (sizeof(Set::Entry) + 1));
  }

  struct Timer {
    Timestamp time;
    uint32_t slot;
    bool operator==(const Timer&) const = default;
    friend uint64_t sluice_hash(const Timer& t) {
      return mix64(static_cast<uint64_t>(t.time) * 0x9E3779B97F4A7C15ULL ^ t.slot);
    }
  };
  struct Unit {};
  using Set = CowMap<Timer, Unit>;
  // The timers as they are now, for the checkpoint writer's thread (see CowMap::freeze()).
  Set::Frozen freeze() { return live_.freeze(); }

 private:
  struct Entry {
    Timestamp time;
    uint32_t slot;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.time != b.time ? a.time > b.time : a.slot > b.slot;
    }
  };
  void rebuild() {
    heap_.clear();
    for (const auto& e : live_) heap_.push_back({e.first.time, e.first.slot});
    std::make_heap(heap_.begin(), heap_.end(), Later{});
  }

  std::vector<Entry> heap_;  // min-heap by (time, slot); may hold stale entries
  Set live_;
};

}  // namespace sluice::detail
