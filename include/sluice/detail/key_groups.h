// Key groups: the fixed partitioning of the key space that state and exchanges share.
//
// A key hashes once to a stable 64-bit value; that hash picks its key group (one of
// max_parallelism)
// and a subtask owns a contiguous range of key groups, so state snapshotted per key group can be
// redistributed when a job restarts with another parallelism.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "sluice/detail/type_traits.h"

namespace sluice::detail {

// SplitMix64's finalizer: a bijective mix of 64 bits.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

inline uint64_t hash_bytes(std::string_view bytes) {
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ bytes.size();
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    h = mix64(h ^ word);
  }
  uint64_t tail = 0;
  std::memcpy(&tail, bytes.data() + i, bytes.size() - i);
  return mix64(h ^ tail);
}

// The hash of a key that picks its key group. It must be the same in every process and on every
// run — checkpoints store state by key group, and the processes of one job must agree on who
// owns a key — so it is not absl::Hash (seeded per process). Integers, enums, floating point,
// strings, pairs and tuples are built in; another key type provides an ADL function
// `uint64_t sluice_hash(const K&)`, or falls back to std::hash (unseeded in libstdc++).
template <typename K>
inline uint64_t hash_key(const K& key) {
  if constexpr (std::is_integral_v<K> || std::is_enum_v<K>) {
    return mix64(static_cast<uint64_t>(key));
  } else if constexpr (std::is_floating_point_v<K>) {
    const double d = key == 0 ? 0.0 : static_cast<double>(key);  // -0.0 == 0.0
    return mix64(std::bit_cast<uint64_t>(d));
  } else if constexpr (std::is_convertible_v<const K&, std::string_view>) {
    return hash_bytes(std::string_view(key));
  } else if constexpr (IsPair<K>::value) {
    return mix64(hash_key(key.first) * 31 + hash_key(key.second));
  } else if constexpr (IsTuple<K>::value) {
    return std::apply(
        [](const auto&... parts) {
          uint64_t h = 0;
          ((h = mix64(h * 31 + hash_key(parts))), ...);
          return h;
        },
        key);
  } else if constexpr (requires { sluice_hash(key); }) {
    return static_cast<uint64_t>(sluice_hash(key));
  } else {
    return mix64(std::hash<K>{}(key));
  }
}

// Multiply-shift range reduction of the hash's high half: uniform like a modulo, without the
// division (a row's route must cost a few cycles, not forty).
inline int key_group_of(uint64_t hash, int max_parallelism) {
  return static_cast<int>(((hash >> 32) * static_cast<uint64_t>(max_parallelism)) >> 32);
}

// The two big-endian bytes that start every RocksDB row key of `key_group`, so that a key
// group's rows are one contiguous range. REQUIRES: 0 <= key_group < 32768.
inline void append_key_group(std::string& out, int key_group) {
  out.push_back(static_cast<char>((key_group >> 8) & 0xFF));
  out.push_back(static_cast<char>(key_group & 0xFF));
}

// REQUIRES: 0 <= key_group < max_parallelism, 1 <= parallelism <= max_parallelism.
inline int subtask_of_key_group(int key_group, int max_parallelism, int parallelism) {
  return key_group * parallelism / max_parallelism;
}

}  // namespace sluice::detail
