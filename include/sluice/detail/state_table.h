// State tables: the storage behind ValueState, MapState and ListState in the in-memory backend.
//
// A keyed operator maps each key it sees to a dense slot number once per row (KeyDirectory); a
// table is an array indexed by slot (a SlotArray: chunks that never move, so a checkpoint can cut
// it by copy on write, see slot_cut.h), so a state access in the per-row loop is an index, neither
// a hash lookup per state nor a virtual call. The handles (sluice/state.h) hold a typed
// table pointer and the operator's StateScope, which names the current slot and the TTL clocks.
// The virtual functions of StateTable are for the operator between batches (growth, cleanup,
// snapshots, sizes), never for the per-row loop.
//
// A ValueState<int64_t> costs 16 bytes per key here (the value and its TTL stamp / presence word).
//
// Thread-safety: owned by one operator subtask, used by its task's thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "sluice/detail/slot_array.h"
#include "sluice/state_serializer.h"
#include "sluice/state_ttl.h"
#include "sluice/time.h"

namespace sluice::detail {

// What every state handle of an operator reads: the slot of the key being handled and the clocks
// TTL is measured on. Set by the operator per row (slot, event time) and per batch (processing).
struct StateScope {
  uint32_t slot = 0;
  Timestamp processing_now = 0;
  Timestamp event_now = kMinTimestamp;
  // RocksDB backend only: the row key of each slot's key (KeyDirectory::encoded()).
  const std::vector<std::string>* key_bytes = nullptr;
};

// The stamp of an absent entry; present entries have a stamp greater than this.
inline constexpr int64_t kAbsent = INT64_MIN;

// Whether an entry stamped `stamp` is expired at `now` for a TTL of `ttl` milliseconds.
inline bool ttl_expired(int64_t stamp, Timestamp now, Duration ttl) {
  return now >= stamp &&
         static_cast<uint64_t>(now) - static_cast<uint64_t>(stamp) >= static_cast<uint64_t>(ttl);
}

// TTL arithmetic shared by the tables; the no-TTL policy says "never expired", stamps 0.
class TtlPolicy {
 public:
  TtlPolicy() = default;
  TtlPolicy(const std::optional<StateTtl>& ttl, const StateScope* scope) {
    if (!ttl.has_value()) return;
    enabled_ = true;
    ttl_ = std::max<Duration>(ttl->ttl, 1);
    refresh_on_read_ = ttl->update == StateTtl::Update::kOnReadAndWrite;
    return_expired_ = ttl->return_expired;
    event_time_ = ttl->time == StateTtl::Time::kEventTime;
    clock_ = event_time_ ? &scope->event_now : &scope->processing_now;
  }
  bool enabled() const { return enabled_; }
  // The stamp of an entry written (or, for kOnReadAndWrite, read) now.
  int64_t stamp() const { return enabled_ ? std::max(*clock_, kAbsent + 1) : 0; }
  bool expired(int64_t stamp) const { return enabled_ && ttl_expired(stamp, *clock_, ttl_); }
  bool refresh_on_read() const { return refresh_on_read_; }
  Duration ttl() const { return enabled_ ? ttl_ : 0; }
  bool event_time() const { return event_time_; }
  bool return_expired() const { return return_expired_; }
  // This policy measured on `clock` instead (a checkpoint view's copy of the clock at the cut).
  TtlPolicy on_clock(const Timestamp* clock) const {
    TtlPolicy p = *this;
    if (enabled_) p.clock_ = clock;
    return p;
  }
  const Timestamp* clock() const { return clock_; }

 private:
  bool enabled_ = false;
  bool refresh_on_read_ = false;
  bool return_expired_ = false;
  bool event_time_ = false;
  Duration ttl_ = 0;
  const Timestamp* clock_ = nullptr;
};

// Where a table keeps slot s, for prefetching a batch's entries ahead (see SlotArray::chunks()).
struct PrefetchTarget {
  const char* const* chunks = nullptr;
  size_t stride = 0;
  [[gnu::always_inline]] void prefetch(uint32_t s) const {
    __builtin_prefetch(chunks[s >> SlotArray<char>::kShift] +
                       (s & SlotArray<char>::kMask) * stride);
  }
};

class StateTable {
 public:
  StateTable(std::string name, TtlPolicy ttl) : name_(std::move(name)), ttl_(ttl) {}
  virtual ~StateTable() = default;
  StateTable(const StateTable&) = delete;
  StateTable& operator=(const StateTable&) = delete;

