// State of tumbling and hopping windows: per pane, a flat hash map key -> accumulator.
//
// A pane is a slice of time of gcd(size, slide) ms; each row updates exactly one pane entry
// (one hash probe, a few machine words for count/sum), and a hopping window [e - size, e) is the
// merge of its size/gcd panes, computed once when it fires. Tumbling windows are their own
// panes. Panes sit in a map ordered by time, so firing visits only the panes of the windows that
// close, never every key; a pane is dropped once the last window containing it is past its
// allowed lateness.
//
// Rules (see sluice/window.h): window [s, e) fires when the watermark is >= e - 1; a row is late
// when even the last window containing it has e - 1 + lateness <= watermark; a row landing in
// an already-fired window emits that window's new value at once (Firing::kLate).
//
// Generic over the aggregate (window_functions.h) and over what a row is: add() takes any `In`
// the aggregate accepts, so the SQL layer can feed (chunk, index) references.
//
// Thread-safety: none; owned by one operator instance.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <utility>
#include <vector>

#include "sluice/detail/cow_map.h"
#include "sluice/detail/frozen_view.h"
#include "sluice/detail/prehashed_map.h"
#include "sluice/time.h"
#include "sluice/window.h"

namespace sluice::detail {

// The largest multiple of d (> 0) that is <= t.
inline Timestamp floor_to(Timestamp t, Duration d) {
  const Timestamp r = t % d;
  return r < 0 ? t - r - d : t - r;
}
// The smallest multiple of d (> 0) that is >= t.
inline Timestamp ceil_to(Timestamp t, Duration d) { return floor_to(t - 1, d) + d; }

// Where add() put a row: its accumulator and window, or acc == nullptr when the row is late.
template <typename Acc>
struct Added {
  Acc* acc = nullptr;
  Window window;
  bool late_update = false;  // the window had already fired
};

template <typename Key, typename Agg>
class PaneWindows {
 public:
  using Acc = typename Agg::Acc;
  using Map = CowMap<Key, Acc>;  // a pane; copy-on-write cuts for checkpoints

  // An entry of the pane starting at `start` as for_each_entry() hands it on.
  struct Visit {
    Duration pane = 1;
    template <typename Fn>
    void operator()(Timestamp start, const Key& key, const Acc& acc, int max_parallelism,
                    Fn& fn) const {
      fn(key_group_of(hash_key(key), max_parallelism), key, Window{start, start + pane}, acc);
    }
  };
  // The panes as they were at freeze(), for the checkpoint writer (see frozen_view.h).
  using Frozen = FrozenView<Map, Visit, Timestamp>;

  // REQUIRES: size > 0, slide > 0, lateness >= 0.
  PaneWindows(Agg agg, Duration size, Duration slide, Duration lateness)
      : agg_(std::move(agg)),
        size_(size),
        slide_(slide),
        pane_(std::gcd(size, slide)),
        lateness_(lateness) {}

  const Agg& agg() const { return agg_; }
  Timestamp watermark() const { return watermark_; }

  // Always inlined: GCC may take an out-of-line call that only prefetches for one without
  // effects and drop it.
  [[gnu::always_inline]] void prefetch(const Prehashed<Key>& key, Timestamp) const {
    if (cached_ != nullptr) cached_->prefetch(key);
  }

  // Adds a row at time t. `emit(key, acc, window, firing)` receives late updates.
  template <typename In, typename Emit>
  [[gnu::always_inline]] Added<Acc> add(const Prehashed<Key>& key, Timestamp t, const In& in,
                                        Emit&& emit) {
    const Timestamp start = floor_to(t, pane_);
    if (start != cached_start_ || cached_ == nullptr) {
      if (!find_pane(start)) return {};
    }
    Acc& acc = cached_->try_emplace(key, agg_.create()).first->second;
    agg_.add(acc, in);
    if (!cached_fired_) [[likely]] {
      return Added<Acc>{&acc, Window{start, start + pane_}, false};
    }
    emit_late_updates(key, start, acc, emit);
    return Added<Acc>{&acc, Window{start, start + pane_}, true};
  }

  // The watermark advanced to wm: fires the windows that close and drops dead panes.
  template <typename Emit>
  void advance(Timestamp wm, Emit&& emit) {
    if (wm <= watermark_) return;
    cached_ = nullptr;
    cached_start_ = kMinTimestamp;
    for_each_window(first_end_after(watermark_), wm,
                    [&](Timestamp end) { fire(end, Firing::kOnTime, emit); });
    watermark_ = wm;
    while (!panes_.empty() && last_end_of_pane(panes_.begin()->first) - 1 + lateness_ <= wm) {
      reserve_hint_ = std::max(reserve_hint_, panes_.begin()->second.size());
      panes_.erase(panes_.begin());
    }
  }

  // Emits the current value of every window that has not fired yet (Firing::kEarly).
  template <typename Emit>
  void fire_early(Emit&& emit) {
    if (panes_.empty()) return;
    for_each_window(first_end_after(watermark_), last_end_of_pane(panes_.rbegin()->first) - 1,
                    [&](Timestamp end) { fire(end, Firing::kEarly, emit); });
  }

