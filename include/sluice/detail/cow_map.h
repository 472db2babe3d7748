// A hash map of keyed state whose checkpoint cut costs O(pages), not a copy of the state.
//
// The table is open addressing in one allocation: a control byte per slot (empty, a tombstone,
// or 0x80 | seven bits of the key's hash) and the slots, Entry{first, second}. A probe compares
// a group of 16 control bytes at once, from the key's home group on, until a group with an empty
// slot. Keys hash with detail::hash_key, prehashed: an operator hashes a row once for the key
// group and the table.
//
// freeze() starts a cut: it returns a Frozen view and marks every page (kPageSlots slots) as
// pending. The view reads the state as it was at the cut, page by page, on the checkpoint
// writer's thread, while the task goes on. Before the task first writes a pending page it claims
// it and copies it aside for the view (a memcpy of 64 KB for a plain 16-byte entry); a page the
// writer has claimed first is read in place, and the task waits for that one page. A claim is a
// compare-and-swap on the page's state (pending -> busy -> done), so each page is taken exactly
// once. Between cuts a write costs one test of a byte per page; the copying happens once per
// page written after a cut, spread over the rows that follow it.
//
// Thread-safety: the map belongs to one task. A Frozen view may be read and destroyed on another
// thread while the task changes the map.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "sluice/detail/key_groups.h"
#include "sluice/detail/operator_snapshot.h"
#include "sluice/detail/page_claims.h"
#include "sluice/detail/prehashed_map.h"

namespace sluice::detail {

template <typename Key, typename Value>
class CowMap {
 public:
  struct Entry {
    Key first;
    Value second;
  };
  using key_type = Key;
  using mapped_type = Value;
  using value_type = Entry;
  static constexpr size_t kPageSlots = 4096;  // what a cut copies at once

 private:
  static constexpr size_t kGroup = 16;  // slots probed at once
  static constexpr size_t kMinCapacity = 16;
  static constexpr bool kPlain = std::is_trivially_copyable_v<Entry>;
  static constexpr uint8_t kEmpty = 0;
  static constexpr uint8_t kDeleted = 1;
  static bool is_full(uint8_t c) { return (c & 0x80) != 0; }

  // `n` control bytes and `n` slots in one allocation; destroys the entries it holds.
  struct Slots {
    size_t n = 0;
    uint8_t* ctrl = nullptr;
    Entry* data = nullptr;

    static constexpr size_t kAlign = std::max<size_t>(alignof(Entry), 64);
    explicit Slots(size_t count) : n(count) {
      const size_t data_at = (count + kAlign - 1) / kAlign * kAlign;
      ctrl = static_cast<uint8_t*>(
          ::operator new(data_at + count * sizeof(Entry), std::align_val_t(kAlign)));
      data = reinterpret_cast<Entry*>(ctrl + data_at);
      std::memset(ctrl, kEmpty, count);
    }
    // A copy of `count` slots of `from` starting at ctrl `c`, data `d`.
    Slots(const uint8_t* c, const Entry* d, size_t count) : Slots(count) {
      std::memcpy(ctrl, c, count);
      if constexpr (kPlain) {
        std::memcpy(static_cast<void*>(data), d, count * sizeof(Entry));
      } else {
        for (size_t i = 0; i < count; ++i) {
          if (is_full(c[i])) new (data + i) Entry(d[i]);
        }
      }
    }
    Slots(const Slots&) = delete;
    Slots& operator=(const Slots&) = delete;
    ~Slots() {
      if constexpr (!std::is_trivially_destructible_v<Entry>) {
        for (size_t i = 0; i < n; ++i) {
          if (is_full(ctrl[i])) data[i].~Entry();
        }
      }
      ::operator delete(static_cast<void*>(ctrl), std::align_val_t(kAlign));
    }
  };

  // A cut in flight, shared by the task and the view.
  struct Cut {
    Cut(std::shared_ptr<Slots> t, size_t page_count, size_t slots_per_page)
        : table(std::move(t)), page_slots(slots_per_page), claims(page_count), copies(page_count) {}
    std::shared_ptr<Slots> table;  // the table at the cut (the task may have moved on)
    size_t page_slots;
    PageClaims claims;
    std::vector<std::unique_ptr<Slots>> copies;  // per page, made by the task before a write

