// The in-memory (heap) state backend of a keyed operator subtask with key type K: the key
// directory, the state tables and the timer queues.
//
// Per row, the operator resolves the row's key to a slot (one hash lookup, prefetched ahead within
// a batch) and points the scope at it; handles then index tables by slot. Between batches,
// prepare() grows the tables to cover new slots and cleanup_step() visits a bounded number of
// slots: it drops expired TTL entries and releases keys that hold neither state nor timers.
//
// Snapshot format of one key group (all integers native-endian):
//   u32 magic 'SLST', u32 version 1, u32 table count, then each table's name;
//   u64 key count, then per key: the key, then each table's entry (StateTable::write);
//   u64 timer count, then per timer: u64 key index, u8 domain (0 event, 1 processing), i64 time.
//
// Thread-safety: owned by one operator subtask.
#pragma once

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "sluice/detail/key_directory.h"
#include "sluice/detail/key_groups.h"
#include "sluice/detail/keyed_timers.h"
#include "sluice/detail/state_backend.h"
#include "sluice/detail/state_table_set.h"

namespace sluice::detail {

template <typename K>
class InMemoryStateBackend final : public StateBackend {
 public:
  static constexpr uint32_t kMagic = 0x54534C53;  // "SLST"
  static constexpr uint32_t kVersion = 1;
  // Cleanup visits at least this many slots per pass, plus twice the slots created since the
  // last pass, so released keys keep up with new ones.
  static constexpr size_t kCleanupMinSlots = 32;

  explicit InMemoryStateBackend(int max_parallelism) : max_parallelism_(max_parallelism) {}

  StateTableSet& tables() { return tables_; }
  StateScope& scope() { return tables_.scope(); }
  const KeyDirectory<K>& keys() const { return keys_; }
  int max_parallelism() const { return max_parallelism_; }

  // ---- per row ----
  uint32_t slot_of(const K& key) { return keys_.slot_of(key); }
  void prefetch(const K& key) const { keys_.prefetch(key); }
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
  void cleanup_step() {
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
        t->cleanup(s);
        holds = holds || t->holds(s);
      }
      if (!holds) keys_.release(s);
    }
  }

  // ---- StateBackend ----
  void snapshot(int key_group, StateWriter& w) const override {
    const auto& tables = tables_.tables();
    w.write(kMagic);
    w.write(kVersion);
    w.write(static_cast<uint32_t>(tables.size()));
    for (const auto& t : tables) w.write(t->name());
    std::vector<uint32_t> slots;
    keys_.for_each([&](const K& key, uint32_t slot) {
      if (key_group_of(hash_key(key), max_parallelism_) == key_group) slots.push_back(slot);
    });
    absl::flat_hash_map<uint32_t, uint64_t> index_of;
    w.write(static_cast<uint64_t>(slots.size()));
    for (uint32_t s : slots) {
      const uint64_t index = index_of.size();
      index_of[s] = index;
      w.write(keys_.key_of(s));
      for (const auto& t : tables) t->write(s, w);
    }
    std::vector<std::tuple<uint64_t, uint8_t, Timestamp>> timers;
    for (TimeDomain d : {TimeDomain::kEventTime, TimeDomain::kProcessingTime}) {
      timers_.queue(d).for_each([&](Timestamp t, uint32_t slot) {
        auto it = index_of.find(slot);
        if (it != index_of.end()) timers.emplace_back(it->second, static_cast<uint8_t>(d), t);
      });
    }
    w.write(static_cast<uint64_t>(timers.size()));
    for (const auto& [index, domain, time] : timers) {
      w.write(index);
      w.write(domain);
      w.write(time);
    }
  }

  Status restore(int key_group, StateReader& r) override {
    const std::string where = "restoring key group " + std::to_string(key_group) + ": ";
    if (r.read<uint32_t>() != kMagic || r.read<uint32_t>() != kVersion) {
      return Status::invalid_argument(where + "not a state snapshot of this version");
    }
    const uint32_t table_count = r.read<uint32_t>();
    std::vector<StateTable*> tables;
    for (uint32_t i = 0; i < table_count && !r.failed(); ++i) {
      const std::string name = r.read<std::string>();
      StateTable* t = tables_.find(name);
      if (t == nullptr) {
        return Status::invalid_argument(where + "the snapshot holds state '" + name +
                                        "', which the operator does not create");
      }
      tables.push_back(t);
    }
    const uint64_t key_count = r.read<uint64_t>();
    std::vector<uint32_t> slots;
    for (uint64_t i = 0; i < key_count && !r.failed(); ++i) {
      K key{};
      r.read(key);
      if (key_group_of(hash_key(key), max_parallelism_) != key_group) {
        return Status::invalid_argument(where + "a key belongs to another key group");
      }
      const uint32_t s = slot_of(key);
      prepare();
      slots.push_back(s);
      for (StateTable* t : tables) t->read(s, r);
    }
    const uint64_t timer_count = r.read<uint64_t>();
    for (uint64_t i = 0; i < timer_count && !r.failed(); ++i) {
      const uint64_t index = r.read<uint64_t>();
      const uint8_t domain = r.read<uint8_t>();
      const Timestamp time = r.read<Timestamp>();
      if (index >= slots.size() || domain > 1) {
        r.fail();
        break;
      }
      timers_.add(static_cast<TimeDomain>(domain), time, slots[index]);
    }
    if (r.failed()) return Status::invalid_argument(where + "truncated or malformed snapshot");
    return Status::ok();
  }

  OperatorStateStats stats() const override {
    OperatorStateStats s;
    s.keys = static_cast<int64_t>(keys_.size());
    s.timers = static_cast<int64_t>(timers_.size());
    s.bytes = keys_.bytes() + timers_.bytes();
    for (const auto& t : tables_.tables()) {
      s.states.push_back(StateStats{t->name(), t->keys(), t->bytes()});
      s.bytes += t->bytes();
    }
    return s;
  }

 private:
  int max_parallelism_;
  StateTableSet tables_;
  KeyDirectory<K> keys_;
  KeyedTimers timers_;  // a slot with timers is never released
  size_t cleanup_cursor_ = 0;
  uint64_t allocations_at_last_cleanup_ = 0;
};

}  // namespace sluice::detail
