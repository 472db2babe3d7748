// TimeOrderedRows: the rows one key holds on one side of an interval join, ordered by event time.
//
// Rows mostly arrive nearly in time order, so an insert is a push_back or a short shift near the
// end; rows leave from the front (the oldest expire first) by advancing a head index, and the
// dead prefix is compacted away once it is half the buffer. The vector's capacity is kept when
// the buffer empties, so a recycled buffer serves a new key without allocating.
//
// Invariant: rows_[head_, size) are sorted by time; rows of equal time keep their arrival order.
// Thread-safety: none (owned by one operator instance).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "sluice/detail/join_common.h"

namespace sluice::detail {

template <typename Row>
class TimeOrderedRows {
 public:
  using Entry = TimedRow<Row>;

  bool empty() const { return head_ == rows_.size(); }
  size_t size() const { return rows_.size() - head_; }
  // REQUIRES: !empty().
  int64_t front_time() const { return rows_[head_].time; }
  std::span<const Entry> entries() const {
    return std::span<const Entry>(rows_.data() + head_, size());
  }

  void insert(int64_t time, const Row& row) {
    if (empty() || rows_.back().time <= time) {
      rows_.push_back(Entry{time, row});
      return;
    }
    auto pos = std::upper_bound(rows_.begin() + static_cast<ptrdiff_t>(head_), rows_.end(), time,
                                [](int64_t t, const Entry& e) { return t < e.time; });
    rows_.insert(pos, Entry{time, row});
  }

  // Calls fn(time, row) for every row with lo <= time <= hi, in time order.
  template <typename Fn>
  void for_range(int64_t lo, int64_t hi, Fn&& fn) const {
    if (lo > hi || empty()) return;
    const Entry* first = rows_.data() + head_;
    const Entry* last = rows_.data() + rows_.size();
    if (first->time < lo) {
      first =
          std::lower_bound(first, last, lo, [](const Entry& e, int64_t t) { return e.time < t; });
    }
    for (; first != last && first->time <= hi; ++first) fn(first->time, first->row);
  }

  // Drops the rows with time <= t; returns how many.
  size_t purge_through(int64_t t) {
    const size_t before = size();
    auto first = rows_.begin() + static_cast<ptrdiff_t>(head_);
    while (first != rows_.end() && first->time <= t) ++first;
    head_ = static_cast<size_t>(first - rows_.begin());
    if (head_ == rows_.size()) {
      clear();
    } else if (head_ >= 16 && head_ * 2 >= rows_.size()) {
      rows_.erase(rows_.begin(), rows_.begin() + static_cast<ptrdiff_t>(head_));
      head_ = 0;
    }
    return before - size();
  }

  // Empties the buffer, keeping its capacity.
  void clear() {
    rows_.clear();
    head_ = 0;
  }

 private:
  std::vector<Entry> rows_;
  size_t head_ = 0;
};

}  // namespace sluice::detail
