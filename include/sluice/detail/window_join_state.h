// WindowJoinState: the rows a tumbling-window join holds, per key and window.
//
// Windows are [start, start + size), aligned to `offset` (0: the epoch). A row goes to the window
// of its event time and its key; when the watermark reaches the window's last millisecond
// (start + size - 1), every left row of the window is paired with every right row of it, in
// arrival order, each pair stamped with that last millisecond, and the window is dropped. A row
// whose window has already fired is late: counted and dropped.
//
// A timer per (key, window) orders the firing, so a watermark visits only the windows it closes.
// Row buffers of fired windows are recycled for new ones.
//
// Thread-safety: none (owned by one operator instance).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "sluice/detail/cow_map.h"
#include "sluice/detail/frozen_view.h"
#include "sluice/detail/join_common.h"
#include "sluice/detail/join_timer_heap.h"
#include "sluice/detail/key_groups.h"
#include "sluice/time.h"

namespace sluice::detail {

template <typename Key, typename L, typename R>
class WindowJoinState {
 public:
  struct WindowId {
    Key key;
    int64_t start;
    friend bool operator==(const WindowId&, const WindowId&) = default;
    friend uint64_t sluice_hash(const WindowId& w) { return hash_of(hash_key(w.key), w.start); }
    // The hash of (key, start) from the key's hash_key().
    static uint64_t hash_of(uint64_t key_hash, int64_t start) {
      return mix64(key_hash * 31 + hash_key(start));
    }
  };
  // One (key, window) in a snapshot.
  struct WindowEntry {
    Key key;
    int64_t start;
    std::vector<L> left;
    std::vector<R> right;
    friend bool operator==(const WindowEntry&, const WindowEntry&) = default;
    auto fields() { return std::tie(key, start, left, right); }
  };
  using Entry = WindowEntry;

  // REQUIRES: size > 0.
  explicit WindowJoinState(Duration size, Duration offset = 0) : size_(size), offset_(offset) {}

  int64_t window_start(int64_t time) const {
    return floor_div(time - offset_, size_) * size_ + offset_;
  }

  // Holds a row until its window fires; false for a late row (dropped).
  bool add_left(const Key& key, int64_t time, const L& row) {
    return add_left(key, hash_key(key), time, row);
  }
  bool add_right(const Key& key, int64_t time, const R& row) {
    return add_right(key, hash_key(key), time, row);
  }
  // The same with `key_hash` = hash_key(key) at hand (the exchange's).
  bool add_left(const Key& key, uint64_t key_hash, int64_t time, const L& row) {
    Slot* s = slot_for(key, key_hash, time);
    if (s == nullptr) return false;
    s->left.push_back(row);
    ++rows_held_;
    return true;
  }
  bool add_right(const Key& key, uint64_t key_hash, int64_t time, const R& row) {
    Slot* s = slot_for(key, key_hash, time);
    if (s == nullptr) return false;
    s->right.push_back(row);
    ++rows_held_;
    return true;
  }

  // Fires every window whose last millisecond is <= watermark: emit(l, r, last_ms) per pair.
  template <typename Emit>
  void advance_watermark(int64_t watermark, Emit&& emit) {
    if (watermark <= watermark_) return;
    watermark_ = watermark;
    timers_.pop_due(watermark, [&](int64_t last_ms, const WindowId& id) {
      auto* it = windows_.find_mut(id);
      if (it == nullptr) return;
      Slot& s = it->second;
      for (const L& l : s.left) {
        for (const R& r : s.right) emit(l, r, last_ms);
      }
      rows_held_ -= static_cast<int64_t>(s.left.size() + s.right.size());
      release(it);
    });
  }

  int64_t watermark() const { return watermark_; }
  // On a restore, before the held rows: the watermark the checkpointed state had passed.
  void restore_watermark(int64_t watermark) { watermark_ = watermark; }
  int64_t rows_held() const { return rows_held_; }
  size_t windows_held() const { return windows_.size(); }
  int64_t late_rows() const { return late_rows_; }

  // fn(key_group, WindowEntry&&) for every open window.
  template <typename Fn>
  void for_each_entry(int max_parallelism, Fn&& fn) const {
    for (const auto& [id, s] : windows_) Visit{}(NoTag{}, id, s, max_parallelism, fn);
  }
  // The open windows grouped by the key group of their key (ascending; empty groups left out).
  std::vector<KeyGroupSnapshot<WindowEntry>> snapshot(int max_parallelism) const {
    return group_entries<WindowEntry>(*this, max_parallelism);
  }

  void restore(const KeyGroupSnapshot<WindowEntry>& group) {
    for (const WindowEntry& e : group.entries) {
      auto [it, inserted] = windows_.try_emplace(WindowId{e.key, e.start});
      if (inserted) timers_.push(last_ms_of(e.start), it->first);
      Slot& s = it->second;
      s.left.insert(s.left.end(), e.left.begin(), e.left.end());
      s.right.insert(s.right.end(), e.right.begin(), e.right.end());
      rows_held_ += static_cast<int64_t>(e.left.size() + e.right.size());
    }
  }

 private:
  struct Slot {
    std::vector<L> left;
    std::vector<R> right;
  };
  using Map = CowMap<WindowId, Slot>;  // copy-on-write cuts for checkpoints
  static constexpr size_t kMaxPooled = 4096;

 public:
  // An open window as for_each_entry() hands it on.
  struct Visit {
    template <typename Fn>
    void operator()(NoTag, const WindowId& id, const Slot& s, int max_parallelism, Fn& fn) const {
      fn(key_group_of(hash_key(id.key), max_parallelism),
         WindowEntry{id.key, id.start, s.left, s.right});
    }
  };
  // The open windows as they were at freeze(), for the checkpoint writer (see frozen_view.h).
  using Frozen = FrozenView<Map, Visit>;
  // A view of the open windows, O(pages): the synchronous part of a checkpoint.
  Frozen freeze() { return freeze_view<Visit>(windows_); }

 private:
  int64_t last_ms_of(int64_t start) const { return saturating_add(start, size_ - 1); }

  Slot* slot_for(const Key& key, uint64_t key_hash, int64_t time) {
    const int64_t start = window_start(time);
    const int64_t last_ms = last_ms_of(start);
    if (last_ms <= watermark_) {
      ++late_rows_;
      return nullptr;
    }
    const WindowId id{key, start};
    auto [it, inserted] =
        windows_.try_emplace(Prehashed<WindowId>{&id, WindowId::hash_of(key_hash, start)});
    if (inserted) {
      if (!pool_.empty()) {
        it->second = std::move(pool_.back());
        pool_.pop_back();
      }
      timers_.push(last_ms, it->first);
    }
    return &it->second;
  }

  void release(typename Map::Entry* it) {
    if (pool_.size() < kMaxPooled) {
      Slot& s = it->second;
      s.left.clear();
      s.right.clear();
      pool_.push_back(std::move(s));
    }
    windows_.erase(it->first);
  }

  // ---- checkpointed (see snapshot()) ----
  Map windows_;
  // ---- not checkpointed: rebuilt on restore, or runtime figures ----
  JoinTimerHeap<WindowId> timers_;
  std::vector<Slot> pool_;  // emptied buffers of fired windows, capacity kept
  Duration size_;
  Duration offset_;
  int64_t watermark_ = kMinTimestamp;
  int64_t rows_held_ = 0;
  int64_t late_rows_ = 0;
};

}  // namespace sluice::detail
