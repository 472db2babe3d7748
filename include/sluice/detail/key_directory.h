// KeyDirectory: the keys a keyed operator subtask holds state or timers for, each with a dense
// slot number that indexes the state tables (detail/state_table.h).
//
// A row's key is looked up once, with the hash its exchange computed (detail::hash_key, the hash
// that picked its key group); every state access for that row is then an array index. Slots of keys
// that no longer hold anything are released by the backend's incremental cleanup and reused, so the
// tables do not grow with keys that come and go.
//
// With encode_keys() (the RocksDB backend), each key also gets its row key, [group][key] (see
// detail/rocksdb_store.h), computed once when the key is added, not per row.
//
// Thread-safety: owned by one operator subtask.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sluice/detail/key_groups.h"
#include "sluice/detail/prehashed_map.h"
#include "sluice/detail/slot_array.h"
#include "sluice/state_serializer.h"

namespace sluice::detail {

template <typename K>
class KeyDirectory {
 public:
  // The slot of `key`, added if it has none.
  uint32_t slot_of(const K& key) {
    return slot_of(Prehashed<K>{&key, hash_key(key)}, [](uint32_t) {});
  }
  // The same for a key whose hash_key() the caller has (the exchange's); before a new key takes
  // its slot, before_new(slot) runs (a cut in flight saves what the slot held, see slot_cut.h).
  template <typename BeforeNew>
  [[gnu::always_inline]] uint32_t slot_of(const Prehashed<K>& key, BeforeNew&& before_new) {
    auto [it, inserted] = slots_.try_emplace(key, 0u);
    if (inserted) {
      const uint32_t s = free_.empty() ? static_cast<uint32_t>(keys_.size()) : free_.back();
      before_new(s);
      it->second = allocate(*key.key);
    }
    return it->second;
  }
  void prefetch(const Prehashed<K>& key) const { slots_.prefetch(key); }

  const K& key_of(uint32_t slot) const { return keys_[slot]; }
  // Keeps the row key of every key from now on. REQUIRES: no key added yet.
  void encode_keys(int max_parallelism) { encode_for_ = max_parallelism; }
  // Row keys by slot (empty for free slots); only with encode_keys().
  const std::vector<std::string>& encoded() const { return encoded_; }
  bool in_use(uint32_t slot) const { return in_use_[slot] != 0; }
  // Forgets the key of `slot`. REQUIRES: in_use(slot) and every table is empty for it.
  void release(uint32_t slot) {
    slots_.erase(keys_[slot]);
    keys_[slot] = K{};
    in_use_[slot] = 0;
    if (encode_for_ > 0) encoded_[slot].clear();
    free_.push_back(slot);
  }

  size_t size() const { return slots_.size(); }

  // The keys by slot as they are now, for a checkpoint cut (see SlotArray::pin()).
  struct View {
    typename SlotArray<K>::Pinned keys;
    SlotArray<uint8_t>::Pinned in_use;
  };
  View view() const { return View{keys_.pin(), in_use_.pin()}; }
  // Keys added so far (slots handed out, reused ones included).
  uint64_t allocations() const { return allocations_; }
  // Slots handed out so far (in use or free): the size state tables must have.
  size_t slot_count() const { return keys_.size(); }
  // fn(const K& key, uint32_t slot) for every key.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const auto& [key, slot] : slots_) fn(key, slot);
  }
  int64_t bytes() const {
    return static_cast<int64_t>(slots_.capacity() * (sizeof(std::pair<K, uint32_t>) + 1) +
                                keys_.capacity() * sizeof(K) + in_use_.capacity() +
                                free_.capacity() * sizeof(uint32_t) +
                                encoded_.capacity() * sizeof(std::string));
  }

 private:
  uint32_t allocate(const K& key) {
    ++allocations_;
    if (!free_.empty()) {
      const uint32_t s = free_.back();
      free_.pop_back();
      keys_[s] = key;
      in_use_[s] = 1;
      encode(s, key);
      return s;
    }
    keys_.push_back(key);
    in_use_.push_back(1);
    const uint32_t s = static_cast<uint32_t>(keys_.size() - 1);
    encode(s, key);
    return s;
  }
  void encode(uint32_t slot, const K& key) {
    if (encode_for_ != 0) encode_slow(slot, key);
  }
  // Out of line: once per new key, and inlined into slot_of() GCC 12 warns wrongly
  // (stringop-overflow) on the buffer's insert.
  [[gnu::noinline]] void encode_slow(uint32_t slot, const K& key) {
    if (slot >= encoded_.size()) encoded_.resize(slot + 1);
    buffer_.clear();
    StateWriter(&buffer_).write(key);
    std::string& out = encoded_[slot];
    out.clear();
    append_key_group(out, key_group_of(hash_key(key), encode_for_));
    out.append(buffer_.data(), buffer_.size());
  }

  PrehashedMap<K, uint32_t> slots_;  // hashed with hash_key: a row's hash serves twice
  SlotArray<K> keys_;                // by slot; K{} for free slots
  SlotArray<uint8_t> in_use_;        // by slot
  std::vector<uint32_t> free_;       // released slots, reused first
  uint64_t allocations_ = 0;
  int encode_for_ = 0;                // max parallelism when keys are encoded
  std::vector<std::string> encoded_;  // by slot
  std::vector<char> buffer_;
};

}  // namespace sluice::detail