    bool all_done() const { return claims.all_done(); }
    // The task is about to write page p: the view gets a copy unless it has read the page.
    void before_write(size_t p) {
      claims.before_write(p, [&] {
        const size_t at = p * page_slots;
        copies[p] = std::make_unique<Slots>(table->ctrl + at, table->data + at, page_slots);
      });
    }
  };

 public:
  // The map as it was at freeze(): read-only, for another thread.
  class Frozen {
   public:
    Frozen() = default;
    Frozen(Frozen&& o) noexcept : cut_(std::move(o.cut_)), read_(o.read_) {}
    Frozen& operator=(Frozen&& o) noexcept {
      if (this != &o) {
        reset();
        cut_ = std::move(o.cut_);
        read_ = o.read_;
      }
      return *this;
    }
    ~Frozen() { reset(); }

    // fn(key, value) for every entry. Once per view.
    template <typename Fn>
    void for_each(Fn&& fn) const {
      if (cut_ == nullptr || read_) return;
      read_ = true;
      Cut& c = *cut_;
      for (size_t p = 0; p < c.claims.pages(); ++p) {
        c.claims.read(p, [&](bool in_place) {
          const size_t at = p * c.page_slots;
          const uint8_t* ctrl = in_place ? c.table->ctrl + at : c.copies[p]->ctrl;
          const Entry* data = in_place ? c.table->data + at : c.copies[p]->data;
          for (size_t i = 0; i < c.page_slots; ++i) {
            if (is_full(ctrl[i])) fn(static_cast<const Key&>(data[i].first), data[i].second);
          }
        });
        c.copies[p].reset();
      }
    }
    // Lets the cut go unread: the task no longer copies pages for it.
    void reset() {
      if (cut_ == nullptr) return;
      cut_->claims.release_all();
      cut_.reset();
    }

   private:
    friend class CowMap;
    explicit Frozen(std::shared_ptr<Cut> cut) : cut_(std::move(cut)) {}
    std::shared_ptr<Cut> cut_;
    mutable bool read_ = false;
  };

  // Visits the full slots in order, a group of 16 control bytes at a time: it keeps the mask of
  // the current group's full slots still ahead, so empty slots cost nothing and empty groups one
  // load each.
  class const_iterator {
   public:
    const Entry& operator*() const { return map_->data_[i_]; }
    const Entry* operator->() const { return &map_->data_[i_]; }
    const_iterator& operator++() {
      full_ &= full_ - 1;  // the current slot
      if (full_ != 0) {
        i_ = group_ + static_cast<size_t>(std::countr_zero(full_));
      } else {
        seek(group_ + kGroup);
      }
      return *this;
    }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }

   private:
    friend class CowMap;
    explicit const_iterator(const CowMap* map) : map_(map), i_(map->capacity_) {}
    // The first full slot of the groups from g on, or the end.
    void seek(size_t g) {
      for (; g < map_->capacity_; g += kGroup) {
        full_ = masks(map_->ctrl_ + g, 0).full;
        if (full_ != 0) {
          group_ = g;
          i_ = g + static_cast<size_t>(std::countr_zero(full_));
          return;
        }
      }
      i_ = map_->capacity_;
    }
    const CowMap* map_;
    size_t i_;           // the current slot; capacity_ at the end
    size_t group_ = 0;   // its group's first slot
    uint32_t full_ = 0;  // full slots of the group from i_ on
  };

