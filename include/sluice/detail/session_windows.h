// State of session windows: per key, its open sessions, each with its accumulator.
//
// A row at t opens the window [t, t + gap); sessions of a key that overlap it (half-open
// intersection) merge into one, merging their accumulators, so a row that bridges two sessions
// joins them. Firing is driven by a min-heap of timers (time, session id, key), one per session,
// never by visiting every key: a timer is pushed when a session is created; when it comes due
// and the session has grown meanwhile, it is pushed again at the new end (merged-away sessions
// leave stale timers, skipped when they come due). After firing, the same timer returns at
// end - 1 + lateness to purge the session.
//
// Rules (see sluice/window.h): a session [s, e) fires when the watermark is >= e - 1; a row that
// overlaps no live session is late when e - 1 + lateness <= watermark for its own window
// [t, t + gap); a row that changes a fired session emits the session's new value at once
// (Firing::kLate), superseding the results of the sessions it merged.
//
// Thread-safety: none; owned by one operator instance.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <queue>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "sluice/detail/cow_map.h"
#include "sluice/detail/frozen_view.h"
#include "sluice/detail/pane_windows.h"
#include "sluice/detail/prehashed_map.h"
#include "sluice/time.h"
#include "sluice/window.h"

namespace sluice::detail {

template <typename Key, typename Agg>
class SessionWindows {
 public:
  using Acc = typename Agg::Acc;

  struct Session {
    Timestamp start;
    Timestamp end;
    uint64_t id;
    bool fired;
    Acc acc;
  };
  using Sessions = absl::InlinedVector<Session, 1>;

  using Map = CowMap<Key, Sessions>;  // copy-on-write cuts for checkpoints

  // A key's sessions as for_each_entry() hands them on.
  struct Visit {
    template <typename Fn>
    void operator()(NoTag, const Key& key, const Sessions& list, int max_parallelism,
                    Fn& fn) const {
      const int group = key_group_of(hash_key(key), max_parallelism);
      for (const Session& s : list) fn(group, key, Window{s.start, s.end}, s.acc);
    }
  };
  // The sessions as they were at freeze(), for the checkpoint writer (see frozen_view.h).
  using Frozen = FrozenView<Map, Visit>;

  // REQUIRES: gap > 0, lateness >= 0.
  SessionWindows(Agg agg, Duration gap, Duration lateness)
      : agg_(std::move(agg)), gap_(gap), lateness_(lateness) {}

  const Agg& agg() const { return agg_; }
  Timestamp watermark() const { return watermark_; }

  // Always inlined: GCC may take an out-of-line call that only prefetches for one without
  // effects and drop it.
  [[gnu::always_inline]] void prefetch(const Prehashed<Key>& key, Timestamp) const {
    keys_.prefetch(key);
  }

  template <typename In, typename Emit>
  Added<Acc> add(const Prehashed<Key>& key, Timestamp t, const In& in, Emit&& emit) {
    Timestamp start = t, end = t + gap_;
    auto* it = keys_.find_mut(key);
    if (it == nullptr) {
      if (end - 1 + lateness_ <= watermark_) return {};
      it = keys_.try_emplace(key).first;
    }
    Sessions& list = it->second;
    Session* into = nullptr;
    for (size_t i = 0; i < list.size(); ++i) {
      Session& s = list[i];
      if (!(s.start < end && start < s.end)) continue;
      start = std::min(start, s.start);
      end = std::max(end, s.end);
      if (into == nullptr) {
        into = &s;
        agg_.add(s.acc, in);
      } else {  // the row bridges two sessions
        agg_.merge(into->acc, s.acc);
        list.erase(list.begin() + static_cast<ptrdiff_t>(i));
        --sessions_;
        --i;
        // `into` precedes s, so erasing s did not move it
      }
      into->start = start;
      into->end = end;
    }
    if (into == nullptr) {
      if (end - 1 + lateness_ <= watermark_) {
        if (list.empty()) keys_.erase(*key.key);
        return {};
      }
      spilled_ += list.size() == 1;  // a second session moves the list to the heap
      into = &list.emplace_back(Session{start, end, next_id_++, false, agg_.create()});
      ++sessions_;
      agg_.add(into->acc, in);
      timers_.push(Timer{end - 1, into->id, *key.key});
    }
    const bool late = into->end - 1 <= watermark_;
    if (into->fired && !late) timers_.push(Timer{into->end - 1, into->id, *key.key});  // reopened
    into->fired = late;
    if (late) {
      emit(*key.key, static_cast<const Acc&>(into->acc), Window{into->start, into->end},
           Firing::kLate);
    }
    return Added<Acc>{&into->acc, Window{into->start, into->end}, late};
  }

