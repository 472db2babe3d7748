// State of GlobalCount windows: per key, the accumulator of its current group of n rows.
//
// Rows of a key are grouped n at a time in arrival order; the n-th row fires the group
// (Firing::kOnTime) and resets the entry in place, so a key costs one table slot for the life
// of the job. Event time plays no part: nothing is ever late. At the end of a bounded input the
// incomplete groups are emitted too (no row is left without a result). A group's window is
// [time of its first row, time of its last row + 1).
//
// Thread-safety: none; owned by one operator instance.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>

#include "sluice/detail/cow_map.h"
#include "sluice/detail/frozen_view.h"
#include "sluice/detail/pane_windows.h"
#include "sluice/detail/prehashed_map.h"
#include "sluice/time.h"
#include "sluice/window.h"

namespace sluice::detail {

template <typename Key, typename Agg>
class CountWindows {
 public:
  using Acc = typename Agg::Acc;
  struct Entry {
    Acc acc;
    int64_t rows = 0;
    Timestamp first = kMaxTimestamp;
    Timestamp last = kMinTimestamp;
  };

  using Map = CowMap<Key, Entry>;  // copy-on-write cuts for checkpoints

  // One key's group as for_each_entry() hands it on (nothing for a key between groups).
  struct Visit {
    template <typename Fn>
    void operator()(NoTag, const Key& key, const Entry& e, int max_parallelism, Fn& fn) const {
      if (e.rows > 0) {
        fn(key_group_of(hash_key(key), max_parallelism), key, Window{e.first, e.last + 1}, e.acc,
           e.rows);
      }
    }
  };
  // The groups as they were at freeze(), for the checkpoint writer (see frozen_view.h).
  using Frozen = FrozenView<Map, Visit>;

  // REQUIRES: count > 0.
  CountWindows(Agg agg, int64_t count) : agg_(std::move(agg)), count_(count) {}

  const Agg& agg() const { return agg_; }
  Timestamp watermark() const { return kMinTimestamp; }

  // Always inlined: GCC may take an out-of-line call that only prefetches for one without
  // effects and drop it.
  [[gnu::always_inline]] void prefetch(const Prehashed<Key>& key, Timestamp) const {
    entries_.prefetch(key);
  }

  template <typename In, typename Emit>
  Added<Acc> add(const Prehashed<Key>& key, Timestamp t, const In& in, Emit&& emit) {
    Entry& e = entries_.try_emplace(key, Entry{agg_.create()}).first->second;
    agg_.add(e.acc, in);
    e.first = std::min(e.first, t);
    e.last = std::max(e.last, t);
    if (++e.rows == count_) {
      emit(*key.key, static_cast<const Acc&>(e.acc), Window{e.first, e.last + 1}, Firing::kOnTime);
      e = Entry{agg_.create()};
    }
    return Added<Acc>{&e.acc, Window{e.first, e.last + 1}, false};
  }

  template <typename Emit>
  void advance(Timestamp, Emit&&) {}

  template <typename Emit>
  void fire_early(Emit&& emit) {
    for (const auto& [key, e] : entries_) {
      if (e.rows > 0) emit(key, e.acc, Window{e.first, e.last + 1}, Firing::kEarly);
    }
  }

  // End of a bounded input: the incomplete groups.
  template <typename Emit>
  void finish(Emit&& emit) {
    for (const auto& [key, e] : entries_) {
      if (e.rows > 0) emit(key, e.acc, Window{e.first, e.last + 1}, Firing::kOnTime);
    }
    entries_.clear();
  }

  // ---- snapshot ---- (the window is [first, last + 1); rows travel in fn's 5th argument)
  template <typename Fn>
  void for_each_entry(int max_parallelism, Fn&& fn) const {
    for (const auto& [key, e] : entries_) Visit{}(NoTag{}, key, e, max_parallelism, fn);
  }
  // A view of every group, O(pages): the synchronous part of a checkpoint.
  Frozen freeze() { return freeze_view<Visit>(entries_); }
  void restore_watermark(Timestamp) {}
  void restore_entry(const Key& key, const Window& w, const Acc& acc, int64_t rows) {
    entries_[key] = Entry{acc, rows, w.start, w.end - 1};
  }

  size_t entries() const { return entries_.size(); }
  size_t state_bytes() const { return table_bytes(entries_); }

 private:
  // ---- checkpointed ----
  Map entries_;
  // ---- not checkpointed ----
  Agg agg_;
  int64_t count_;
};

}  // namespace sluice::detail