  const std::string& name() const { return name_; }

  // Makes slots [0, slots) addressable; new slots are empty.
  virtual void resize(size_t slots) = 0;
  // Drops the expired entries of `slot`.
  virtual void cleanup(uint32_t slot) = 0;
  // Whether `slot` holds anything (expired entries included until cleaned up).
  virtual bool holds(uint32_t slot) const = 0;
  virtual void clear(uint32_t slot) = 0;
  // The entry of `slot` with its TTL stamps (expired entries left out); read() restores it.
  virtual void write(uint32_t slot, StateWriter& w) const = 0;
  virtual void read(uint32_t slot, StateReader& r) = 0;
  virtual int64_t keys() const = 0;
  virtual int64_t bytes() const = 0;
  virtual PrefetchTarget prefetch_target() const { return {}; }
  bool has_ttl() const { return ttl_.enabled(); }

  // The table as it is now, for a checkpoint cut: write(slot) on the checkpoint writer's thread
  // writes the entry like StateTable::write, reading only the slots the cut has not handed back to
  // the task (slot_cut.h). Expiry is judged by the clock at the cut.
  class View {
   public:
    virtual ~View() = default;
    virtual void write(uint32_t slot, StateWriter& w) const = 0;
  };
  virtual std::unique_ptr<View> view() const = 0;

 protected:
  // A View over cells in a SlotArray, written by WriteCell(cell, ttl, writer).
  template <typename Cell, auto WriteCell>
  class CellView final : public View {
   public:
    CellView(const SlotArray<Cell>& cells, const TtlPolicy& ttl)
        : cells_(cells.pin()), now_(ttl.enabled() ? *ttl.clock() : 0), ttl_(ttl.on_clock(&now_)) {}
    void write(uint32_t slot, StateWriter& w) const override { WriteCell(cells_[slot], ttl_, w); }

   private:
    typename SlotArray<Cell>::Pinned cells_;
    Timestamp now_;  // the clock at the cut
    TtlPolicy ttl_;
  };

  std::string name_;
  TtlPolicy ttl_;
};

// One value per key.
template <typename T>
class ValueTable final : public StateTable {
 public:
  static_assert(std::is_default_constructible_v<T>,
                "ValueState<T>: T must be default-constructible");
  using StateTable::StateTable;

  // nullptr when absent or expired. The pointer is valid until the table changes.
  const T* get(uint32_t slot) {
    Cell& c = cells_[slot];
    if (c.stamp == kAbsent) return nullptr;
    if (ttl_.enabled()) [[unlikely]] {
      if (ttl_.expired(c.stamp)) {
        if (ttl_.return_expired()) return &c.value;
        erase(c);
        return nullptr;
      }
      if (ttl_.refresh_on_read()) c.stamp = ttl_.stamp();
    }
    return &c.value;
  }
  void put(uint32_t slot, T value) {
    Cell& c = cells_[slot];
    keys_ += c.stamp == kAbsent;
    c.value = std::move(value);
    c.stamp = ttl_.stamp();
  }
  void clear(uint32_t slot) override { erase(cells_[slot]); }

  void resize(size_t slots) override { cells_.resize(slots); }
  void cleanup(uint32_t slot) override {
    Cell& c = cells_[slot];
    if (c.stamp != kAbsent && ttl_.expired(c.stamp)) erase(c);
  }
  bool holds(uint32_t slot) const override { return cells_[slot].stamp != kAbsent; }
  void write(uint32_t slot, StateWriter& w) const override { write_cell(cells_[slot], ttl_, w); }
  std::unique_ptr<View> view() const override {
    return std::make_unique<CellView<Cell, &ValueTable::write_cell>>(cells_, ttl_);
  }
  void read(uint32_t slot, StateReader& r) override {
    Cell& c = cells_[slot];
    erase(c);
    if (r.read<uint8_t>() == 0) return;
    int64_t stamp = r.read<int64_t>();
    r.read(c.value);
    c.stamp = std::max(stamp, kAbsent + 1);
    ++keys_;
  }
  int64_t keys() const override { return keys_; }
  int64_t bytes() const override { return static_cast<int64_t>(cells_.capacity() * sizeof(Cell)); }
  PrefetchTarget prefetch_target() const override { return {cells_.chunks(), sizeof(Cell)}; }

