// Hash maps looked up with a hash computed once per row.
//
// An operator hashes a row's key once (detail::hash_key, the hash that also picks the key group)
// and hands a Prehashed{key, hash} to PrehashedMap: prefetch, find and insert then reuse it
// instead of hashing again. Keys stored in the map hash with the same function when it grows.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "sluice/detail/key_groups.h"

namespace sluice::detail {

template <typename Key>
struct Prehashed {
  const Key* key;
  uint64_t hash;
  operator Key() const { return *key; }  // NOLINT: builds the stored key on insertion
};

template <typename Key>
struct PrehashedHash {
  using is_transparent = void;
  size_t operator()(const Key& k) const { return hash_key(k); }
  size_t operator()(const Prehashed<Key>& p) const { return p.hash; }
};

template <typename Key>
struct PrehashedEq {
  using is_transparent = void;
  static const Key& key_of(const Key& k) { return k; }
  static const Key& key_of(const Prehashed<Key>& p) { return *p.key; }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return key_of(a) == key_of(b);
  }
};

template <typename Key, typename Value>
using PrehashedMap = absl::flat_hash_map<Key, Value, PrehashedHash<Key>, PrehashedEq<Key>>;

// Bytes a flat hash map holds: its slots and control bytes.
template <typename Map>
size_t table_bytes(const Map& map) {
  return map.capacity() * (sizeof(typename Map::value_type) + 1);
}

}  // namespace sluice::detail
