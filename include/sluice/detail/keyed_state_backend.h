// KeyedStateBackend: what every keyed state backend of an operator subtask with key type K
// shares — the key directory, the timer queues and the handles' scope — and the per-row,
// timer and between-batch calls a keyed operator makes on it.
//
// Per row, the operator resolves the row's key to a slot (one hash lookup, prefetched ahead within
// a batch) and points the scope at it; handles then read the slot's entry (an array index in
// memory, the slot's row key in RocksDB). Between batches, prepare() grows the tables to cover new
// slots and cleanup_step() visits a bounded number of slots: it drops expired TTL entries of
// in-memory tables and releases keys that hold neither state in memory nor timers.
//
// While a checkpoint cut of the in-memory state is in flight (slot_cut.h), every path that may
// write a slot's state — a row's key resolved, a timer fired, cleanup, a new key taking a free
// slot — first calls touch(slot), which saves the slot's page for the cut if nobody has read it
// yet. Between cuts touch() is one pointer test.
//
// The two backends: InMemoryStateBackend (in_memory_state_backend.h) and RocksDbStateBackend
// (rocksdb_state_backend.h); they differ in where state lives, in snapshots and in sizes.
//
// Thread-safety: owned by one operator subtask.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "sluice/detail/key_directory.h"
#include "sluice/detail/key_groups.h"
#include "sluice/detail/keyed_timers.h"
#include "sluice/detail/slot_cut.h"
#include "sluice/detail/state_backend.h"
#include "sluice/detail/state_table_set.h"

namespace sluice::detail {

template <typename K>
class KeyedStateBackend : public StateBackend {
 public:
  // Cleanup visits at least this many slots per pass, plus twice the slots created since the
  // last pass, so released keys keep up with new ones.
  static constexpr size_t kCleanupMinSlots = 32;

  explicit KeyedStateBackend(int max_parallelism) : max_parallelism_(max_parallelism) {}

  StateTableSet& tables() { return tables_; }
  StateScope& scope() { return tables_.scope(); }
  const KeyDirectory<K>& keys() const { return keys_; }
  int max_parallelism() const { return max_parallelism_; }

  // ---- per row ----
  [[gnu::always_inline]] uint32_t slot_of(const K& key) {
    return slot_of(Prehashed<K>{&key, hash_key(key)});
  }
  // The same with the key's hash_key() at hand (from the exchange: BatchBase::hashes).
  [[gnu::always_inline]] uint32_t slot_of(const Prehashed<K>& key) {
    if (!cut_.active()) [[likely]] {
      return keys_.slot_of(key, [](uint32_t) {});
    }
    const uint32_t s = keys_.slot_of(key, [&](uint32_t fresh) { touch(fresh); });
    touch(s);
    return s;
  }
  void prefetch(const Prehashed<K>& key) const { keys_.prefetch(key); }
  // Makes the current key `key` (adding it). For tests and tools; operators resolve a batch's
  // slots first and call prepare() once.
  void set_current_key(const K& key) {
    const uint32_t s = slot_of(key);
    prepare();
    scope().slot = s;
  }
  const K& current_key() const { return keys_.key_of(tables_.scope().slot); }

  // ---- timers ----
  KeyedTimers& timers() { return timers_; }
  void add_timer(TimeDomain d, Timestamp t) { timers_.add(d, t, scope().slot); }
  void remove_timer(TimeDomain d, Timestamp t) { timers_.remove(d, t, scope().slot); }
  // Fires timers of domain `d` at or before `limit` in time order: for each, the scope points at
  // its key and fn(time) runs.
  template <typename Fn>
  void fire_timers(TimeDomain d, Timestamp limit, Fn&& fn) {
    timers_.fire_until(d, limit, [&](Timestamp t, uint32_t slot) {
      scope().slot = slot;
      touch(slot);
      fn(t);
    });
  }

  // ---- between batches ----
  void prepare() {
    const size_t n = keys_.slot_count();
    if (n <= timers_.slots()) return;
    tables_.resize(n);
    timers_.resize(n);
  }
  virtual void cleanup_step() {
    const size_t n = keys_.slot_count();
    if (n == 0) return;
    size_t budget = kCleanupMinSlots + 2 * (keys_.allocations() - allocations_at_last_cleanup_);
    allocations_at_last_cleanup_ = keys_.allocations();
    budget = std::min(budget, n);
    const auto& tables = tables_.tables();
    for (size_t i = 0; i < budget; ++i) {
      if (cleanup_cursor_ >= n) cleanup_cursor_ = 0;
      const uint32_t s = static_cast<uint32_t>(cleanup_cursor_++);
      if (!keys_.in_use(s)) continue;
      bool holds = timers_.count(s) != 0;
      for (const auto& t : tables) {
        if (t->has_ttl()) touch(s);  // cleanup may drop an expired entry
        t->cleanup(s);
        holds = holds || t->holds(s);
      }
      if (!holds) {
        touch(s);
        keys_.release(s);
      }
    }
  }

  // Whether a checkpoint cut still waits for pages the task may write (for tests).
  bool cut_in_flight() const { return cut_.active(); }

 protected:
  int max_parallelism_;
  StateTableSet tables_;
  KeyDirectory<K> keys_;
  KeyedTimers timers_;  // a slot with timers is never released
  size_t cleanup_cursor_ = 0;
  uint64_t allocations_at_last_cleanup_ = 0;

  // ---- the checkpoint cut in flight (in-memory backend) ----
  [[gnu::always_inline]] void touch(uint32_t slot) {
    if (cut_.active()) [[unlikely]] {
      before_write(slot);
    }
  }
  [[gnu::noinline]] void before_write(uint32_t slot) {
    cut_.before_write(slot >> SlotCut<K>::kPageShift);
  }
  CutWatch<SlotCut<K>> cut_;
};

}  // namespace sluice::detail
