// JoinTimerHeap: when the join state of a key next needs attention, ordered by event time.
//
// The joins register one timer per key (or per key and window) at the watermark value that
// expires its oldest rows; a watermark pops the due timers instead of visiting every key. A key
// whose deadline moved earlier pushes a new timer and the old one goes stale; the owner tells
// stale timers apart by comparing with the deadline it stored beside the key.
//
// Timers of equal due time share a bucket, and only buckets enter the heap: rows arrive nearly in
// time order, so most pushes append to the bucket of the previous push (a compare and a
// push_back), and the heap moves once per distinct due time rather than once per row. Buckets
// are recycled, so steady state allocates nothing.
//
// Thread-safety: none (owned by one operator instance).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace sluice::detail {

template <typename Id>
class JoinTimerHeap {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  void push(int64_t due, const Id& id) {
    ++size_;
    if (due == last_due_ && last_slot_ >= 0) {
      slots_[last_slot_].push_back(id);
      return;
    }
    auto [it, inserted] = slot_of_due_.try_emplace(due, 0);
    if (inserted) {
      it->second = take_slot();
      heap_.push_back(Entry{due, it->second});
      std::push_heap(heap_.begin(), heap_.end(), Later{});
    }
    last_due_ = due;
    last_slot_ = it->second;
    slots_[last_slot_].push_back(id);
  }

  // Pops every timer with due <= watermark, earliest first, calling fn(due, ids) once per due
  // time with the ids due then. fn may push new timers (those already due are popped too).
  template <typename Fn>
  void pop_due_buckets(int64_t watermark, Fn&& fn) {
    while (!heap_.empty() && heap_.front().due <= watermark) {
      std::pop_heap(heap_.begin(), heap_.end(), Later{});
      const Entry e = heap_.back();
      heap_.pop_back();
      slot_of_due_.erase(e.due);
      if (last_slot_ == e.slot) last_slot_ = -1;
      scratch_.swap(slots_[e.slot]);  // fn may push, and grow slots_
      free_.push_back(e.slot);
      size_ -= scratch_.size();
      fn(e.due, static_cast<const std::vector<Id>&>(scratch_));
      scratch_.clear();
    }
  }

  // As pop_due_buckets, calling fn(due, id) for each timer.
  template <typename Fn>
  void pop_due(int64_t watermark, Fn&& fn) {
    pop_due_buckets(watermark, [&](int64_t due, const std::vector<Id>& ids) {
      for (const Id& id : ids) fn(due, id);
    });
  }

  void clear() {
    heap_.clear();
    slot_of_due_.clear();
    free_.clear();
    for (int s = 0; s < static_cast<int>(slots_.size()); ++s) {
      slots_[s].clear();
      free_.push_back(s);
    }
    last_slot_ = -1;
    size_ = 0;
  }

 private:
  struct Entry {
    int64_t due;
    int slot;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const { return a.due > b.due; }
  };

  int take_slot() {
    if (!free_.empty()) {
      const int s = free_.back();
      free_.pop_back();
      return s;
    }
    slots_.emplace_back();
    return static_cast<int>(slots_.size()) - 1;
  }

  std::vector<Entry> heap_;                        // a min-heap of buckets on due
  std::vector<std::vector<Id>> slots_;             // the ids of each bucket
  absl::flat_hash_map<int64_t, int> slot_of_due_;  // the bucket of each due time in the heap
  std::vector<int> free_;                          // buckets not in use (capacity kept)
  std::vector<Id> scratch_;                        // the bucket being popped
  int64_t last_due_ = 0;
  int last_slot_ = -1;  // bucket of the last push, while it is in the heap
  size_t size_ = 0;
};

}  // namespace sluice::detail
