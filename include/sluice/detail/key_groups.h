// Key groups: the fixed partitioning of the key space that state and exchanges share.
//
// A key hashes once to a stable 64-bit value; that hash picks its key group (one of
// max_parallelism) and a subtask owns a contiguous range of key groups, so state snapshotted per
// key group can be redistributed when a job restarts with another parallelism.
//
// Stability: hash_key() is a fixed function of the key's value, the same in every process, on
// every run and in every build (test/state/key_hash_test.cc pins it), so checkpoints taken by one
// build restore in the next and processes sharing a job agree on who owns a key. Byte strings are
// read as little-endian words whatever the machine's byte order. A key type without a built-in
// hash must say how it hashes (`sluice_hash`, below): there is no fallback to std::hash, whose
// values are the standard library's choice and may change between its versions.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
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

// Up to 8 bytes as a little-endian word, whatever the machine's byte order.
inline uint64_t load_le64(const char* p, size_t n) {
  uint64_t word = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&word, p, n);
  } else {
    for (size_t k = 0; k < n; ++k)
      word |= static_cast<uint64_t>(static_cast<uint8_t>(p[k])) << (8 * k);
  }
  return word;
}

inline uint64_t hash_bytes(std::string_view bytes) {
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ bytes.size();
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) h = mix64(h ^ load_le64(bytes.data() + i, 8));
  return mix64(h ^ load_le64(bytes.data() + i, bytes.size() - i));
}

// Whether hash_key() knows how to hash K.
template <typename K>
constexpr bool kHashableKey = std::is_integral_v<K> || std::is_enum_v<K> ||
                              std::is_floating_point_v<K> ||
                              std::is_convertible_v<const K&, std::string_view> ||
                              IsPair<K>::value || IsTuple<K>::value || requires(const K& k) {
  sluice_hash(k);
};

// The hash of a key that picks its key group. It must be the same in every process and on every
// run — checkpoints store state by key group, and the processes of one job must agree on who
// owns a key — so it is not absl::Hash (seeded per process). Integers, enums, floating point,
// strings (anything convertible to std::string_view), pairs and tuples of these are built in;
// another key type provides an ADL function `uint64_t sluice_hash(const K&)` that depends only
// on the key's value (combine its fields with sluice::detail::hash_key and mix64).
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
    static_assert(
        kHashableKey<K>,
        "this key type has no stable hash: give it a function `uint64_t sluice_hash(const "
        "K&)` in its namespace that depends only on the key's value (keys pick their key "
        "group by it in every process and every checkpoint; see sluice/detail/"
        "key_groups.h)");
    return 0;
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
