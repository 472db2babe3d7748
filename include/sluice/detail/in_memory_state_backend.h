// The in-memory (heap) state backend of a keyed operator subtask with key type K: the key
// directory, the timer queues (keyed_state_backend.h) and state tables indexed by slot.
//
// Snapshots per key group in the format of slot_cut.h: cut() takes a checkpoint by copy on write
// (the key groups are written later, on the checkpoint writer's thread); snapshot() writes one
// key group at once.
//
// Thread-safety: owned by one operator subtask.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "sluice/detail/keyed_state_backend.h"

namespace sluice::detail {

template <typename K>
class InMemoryStateBackend final : public KeyedStateBackend<K> {
  using Base = KeyedStateBackend<K>;
  using Base::keys_;
  using Base::max_parallelism_;
  using Base::tables_;
  using Base::timers_;

 public:
  static constexpr uint32_t kMagic = KeyedSnapshotFormat::kMagic;
  static constexpr uint32_t kVersion = KeyedSnapshotFormat::kVersion;
  explicit InMemoryStateBackend(int max_parallelism) : KeyedStateBackend<K>(max_parallelism) {}

  // ---- StateBackend ----
  // A checkpoint cut of every key group: O(pages) now; the returned function writes the key
  // groups into a snapshot later, on another thread (OperatorSnapshot::deferred). A cut still in
  // flight is settled first.
  std::function<void(OperatorSnapshot&)> cut() {
    this->cut_.settle();
    auto c = std::make_shared<SlotCut<K>>(keys_, tables_, timers_, max_parallelism_);
    if (c->pages() > 0) this->cut_.start(c, c->pages());
    // Whether or not the writer runs, dropping the function gives up what it has not read.
    auto reader = std::shared_ptr<SlotCut<K>>(c.get(), [c](SlotCut<K>*) { c->release(); });
    return [reader](OperatorSnapshot& out) { reader->write(out); };
  }

  void snapshot(int key_group, StateWriter& w) const override {
    const auto& tables = tables_.tables();
    std::vector<std::string> names;
    for (const auto& t : tables) names.push_back(t->name());
    KeyedSnapshotFormat::write_header(names, w);
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
    std::vector<std::tuple<uint64_t, TimeDomain, Timestamp>> timers;
    for (TimeDomain d : {TimeDomain::kEventTime, TimeDomain::kProcessingTime}) {
      timers_.queue(d).for_each([&](Timestamp t, uint32_t slot) {
        auto it = index_of.find(slot);
        if (it != index_of.end()) timers.emplace_back(it->second, d, t);
      });
    }
    w.write(static_cast<uint64_t>(timers.size()));
    for (const auto& [index, domain, time] : timers) {
      KeyedSnapshotFormat::write_timer(index, domain, time, w);
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
      const uint32_t s = this->slot_of(key);
      this->prepare();
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
};

}  // namespace sluice::detail