  CowMap() = default;
  CowMap(const CowMap& o) { copy_from(o); }
  CowMap(CowMap&& o) noexcept { take(o); }
  CowMap& operator=(const CowMap& o) {
    if (this != &o) {
      clear();
      copy_from(o);
    }
    return *this;
  }
  CowMap& operator=(CowMap&& o) noexcept {
    if (this != &o) {
      clear();
      take(o);
    }
    return *this;
  }
  ~CowMap() { clear(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }

  const_iterator begin() const {
    const_iterator it(this);
    it.seek(0);
    return it;
  }
  const_iterator end() const { return const_iterator(this); }

  [[gnu::always_inline]] void prefetch(const Prehashed<Key>& key) const {
    if (capacity_ == 0) return;
    const size_t i = key.hash & mask_;
    __builtin_prefetch(ctrl_ + (i & ~(kGroup - 1)));
    __builtin_prefetch(data_ + i);
  }
  [[gnu::always_inline]] void prefetch(const Key& key) const {
    prefetch(Prehashed<Key>{&key, hash_key(key)});
  }

  // The value of `key`, or nullptr.
  const Value* find(const Prehashed<Key>& key) const {
    const Probe at = probe(key);
    return at.found ? &data_[at.slot].second : nullptr;
  }
  const Value* find(const Key& key) const { return find(Prehashed<Key>{&key, hash_key(key)}); }

  // The entry of `key`, which the caller may change, or nullptr. Like any pointer into the map,
  // valid until the next change of the map or the next freeze().
  Entry* find_mut(const Prehashed<Key>& key) {
    const Probe at = probe(key);
    return at.found ? writable(at.slot) : nullptr;
  }
  Entry* find_mut(const Key& key) { return find_mut(Prehashed<Key>{&key, hash_key(key)}); }

  // The entry of `key`, made from (key, Value(args...)) when new; its value may be changed.
  template <typename... Args>
  [[gnu::always_inline]] std::pair<Entry*, bool> try_emplace(const Prehashed<Key>& key,
                                                             Args&&... args) {
    const Probe at = probe(key);
    if (at.found) [[likely]] {
      return {writable(at.slot), false};
    }
    return insert(at.slot, key, std::forward<Args>(args)...);
  }
  template <typename... Args>
  std::pair<Entry*, bool> try_emplace(const Key& key, Args&&... args) {
    return try_emplace(Prehashed<Key>{&key, hash_key(key)}, std::forward<Args>(args)...);
  }
  Value& operator[](const Key& key) { return try_emplace(key).first->second; }

  // Removes the entry of `key` if there is one (`key` may be a reference into that entry); false
  // when there was none.
  bool erase(const Key& key) {
    const Probe at = probe(Prehashed<Key>{&key, hash_key(key)});
    if (!at.found) return false;
    writable(at.slot)->~Entry();
    --size_;
    // A group with an empty slot was never full, so no probe went past it: the slot can be
    // empty again. Otherwise it becomes a tombstone that probes step over.
    if (masks(ctrl_ + (at.slot & ~(kGroup - 1)), 0).empty != 0) {
      ctrl_[at.slot] = kEmpty;
      ++growth_left_;
    } else {
      ctrl_[at.slot] = kDeleted;
    }
    return true;
  }

  // Room for `n` entries without growing.
  void reserve(size_t n) {
    if (n <= size_ + growth_left_) return;
    size_t c = std::max(capacity_, kMinCapacity);
    while (max_load_of(c) < n) c *= 2;
    rehash(c);
  }

  // A view of the map as it is now, for another thread; O(pages). A cut still in flight is
  // settled first (its pending pages copied).
  Frozen freeze() {
    settle();
    if (capacity_ == 0) return Frozen();
    const size_t page_slots = std::min(capacity_, kPageSlots);
    auto cut = std::make_shared<Cut>(table_, capacity_ / page_slots, page_slots);
    watch_.start(cut, cut->claims.pages());
    page_shift_ = static_cast<uint32_t>(std::countr_zero(page_slots));
    return Frozen(std::move(cut));
  }

  void clear() {
    settle_detach();
    table_.reset();
    ctrl_ = nullptr;
    data_ = nullptr;
    capacity_ = mask_ = size_ = growth_left_ = 0;
  }

 private:
  static uint8_t tag_of(uint64_t hash) {
    return static_cast<uint8_t>(0x80 | ((hash >> 40) & 0x7F));
  }
  static size_t max_load_of(size_t capacity) { return capacity - capacity / 8; }

  // Bit b of each mask is slot b of the group: its tag matches, it is empty, it is full.
  struct Masks {
    uint32_t match;
    uint32_t empty;
    uint32_t full;
  };
  [[gnu::always_inline]] static Masks masks(const uint8_t* ctrl, uint8_t tag) {
#if defined(__SSE2__)
    const __m128i c = _mm_load_si128(reinterpret_cast<const __m128i*>(ctrl));
    const __m128i t = _mm_set1_epi8(static_cast<char>(tag));
    return Masks{static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(c, t))),
                 static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(c, _mm_setzero_si128()))),
                 static_cast<uint32_t>(_mm_movemask_epi8(c))};
