// JoinTimerHeap: when the join state of a key next needs attention, ordered by event time.
//
// The joins register one timer per key (or per key and window) at the watermark value that
// expires its oldest rows; a watermark pops the due timers instead of visiting every key. A key
// whose deadline moved earlier pushes a new timer and the old one goes stale; the owner tells
// stale timers apart by comparing with the deadline it stored beside the key.
//
// Thread-safety: none (owned by one operator instance).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace sluice::detail {

template <typename Id>
class JoinTimerHeap {
 public:
  struct Timer {
    int64_t due;
    Id id;
  };

  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }

  void push(int64_t due, const Id& id) {
    heap_.push_back(Timer{due, id});
    std::push_heap(heap_.begin(), heap_.end(), later);
  }

  // Pops every timer with due <= watermark, earliest first, calling fn(due, id) for each.
  // fn may push new timers (they are popped too if already due).
  template <typename Fn>
  void pop_due(int64_t watermark, Fn&& fn) {
    while (!heap_.empty() && heap_.front().due <= watermark) {
      std::pop_heap(heap_.begin(), heap_.end(), later);
      Timer t = std::move(heap_.back());
      heap_.pop_back();
      fn(t.due, t.id);
    }
  }

  void clear() { heap_.clear(); }

 private:
  static bool later(const Timer& a, const Timer& b) { return a.due > b.due; }
  std::vector<Timer> heap_;  // a min-heap on due
};

}  // namespace sluice::detail
