// IntervalJoinState: the rows an interval join holds, per key, ordered by event time.
//
// A left row l (time tl) and a right row r (time tr) of the same key join when
// tl + lower <= tr <= tl + upper. Each arriving row is joined with the rows of the other side
// already held for its key, then held itself for as long as a future row of the other side can
// still match it: future rows are later than the watermark W, so a left row expires once
// tl + upper <= W and a right row once tr - lower <= W. Every matching pair is emitted exactly
// once, by whichever of its two rows arrives second. A row at or before the watermark on arrival
// is late: it is counted and dropped (its partners may already be gone).
//
// Expiry is driven by a timer per key at the watermark that expires its oldest row, so a watermark
// costs the keys that have something to purge, not all keys. Buffers of keys that empty are
// recycled for new keys (no allocation per key in steady state).
//
// The class knows nothing of batches or operators: the C++ API's operator drives it row by row,
// and a columnar operator could drive the same state. State is exported and imported per key
// group (snapshot()/restore()), the unit in which a restore redistributes keyed state.
//
// Thread-safety: none (owned by one operator instance).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "sluice/detail/cow_map.h"
#include "sluice/detail/frozen_view.h"
#include "sluice/detail/join_common.h"
#include "sluice/detail/join_timer_heap.h"
#include "sluice/detail/key_groups.h"
#include "sluice/detail/operators.h"
#include "sluice/detail/time_ordered_rows.h"
#include "sluice/time.h"

namespace sluice::detail {

template <typename Key, typename L, typename R>
class IntervalJoinState {
 public:
  // The state of one key in a snapshot (rows in time order).
  struct KeyEntry {
    Key key;
    std::vector<TimedRow<L>> left;
    std::vector<TimedRow<R>> right;
    friend bool operator==(const KeyEntry&, const KeyEntry&) = default;
    auto fields() { return std::tie(key, left, right); }
  };
  using Entry = KeyEntry;

  // REQUIRES: lower <= upper.
  IntervalJoinState(Duration lower, Duration upper) : lower_(lower), upper_(upper) {}

  // Joins left row `row` with the held right rows of `key`: emit(l, r, max(tl, tr)) per match.
  // Then holds the row while it can still match. Returns false for a late row (dropped).
  template <typename Emit>
  bool add_left(const Key& key, int64_t time, const L& row, Emit&& emit) {
    return add_left(Prehashed<Key>{&key, hash_key(key)}, time, row, emit);
  }
  // The same for a key whose hash_key() the caller has (the exchange's).
  template <typename Emit>
  bool add_left(const Prehashed<Key>& hashed, int64_t time, const L& row, Emit&& emit) {
    const Key& key = *hashed.key;
    if (time <= watermark_) {
      ++late_rows_;
      return false;
    }
    auto it = find_or_create(hashed);
    KeyState& s = it->second;
    s.right.for_range(saturating_add(time, lower_), saturating_add(time, upper_),
                      [&](int64_t rt, const R& r) { emit(row, r, std::max(time, rt)); });
    const int64_t due = saturating_add(time, upper_);
    if (due > watermark_) {
      s.left.insert(time, row);
      ++rows_held_;
      schedule(s, key, due);
    } else if (s.right.empty() && s.left.empty()) {
      release(it);
    }
    return true;
  }

  // The mirror image of add_left for a right row.
  template <typename Emit>
  bool add_right(const Key& key, int64_t time, const R& row, Emit&& emit) {
    return add_right(Prehashed<Key>{&key, hash_key(key)}, time, row, emit);
  }
  template <typename Emit>
  bool add_right(const Prehashed<Key>& hashed, int64_t time, const R& row, Emit&& emit) {
    const Key& key = *hashed.key;
    if (time <= watermark_) {
      ++late_rows_;
      return false;
    }
    auto it = find_or_create(hashed);
    KeyState& s = it->second;
    s.left.for_range(saturating_add(time, -upper_), saturating_add(time, -lower_),
                     [&](int64_t lt, const L& l) { emit(l, row, std::max(time, lt)); });
    const int64_t due = saturating_add(time, -lower_);
    if (due > watermark_) {
      s.right.insert(time, row);
      ++rows_held_;
      schedule(s, key, due);
    } else if (s.right.empty() && s.left.empty()) {
      release(it);
    }
    return true;
  }

  // Drops every row that no future row (time > watermark) can match.
  void advance_watermark(int64_t watermark) {
    if (watermark <= watermark_) return;
    watermark_ = watermark;
    if (watermark == kMaxTimestamp) {  // the end: nothing can match any more
      keys_.clear();
      timers_.clear();
      rows_held_ = 0;
      return;
    }
    const int64_t left_through = saturating_add(watermark, -upper_);
    const int64_t right_through = saturating_add(watermark, lower_);
    timers_.pop_due_buckets(watermark, [&](int64_t due, const std::vector<Key>& keys) {
      const size_t n = keys.size();
      for (size_t i = 0; i < n; ++i) {  // the keys' cache misses overlap
        if (i + kPrefetchDistance < n) keys_.prefetch(keys[i + kPrefetchDistance]);
        // A stale timer writes nothing: looked up read-only, so that during a cut it does not
        // make the task copy the key's page for the checkpoint.
        const KeyState* held = keys_.find(keys[i]);
        if (held == nullptr || held->timer != due) continue;
        auto* it = keys_.find_mut(keys[i]);
        KeyState& s = it->second;
        rows_held_ -= s.left.purge_through(left_through);
        rows_held_ -= s.right.purge_through(right_through);
        s.timer = kMaxTimestamp;
        if (s.left.empty() && s.right.empty()) {
          release(it);
        } else {
          schedule(s, keys[i], next_due(s));
        }
      }
    });
  }