 private:
  struct Cell {
    T value{};
    int64_t stamp = kAbsent;
  };
  static void write_cell(const Cell& c, const TtlPolicy& ttl, StateWriter& w) {
    const bool present = c.stamp != kAbsent && !ttl.expired(c.stamp);
    w.write(static_cast<uint8_t>(present));
    if (!present) return;
    w.write(c.stamp);
    w.write(c.value);
  }
  void erase(Cell& c) {
    if (c.stamp == kAbsent) return;
    --keys_;
    c.stamp = kAbsent;
    c.value = T{};  // releases what the value owns (a string's buffer)
  }

  SlotArray<Cell> cells_;
  int64_t keys_ = 0;
};

// A hash map per key. A key's map is allocated when it gets its first entry.
template <typename K, typename V>
class MapTable final : public StateTable {
 public:
  using StateTable::StateTable;

  const V* get(uint32_t slot, const K& key) {
    auto& m = maps_[slot];
    auto it = m.find(key);
    if (it == m.end()) return nullptr;
    if (ttl_.enabled()) [[unlikely]] {
      if (ttl_.expired(it->second.stamp)) {
        if (ttl_.return_expired()) return &it->second.value;
        m.erase(it);
        if (m.empty()) clear_empty(m);
        return nullptr;
      }
      if (ttl_.refresh_on_read()) it->second.stamp = ttl_.stamp();
    }
    return &it->second.value;
  }
  void put(uint32_t slot, K key, V value) {
    auto& m = maps_[slot];
    keys_ += m.empty();
    m.insert_or_assign(std::move(key), Cell{std::move(value), ttl_.stamp()});
  }
  bool remove(uint32_t slot, const K& key) {
    auto& m = maps_[slot];
    const bool erased = m.erase(key) > 0;
    if (erased && m.empty()) clear_empty(m);
    return erased;
  }
  // Calls fn(key, value) for every entry that is not expired; drops expired ones.
  template <typename Fn>
  void for_each(uint32_t slot, Fn&& fn) {
    auto& m = maps_[slot];
    if (m.empty()) return;
    for (auto it = m.begin(); it != m.end();) {
      if (ttl_.expired(it->second.stamp) && !ttl_.return_expired()) {
        m.erase(it++);
        continue;
      }
      if (ttl_.refresh_on_read()) it->second.stamp = ttl_.stamp();
      fn(static_cast<const K&>(it->first), static_cast<const V&>(it->second.value));
      ++it;
    }
    if (m.empty()) clear_empty(m);
  }
  size_t size(uint32_t slot) {
    size_t n = 0;
    for_each(slot, [&](const K&, const V&) { ++n; });
    return n;
  }

  void clear(uint32_t slot) override {
    auto& m = maps_[slot];
    if (m.empty()) return;
    --keys_;
    Map().swap(m);  // frees the key's table
  }
  void resize(size_t slots) override { maps_.resize(slots); }
  void cleanup(uint32_t slot) override {
    auto& m = maps_[slot];
    if (m.empty() || !ttl_.enabled()) return;
    for (auto it = m.begin(); it != m.end();) {
      if (ttl_.expired(it->second.stamp)) {
        m.erase(it++);
      } else {
        ++it;
      }
    }
    if (m.empty()) clear_empty(m);
  }
  bool holds(uint32_t slot) const override { return !maps_[slot].empty(); }
  void write(uint32_t slot, StateWriter& w) const override { write_map(maps_[slot], ttl_, w); }
  std::unique_ptr<View> view() const override {
    return std::make_unique<CellView<Map, &MapTable::write_map>>(maps_, ttl_);
  }
  void read(uint32_t slot, StateReader& r) override {
    clear(slot);
    auto& m = maps_[slot];
    const uint64_t n = r.read<uint64_t>();
    for (uint64_t i = 0; i < n && !r.failed(); ++i) {
      K k{};
      Cell c{};
      r.read(k);
      r.read(c.stamp);
      r.read(c.value);
      m.insert_or_assign(std::move(k), std::move(c));
    }
    if (!m.empty()) ++keys_;
  }
  int64_t keys() const override { return keys_; }
  int64_t bytes() const override {
    size_t b = maps_.capacity() * sizeof(Map);
    for (uint32_t s = 0; s < maps_.size(); ++s) {
      b += maps_[s].capacity() * (sizeof(typename Map::value_type) + 1);
    }
    return static_cast<int64_t>(b);
  }