#else
    Masks m{0, 0, 0};
    for (uint32_t b = 0; b < kGroup; ++b) {
      m.match |= static_cast<uint32_t>(ctrl[b] == tag) << b;
      m.empty |= static_cast<uint32_t>(ctrl[b] == kEmpty) << b;
      m.full |= static_cast<uint32_t>(is_full(ctrl[b])) << b;
    }
    return m;
#endif
  }

  // The free slot of a group to insert into: the first one in `preferred` (at or after the home
  // slot, so an entry stays near the slot prefetch() loads), else the first one; kNone if full.
  [[gnu::always_inline]] static size_t first_free(size_t g, const Masks& m, uint32_t preferred) {
    const uint32_t free = ~m.full & 0xFFFF;
    if (free == 0) return kNone;
    const uint32_t near = free & preferred;
    return g + static_cast<size_t>(std::countr_zero(near != 0 ? near : free));
  }

  // Where a key is (found), or the first free slot on its probe sequence (kNone: no table).
  struct Probe {
    size_t slot;
    bool found;
  };
  static constexpr size_t kNone = ~size_t{0};
  [[gnu::always_inline]] Probe probe(const Prehashed<Key>& key) const {
    if (capacity_ == 0) [[unlikely]] {
      return {kNone, false};
    }
    const uint8_t tag = tag_of(key.hash);
    const size_t home = key.hash & mask_;
    size_t free = kNone;
    uint32_t from_home = ~uint32_t{0} << (home & (kGroup - 1));
    for (size_t g = home & ~(kGroup - 1);; g = (g + kGroup) & mask_, from_home = ~uint32_t{0}) {
      const Masks m = masks(ctrl_ + g, tag);
      for (uint32_t match = m.match; match != 0; match &= match - 1) {
        const size_t i = g + static_cast<size_t>(std::countr_zero(match));
        if (data_[i].first == *key.key) [[likely]] {
          return {i, true};
        }
      }
      if (free == kNone) free = first_free(g, m, from_home);
      if (m.empty != 0) [[likely]] {
        return {free, false};
      }
    }
  }

  // Slot i, once a cut in flight has what the page held.
  [[gnu::always_inline]] Entry* writable(size_t i) {
    if (watch_.active()) [[unlikely]] {
      before_write(i);
    }
    return data_ + i;
  }
  [[gnu::noinline]] void before_write(size_t i) { watch_.before_write(i >> page_shift_); }
  // Every page of the cut in flight is copied or read; the task no longer watches it.
  void settle() { watch_.settle(); }
  // The task stops writing the cut's table (it moves to another, or goes): no copies needed.
  void settle_detach() { watch_.detach(); }

  // Inserts (key, Value(args...)) at free slot i (kNone: none yet), growing first when full.
  template <typename... Args>
  [[gnu::noinline]] std::pair<Entry*, bool> insert(size_t i, const Prehashed<Key>& key,
                                                   Args&&... args) {
    if (i == kNone || (ctrl_[i] == kEmpty && growth_left_ == 0)) {
      // Full of entries: twice the room. Full of tombstones: the same room, rebuilt.
      rehash(capacity_ == 0 ? kMinCapacity
                            : (size_ + 1 > max_load_of(capacity_) / 2 ? capacity_ * 2 : capacity_));
      i = probe(key).slot;
    }
    Entry* e = writable(i);
    growth_left_ -= ctrl_[i] == kEmpty;
    new (e) Entry{Key(*key.key), Value(std::forward<Args>(args)...)};
    ctrl_[i] = tag_of(key.hash);
    ++size_;
    return {e, true};
  }

  // A new table of `capacity` slots holding every entry: moved out of the old one, or copied
  // when a cut still reads it.
  void rehash(size_t capacity) {
    std::shared_ptr<Slots> old = std::move(table_);
    const bool shared = watch_.active();
    settle_detach();  // the old table is no longer written: a cut reads it in place
    table_ = std::make_shared<Slots>(capacity);
    ctrl_ = table_->ctrl;
    data_ = table_->data;
    capacity_ = capacity;
    mask_ = capacity - 1;
    growth_left_ = max_load_of(capacity) - size_;
    if (old == nullptr) return;
    for (size_t s = 0; s < old->n; ++s) {
      if (!is_full(old->ctrl[s])) continue;
      Entry& e = old->data[s];
      const uint64_t h = hash_key(e.first);
      const size_t i = free_slot(h);
      if (shared) {
        new (data_ + i) Entry(e);
      } else {
        new (data_ + i) Entry(std::move(e));
      }
      ctrl_[i] = tag_of(h);
    }
  }
  // The first free slot on the probe sequence of hash h (rehash: no tombstones, no equal keys).
  size_t free_slot(uint64_t h) const {
    const size_t home = h & mask_;
    uint32_t from_home = ~uint32_t{0} << (home & (kGroup - 1));
    for (size_t g = home & ~(kGroup - 1);; g = (g + kGroup) & mask_, from_home = ~uint32_t{0}) {
      const size_t slot = first_free(g, masks(ctrl_ + g, 0), from_home);
      if (slot != kNone) return slot;
    }
  }

  void copy_from(const CowMap& o) {
    if (o.table_ == nullptr) return;
    table_ = std::make_shared<Slots>(o.ctrl_, o.data_, o.capacity_);
    ctrl_ = table_->ctrl;
    data_ = table_->data;
    capacity_ = o.capacity_;
    mask_ = o.mask_;
    size_ = o.size_;
    growth_left_ = o.growth_left_;
  }
  void take(CowMap& o) {
    table_ = std::move(o.table_);
    watch_ = std::move(o.watch_);
    page_shift_ = o.page_shift_;
    ctrl_ = o.ctrl_;
    data_ = o.data_;
    capacity_ = o.capacity_;
    mask_ = o.mask_;
    size_ = o.size_;
    growth_left_ = o.growth_left_;
    o.watch_.detach();
    o.ctrl_ = nullptr;
    o.data_ = nullptr;
    o.capacity_ = o.mask_ = o.size_ = o.growth_left_ = 0;
  }

  std::shared_ptr<Slots> table_;  // shared with a cut that reads it
  uint8_t* ctrl_ = nullptr;       // table_->ctrl
  Entry* data_ = nullptr;         // table_->data
  size_t capacity_ = 0;           // a power of two (>= 16), or 0
  size_t mask_ = 0;
  size_t size_ = 0;
  size_t growth_left_ = 0;   // inserts into empty slots before the table must grow
  CutWatch<Cut> watch_;      // the cut in flight, while some page may still be pending
  uint32_t page_shift_ = 0;  // log2 of cut_'s page slots
};

// The synchronous part of a checkpoint of keyed values in a CowMap: a frozen view, written per
// key group in snapshot_keyed_map()'s format by the checkpoint writer (restore_keyed_map() reads
// it at any parallelism).
template <typename Key, typename Value>
void snapshot_keyed_map(CowMap<Key, Value>& map, int max_parallelism, OperatorSnapshot& out) {
  if constexpr (kSerializable<Key> && kSerializable<Value>) {
    auto frozen = std::make_shared<typename CowMap<Key, Value>::Frozen>(map.freeze());
    out.deferred = [frozen, max_parallelism](OperatorSnapshot& to) {
      write_keyed_values<Key, Value>([&](auto&& fn) { frozen->for_each(fn); }, max_parallelism, to);
    };
  } else {
    (void)map;
    (void)max_parallelism;
    (void)out;
    throw_not_serializable();
  }
}

}  // namespace sluice::detail