  // Fetches the state of `key` into the cache ahead of an add_left/add_right.
  void prefetch(const Prehashed<Key>& key) const { keys_.prefetch(key); }

  int64_t watermark() const { return watermark_; }
  // On a restore, before the held rows: the watermark the checkpointed state had passed.
  void restore_watermark(int64_t watermark) { watermark_ = watermark; }
  int64_t rows_held() const { return rows_held_; }
  size_t keys_held() const { return keys_.size(); }
  int64_t late_rows() const { return late_rows_; }

  // fn(key_group, KeyEntry&&) for every key holding rows.
  template <typename Fn>
  void for_each_entry(int max_parallelism, Fn&& fn) const {
    for (const auto& [key, s] : keys_) Visit{}(NoTag{}, key, s, max_parallelism, fn);
  }
  // The held rows grouped by key group (ascending; empty groups left out).
  std::vector<KeyGroupSnapshot<KeyEntry>> snapshot(int max_parallelism) const {
    return group_entries<KeyEntry>(*this, max_parallelism);
  }

  // Adds the keys of one snapshotted key group (before processing resumes).
  void restore(const KeyGroupSnapshot<KeyEntry>& group) {
    for (const KeyEntry& e : group.entries) {
      auto it = find_or_create(Prehashed<Key>{&e.key, hash_key(e.key)});
      KeyState& s = it->second;
      for (const auto& [t, row] : e.left) s.left.insert(t, row);
      for (const auto& [t, row] : e.right) s.right.insert(t, row);
      rows_held_ += static_cast<int64_t>(e.left.size() + e.right.size());
      if (s.left.empty() && s.right.empty()) {
        release(it);
      } else {
        schedule(s, e.key, next_due(s));
      }
    }
  }

 private:
  struct KeyState {
    TimeOrderedRows<L> left;
    TimeOrderedRows<R> right;
    int64_t timer = kMaxTimestamp;  // due time of the key's live timer; kMaxTimestamp: none
  };
  using Map = CowMap<Key, KeyState>;  // copy-on-write cuts for checkpoints
  static constexpr size_t kMaxPooled = 4096;

 public:
  // A key's rows as for_each_entry() hands them on.
  struct Visit {
    template <typename Fn>
    void operator()(NoTag, const Key& key, const KeyState& s, int max_parallelism, Fn& fn) const {
      auto l = s.left.entries();
      auto r = s.right.entries();
      fn(key_group_of(hash_key(key), max_parallelism),
         KeyEntry{key, {l.begin(), l.end()}, {r.begin(), r.end()}});
    }
  };
  // The held rows as they were at freeze(), for the checkpoint writer (see frozen_view.h).
  using Frozen = FrozenView<Map, Visit>;
  // A view of the held rows, O(pages): the synchronous part of a checkpoint.
  Frozen freeze() { return freeze_view<Visit>(keys_); }

 private:
  typename Map::Entry* find_or_create(const Prehashed<Key>& key) {
    auto [it, inserted] = keys_.try_emplace(key);
    if (inserted) {
      if (!left_pool_.empty()) {
        it->second.left = std::move(left_pool_.back());
        left_pool_.pop_back();
      }
      if (!right_pool_.empty()) {
        it->second.right = std::move(right_pool_.back());
        right_pool_.pop_back();
      }
    }
    return it;
  }

  void release(typename Map::Entry* it) {
    if (left_pool_.size() < kMaxPooled) left_pool_.push_back(std::move(it->second.left));
    if (right_pool_.size() < kMaxPooled) right_pool_.push_back(std::move(it->second.right));
    keys_.erase(it->first);
  }

  int64_t next_due(const KeyState& s) const {
    int64_t due = kMaxTimestamp;
    if (!s.left.empty()) due = std::min(due, saturating_add(s.left.front_time(), upper_));
    if (!s.right.empty()) due = std::min(due, saturating_add(s.right.front_time(), -lower_));
    return due;
  }

  void schedule(KeyState& s, const Key& key, int64_t due) {
    if (due < s.timer) {
      s.timer = due;
      timers_.push(due, key);
    }
  }

  // ---- checkpointed (see snapshot()) ----
  Map keys_;
  // ---- not checkpointed: rebuilt from keys_ on restore, or runtime figures ----
  JoinTimerHeap<Key> timers_;
  std::vector<TimeOrderedRows<L>> left_pool_;  // emptied buffers, capacity kept
  std::vector<TimeOrderedRows<R>> right_pool_;
  Duration lower_;
  Duration upper_;
  int64_t watermark_ = kMinTimestamp;
  int64_t rows_held_ = 0;
  int64_t late_rows_ = 0;
};

}  // namespace sluice::detail