 private:
  struct Cell {
    V value{};
    int64_t stamp = 0;
  };
  using Map = absl::flat_hash_map<K, Cell>;
  static void write_map(const Map& m, const TtlPolicy& ttl, StateWriter& w) {
    uint64_t n = 0;
    for (const auto& [k, c] : m) n += !ttl.expired(c.stamp);
    w.write(n);
    for (const auto& [k, c] : m) {
      if (ttl.expired(c.stamp)) continue;
      w.write(k);
      w.write(c.stamp);
      w.write(c.value);
    }
  }
  void clear_empty(Map& m) {
    --keys_;
    Map().swap(m);
  }

  SlotArray<Map> maps_;
  int64_t keys_ = 0;
};

// A list per key, with a TTL stamp per element.
template <typename T>
class ListTable final : public StateTable {
 public:
  using StateTable::StateTable;

  void add(uint32_t slot, T value) {
    auto& l = lists_[slot];
    keys_ += l.empty();
    l.push_back(Cell{std::move(value), ttl_.stamp()});
  }
  // Calls fn(value) for every element that is not expired, in insertion order; drops expired ones.
  template <typename Fn>
  void for_each(uint32_t slot, Fn&& fn) {
    auto& l = lists_[slot];
    if (l.empty()) return;
    if (!ttl_.enabled()) {
      for (const Cell& c : l) fn(static_cast<const T&>(c.value));
      return;
    }
    size_t kept = 0;
    for (size_t i = 0; i < l.size(); ++i) {
      Cell& c = l[i];
      if (ttl_.expired(c.stamp) && !ttl_.return_expired()) continue;
      if (ttl_.refresh_on_read()) c.stamp = ttl_.stamp();
      fn(static_cast<const T&>(c.value));
      if (kept != i) l[kept] = std::move(c);
      ++kept;
    }
    l.resize(kept);
    if (l.empty()) clear_empty(l);
  }
  size_t size(uint32_t slot) {
    size_t n = 0;
    for_each(slot, [&](const T&) { ++n; });
    return n;
  }

  void clear(uint32_t slot) override {
    auto& l = lists_[slot];
    if (l.empty()) return;
    clear_empty(l);
  }
  void resize(size_t slots) override { lists_.resize(slots); }
  void cleanup(uint32_t slot) override {
    auto& l = lists_[slot];
    if (l.empty() || !ttl_.enabled()) return;
    std::erase_if(l, [&](const Cell& c) { return ttl_.expired(c.stamp); });
    if (l.empty()) clear_empty(l);
  }
  bool holds(uint32_t slot) const override { return !lists_[slot].empty(); }
  void write(uint32_t slot, StateWriter& w) const override { write_list(lists_[slot], ttl_, w); }
  std::unique_ptr<View> view() const override {
    return std::make_unique<CellView<List, &ListTable::write_list>>(lists_, ttl_);
  }
  void read(uint32_t slot, StateReader& r) override {
    clear(slot);
    auto& l = lists_[slot];
    const uint64_t n = r.read<uint64_t>();
    for (uint64_t i = 0; i < n && !r.failed(); ++i) {
      Cell c{};
      r.read(c.stamp);
      r.read(c.value);
      l.push_back(std::move(c));
    }
    if (!l.empty()) ++keys_;
  }
  int64_t keys() const override { return keys_; }
  int64_t bytes() const override {
    size_t b = lists_.capacity() * sizeof(List);
    for (uint32_t s = 0; s < lists_.size(); ++s) b += lists_[s].capacity() * sizeof(Cell);
    return static_cast<int64_t>(b);
  }

 private:
  struct Cell {
    T value{};
    int64_t stamp = 0;
  };
  using List = std::vector<Cell>;
  static void write_list(const List& l, const TtlPolicy& ttl, StateWriter& w) {
    uint64_t n = 0;
    for (const Cell& c : l) n += !ttl.expired(c.stamp);
    w.write(n);
    for (const Cell& c : l) {
      if (ttl.expired(c.stamp)) continue;
      w.write(c.stamp);
      w.write(c.value);
    }
  }
  void clear_empty(List& l) {
    --keys_;
    l.clear();
    l.shrink_to_fit();  // (not `List().swap(l)`: GCC 12 then warns free-nonheap-object wrongly)
  }

  SlotArray<List> lists_;
  int64_t keys_ = 0;
};

}  // namespace sluice::detail
