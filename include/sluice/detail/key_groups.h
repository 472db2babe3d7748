// Key groups: the fixed partitioning of the key space that state and exchanges share.
//
// A key hashes once to a 64-bit value; that hash picks its key group (hash mod max parallelism)
// and a subtask owns a contiguous range of key groups, so state snapshotted per key group can be
// redistributed when a job restarts with another parallelism.
#pragma once

#include <cstdint>

#include "absl/hash/hash.h"

namespace sluice::detail {

template <typename K>
inline uint64_t hash_key(const K& key) {
  return absl::Hash<K>{}(key);
}

// Multiply-shift range reduction of the hash's high half: uniform like a modulo, without the
// division (a row's route must cost a few cycles, not forty).
inline int key_group_of(uint64_t hash, int max_parallelism) {
  return static_cast<int>(((hash >> 32) * static_cast<uint64_t>(max_parallelism)) >> 32);
}

// REQUIRES: 0 <= key_group < max_parallelism, 1 <= parallelism <= max_parallelism.
inline int subtask_of_key_group(int key_group, int max_parallelism, int parallelism) {
  return key_group * parallelism / max_parallelism;
}

}  // namespace sluice::detail