  template <typename Emit>
  void advance(Timestamp wm, Emit&& emit) {
    if (wm <= watermark_) return;
    watermark_ = wm;
    while (!timers_.empty() && timers_.top().time <= wm) {
      Timer timer = timers_.top();
      timers_.pop();
      auto* it = keys_.find_mut(timer.key);
      if (it == nullptr) continue;
      Sessions& list = it->second;
      size_t i = 0;
      while (i < list.size() && list[i].id != timer.id) ++i;
      if (i == list.size()) continue;  // merged away
      Session& s = list[i];
      if (!s.fired) {
        if (s.end - 1 > wm) {  // grew since the timer was set
          timers_.push(Timer{s.end - 1, s.id, std::move(timer.key)});
          continue;
        }
        emit(it->first, static_cast<const Acc&>(s.acc), Window{s.start, s.end}, Firing::kOnTime);
        s.fired = true;
      }
      if (s.end - 1 + lateness_ <= wm) {
        list.erase(list.begin() + static_cast<ptrdiff_t>(i));
        --sessions_;
        if (list.empty()) {
          spilled_ -= list.capacity() > 1;
          keys_.erase(timer.key);
        }
      } else {
        timers_.push(Timer{s.end - 1 + lateness_, s.id, std::move(timer.key)});
      }
    }
  }

  // Emits the current value of every session that has not fired (visits every key).
  template <typename Emit>
  void fire_early(Emit&& emit) {
    for (const auto& [key, list] : keys_) {
      for (const Session& s : list) {
        if (!s.fired) emit(key, s.acc, Window{s.start, s.end}, Firing::kEarly);
      }
    }
  }

  // ---- snapshot ----
  template <typename Fn>
  void for_each_entry(int max_parallelism, Fn&& fn) const {
    for (const auto& [key, list] : keys_) Visit{}(NoTag{}, key, list, max_parallelism, fn);
  }
  // A view of every session, O(pages): the synchronous part of a checkpoint.
  Frozen freeze() { return freeze_view<Visit>(keys_); }
  void restore_watermark(Timestamp wm) { watermark_ = wm; }
  void restore_entry(const Key& key, const Window& w, const Acc& acc) {
    Session s{w.start, w.end, next_id_++, w.end - 1 <= watermark_, acc};
    timers_.push(Timer{s.fired ? w.end - 1 + lateness_ : w.end - 1, s.id, key});
    Sessions& list = keys_[key];
    spilled_ += list.size() == 1;
    list.push_back(std::move(s));
    ++sessions_;
  }

  // O(1): called on every watermark.
  size_t entries() const { return sessions_; }
  size_t state_bytes() const {
    return table_bytes(keys_) + timers_.size() * sizeof(Timer) + spilled_ * 2 * sizeof(Session);
  }

 private:
  struct Timer {
    Timestamp time;
    uint64_t id;
    Key key;
    bool operator>(const Timer& o) const { return time > o.time; }
  };

  // ---- checkpointed ----
  Map keys_;
  Timestamp watermark_ = kMinTimestamp;
  // ---- not checkpointed (rebuilt on restore) ----
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  uint64_t next_id_ = 0;
  size_t sessions_ = 0;
  size_t spilled_ = 0;  // keys whose session list lives on the heap (approximate)
  Agg agg_;
  Duration gap_, lateness_;
};

}  // namespace sluice::detail
