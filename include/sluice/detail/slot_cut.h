// SlotCut: the copy-on-write checkpoint cut of an in-memory keyed state backend — its key
// directory, state tables and timers — and the writer that turns it into key-group snapshots.
//
// Taking the cut costs O(chunks): each table and the key directory are pinned (their entries never
// move, slot_array.h), the timer sets are frozen (cow_map.h), and every page of slots (one chunk,
// 4,096 slots) is marked pending. The checkpoint writer then reads page by page on its own thread:
// the key of each slot in use and every table's entry for it, bucketed by key group. Before the
// task first writes to a slot of a pending page — a row or timer of one of its keys, a new key
// taking a free slot, cleanup — it claims the page and serializes it aside itself (page_claims.h),
// so the writer sees every page as it was at the cut.
//
// Snapshot format of one key group (all integers native-endian):
//   u32 magic 'SLST', u32 version 1, u32 table count, then each table's name;
//   u64 key count, then per key: the key, then each table's entry (StateTable::write);
//   u64 timer count, then per timer: u64 key index, u8 domain (0 event, 1 processing), i64 time.
//
// Thread-safety: the task calls before_write(); the writer (on another thread) runs write() once.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/detail/key_directory.h"
#include "sluice/detail/key_groups.h"
#include "sluice/detail/keyed_timers.h"
#include "sluice/detail/operator_snapshot.h"
#include "sluice/detail/page_claims.h"
#include "sluice/detail/state_table_set.h"

namespace sluice::detail {

struct KeyedSnapshotFormat {
  static constexpr uint32_t kMagic = 0x54534C53;  // "SLST"
  static constexpr uint32_t kVersion = 1;

  static void write_header(const std::vector<std::string>& table_names, StateWriter& w) {
    w.write(kMagic);
    w.write(kVersion);
    w.write(static_cast<uint32_t>(table_names.size()));
    for (const std::string& name : table_names) w.write(name);
  }
  static void write_timer(uint64_t key_index, TimeDomain d, Timestamp time, StateWriter& w) {
    w.write(key_index);
    w.write(static_cast<uint8_t>(d));
    w.write(time);
  }
};

// A page of slots serialized: each key in use with its entries, and where its bytes are.
struct PageImage {
  struct Entry {
    uint32_t slot;
    uint16_t group;
    size_t begin;
    size_t end;
  };
  std::vector<Entry> entries;
  std::vector<char> bytes;
};

template <typename K>
class SlotCut {
 public:
  static constexpr uint32_t kPageShift = SlotArray<K>::kShift;

  SlotCut(const KeyDirectory<K>& keys, const StateTableSet& tables, KeyedTimers& timers,
          int max_parallelism)
      : slots_(keys.slot_count()),
        max_parallelism_(max_parallelism),
        claims_((slots_ + (size_t{1} << kPageShift) - 1) >> kPageShift),
        keys_(keys.view()),
        images_(claims_.pages()) {
    for (const auto& t : tables.tables()) {
      names_.push_back(t->name());
      views_.push_back(t->view());
    }
    timers_[0] = timers.freeze(TimeDomain::kEventTime);
    timers_[1] = timers.freeze(TimeDomain::kProcessingTime);
  }

  size_t pages() const { return claims_.pages(); }
  bool all_done() const { return claims_.all_done(); }

  // The task is about to write to a slot of page p (< pages()).
  void before_write(size_t p) {
    claims_.before_write(p, [&] { write_page(p, images_[p]); });
  }
  // Nobody will read the cut: pages still pending are given up.
  void release() { claims_.release_all(); }

  // On the writer's thread, once: the key groups of the cut into out.key_groups.
  void write(OperatorSnapshot& out) {
    struct Group {
      std::vector<char> entries;
      uint64_t keys = 0;
      std::vector<char> timers;
      uint64_t timer_count = 0;
    };
    std::vector<Group> groups(static_cast<size_t>(max_parallelism_));
    std::vector<uint32_t> index(slots_, 0);  // of the slot's key within its group
    std::vector<uint16_t> group_of(slots_, 0);
    for (size_t p = 0; p < claims_.pages(); ++p) {
      PageImage mine;
      bool read_here = false;
      claims_.read(p, [&](bool in_place) {
        read_here = in_place;
        if (in_place) write_page(p, mine);
      });
      const PageImage& image = read_here ? mine : images_[p];
      for (const PageImage::Entry& e : image.entries) {
        Group& g = groups[e.group];
        g.entries.insert(g.entries.end(), image.bytes.begin() + e.begin,
                         image.bytes.begin() + e.end);
        index[e.slot] = static_cast<uint32_t>(g.keys++);
        group_of[e.slot] = e.group;
      }
      images_[p] = PageImage{};
    }
    for (TimeDomain d : {TimeDomain::kEventTime, TimeDomain::kProcessingTime}) {
      timers_[static_cast<int>(d)].for_each([&](const TimerQueue::Timer& t, TimerQueue::Unit) {
        Group& g = groups[group_of[t.slot]];
        StateWriter w(&g.timers);
        KeyedSnapshotFormat::write_timer(index[t.slot], d, t.time, w);
        ++g.timer_count;
      });
    }
    for (size_t g = 0; g < groups.size(); ++g) {
      Group& group = groups[g];
      if (group.keys == 0) continue;  // a slot with timers is in use, so has a key
      KeyGroupState& state = out.key_groups.emplace_back();
      state.key_group = static_cast<int>(g);
      StateWriter w(&state.bytes);
      KeyedSnapshotFormat::write_header(names_, w);
      w.write(group.keys);
      state.bytes.insert(state.bytes.end(), group.entries.begin(), group.entries.end());
      w.write(group.timer_count);
      state.bytes.insert(state.bytes.end(), group.timers.begin(), group.timers.end());
      group = Group{};
    }
  }

 private:
  void write_page(size_t p, PageImage& image) const {
    const size_t first = p << kPageShift;
    const size_t last = std::min(slots_, first + (size_t{1} << kPageShift));
    StateWriter w(&image.bytes);
    for (size_t i = first; i < last; ++i) {
      const uint32_t s = static_cast<uint32_t>(i);
      if (keys_.in_use[s] == 0) continue;
      const K& key = keys_.keys[s];
      const size_t begin = image.bytes.size();
      w.write(key);
      for (const auto& v : views_) v->write(s, w);
      image.entries.push_back(
          PageImage::Entry{s, static_cast<uint16_t>(key_group_of(hash_key(key), max_parallelism_)),
                           begin, image.bytes.size()});
    }
  }

  size_t slots_;  // slots [0, slots_) existed at the cut
  int max_parallelism_;
  PageClaims claims_;
  typename KeyDirectory<K>::View keys_;
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<StateTable::View>> views_;
  TimerQueue::Set::Frozen timers_[2];  // by TimeDomain
  std::vector<PageImage> images_;      // by page, saved by the task
};

}  // namespace sluice::detail