  // ---- snapshot ----
  // fn(key_group, key, pane, acc) for every entry; restore with restore_watermark() then
  // restore_entry() for the entries of the key groups a subtask owns.
  template <typename Fn>
  void for_each_entry(int max_parallelism, Fn&& fn) const {
    const Visit visit{pane_};
    for (const auto& [start, map] : panes_) {
      for (const auto& [key, acc] : map) visit(start, key, acc, max_parallelism, fn);
    }
  }
  // A view of every pane, O(pages): the synchronous part of a checkpoint.
  Frozen freeze() {
    Frozen f(Visit{pane_});
    for (auto& [start, map] : panes_) f.add(map, start);
    return f;
  }
  void restore_watermark(Timestamp wm) { watermark_ = wm; }
  void restore_entry(const Key& key, const Window& pane, const Acc& acc) {
    agg_.merge(panes_[pane.start].try_emplace(key, agg_.create()).first->second, acc);
    cached_ = nullptr;
  }

  size_t entries() const {
    size_t n = 0;
    for (const auto& [start, map] : panes_) n += map.size();
    return n;
  }
  size_t state_bytes() const {
    size_t n = 0;
    for (const auto& [start, map] : panes_) n += table_bytes(map) + sizeof(map) + 48;
    return n;
  }

 private:
  // End of the last window containing the pane starting at `start`.
  Timestamp last_end_of_pane(Timestamp start) const { return floor_to(start, slide_) + size_; }
  // End of the first window containing the pane starting at `start`.
  Timestamp first_end_of_pane(Timestamp start) const {
    return ceil_to(start + pane_ - size_, slide_) + size_;
  }
  // The first window end e with e - 1 > wm (kMinTimestamp: "from the first pane").
  Timestamp first_end_after(Timestamp wm) const {
    if (wm == kMinTimestamp) return kMinTimestamp;
    return ceil_to(wm + 2 - size_, slide_) + size_;
  }

  bool find_pane(Timestamp start) {
    if (last_end_of_pane(start) - 1 + lateness_ <= watermark_) return false;  // late
    auto [it, inserted] = panes_.try_emplace(start);
    if (inserted && reserve_hint_ > 0) it->second.reserve(reserve_hint_);
    cached_ = &it->second;
    cached_start_ = start;
    cached_fired_ = first_end_of_pane(start) - 1 <= watermark_;
    return true;
  }

  // Calls fn(end) for each window end e >= from with e - 1 <= last whose window holds a pane,
  // ascending. `from` of kMinTimestamp means "from the first pane".
  template <typename Fn>
  void for_each_window(Timestamp from, Timestamp last, Fn&& fn) {
    if (panes_.empty()) return;
    Timestamp e = from == kMinTimestamp ? first_end_of_pane(panes_.begin()->first) : from;
    while (true) {
      auto it = panes_.lower_bound(e - size_);
      if (it == panes_.end()) return;
      if (it->first >= e) e = first_end_of_pane(it->first);  // skip windows without panes
      if (e - 1 > last) return;
      fn(e);
      e += slide_;
    }
  }

  template <typename Emit>
  void fire(Timestamp end, Firing firing, Emit& emit) {
    const Window w{end - size_, end};
    if (size_ == pane_) {
      auto it = panes_.find(w.start);
      if (it == panes_.end()) return;
      for (const auto& [key, acc] : it->second) emit(key, acc, w, firing);
      return;
    }
    scratch_.clear();
    for (auto it = panes_.lower_bound(w.start); it != panes_.end() && it->first < end; ++it) {
      for (const auto& [key, acc] : it->second) {
        agg_.merge(scratch_.try_emplace(key, agg_.create()).first->second, acc);
      }
    }
    for (const auto& [key, acc] : scratch_) emit(key, acc, w, firing);
  }

  // A row updated `pane_acc`; re-emits every fired, still-alive window containing the pane.
  template <typename Emit>
  void emit_late_updates(const Prehashed<Key>& key, Timestamp pane_start, const Acc& pane_acc,
                         Emit& emit) {
    if (size_ == pane_) {
      emit(*key.key, pane_acc, Window{pane_start, pane_start + size_}, Firing::kLate);
      return;
    }
    for (Timestamp e = first_end_of_pane(pane_start);
         e <= last_end_of_pane(pane_start) && e - 1 <= watermark_; e += slide_) {
      if (e - 1 + lateness_ <= watermark_) continue;  // this window is past its lateness
      Acc acc = agg_.create();
      for (auto it = panes_.lower_bound(e - size_); it != panes_.end() && it->first < e; ++it) {
        if (const Acc* found = it->second.find(key)) agg_.merge(acc, *found);
      }
      emit(*key.key, static_cast<const Acc&>(acc), Window{e - size_, e}, Firing::kLate);
    }
  }

  // ---- checkpointed ----
  std::map<Timestamp, Map> panes_;  // by pane start
  Timestamp watermark_ = kMinTimestamp;
  // ---- not checkpointed ----
  Agg agg_;
  Duration size_, slide_, pane_, lateness_;
  Map* cached_ = nullptr;  // the pane of the last row, while the watermark stays put
  Timestamp cached_start_ = kMinTimestamp;
  bool cached_fired_ = false;
  size_t reserve_hint_ = 0;         // entries of the largest dropped pane: new panes start that big
  PrehashedMap<Key, Acc> scratch_;  // merge of a hopping window's panes
};

}  // namespace sluice::detail
