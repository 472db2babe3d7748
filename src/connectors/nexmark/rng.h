// The random draws of the Nexmark generator, bit for bit as in nexmark_ref.py: SplitMix64 streams
// and the few derived draws (bounded integers, doubles, prices, random text). Each event has its
// own stream, started from (seed, n), so events do not depend on one another.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice::nexmark {

inline constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

// The SplitMix64 finalizer.
constexpr uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// SplitMix64: state += kGolden; output mix64(state). A value; not for sharing between threads.
class Rng {
 public:
  explicit constexpr Rng(uint64_t start) : state_(start) {}

  uint64_t next64() {
    state_ += kGolden;
    return mix64(state_);
  }

  // In [0, bound): the high 64 bits of the 128-bit product next64() * bound.
  // REQUIRES: bound >= 1.
  uint64_t next_int(uint64_t bound) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next64()) * bound) >> 64);
  }

  // In [0, 1), from the top 53 bits.
  double next_double() { return static_cast<double>(next64() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

// The stream of event n.
inline Rng event_rng(uint64_t seed, uint64_t n) { return Rng(mix64(seed + kGolden * (n + 1))); }

// A named stream of the per-seed tables.
inline Rng stream_rng(uint64_t seed, uint64_t stream) { return Rng(mix64(seed ^ stream)); }

// Log-uniform over [100, 100'000'000] cents: floor(10^(6u) * 100 + 0.5). Uses the C library's pow
// in double precision, as the reference does; the target is built without floating-point
// contraction so that the multiply-add rounds twice, as in Python.
inline int64_t next_price(Rng& rng) {
  return static_cast<int64_t>(std::floor(std::pow(10.0, rng.next_double() * 6.0) * 100.0 + 0.5));
}

// 3 to max_length-1 characters, each `special` with probability 1/13, else a-z; then spaces are
// trimmed from both ends (only spaces, whatever `special` is). Writes into buf and returns the
// trimmed part of it.
// REQUIRES: max_length > 3; buf holds max_length - 1 characters.
inline std::string_view next_string(Rng& rng, size_t max_length, char special, char* buf) {
  size_t length = 3 + rng.next_int(max_length - 3);
  for (size_t i = 0; i < length; ++i) {
    buf[i] = rng.next_int(13) == 0 ? special : static_cast<char>('a' + rng.next_int(26));
  }
  size_t begin = 0;
  while (begin < length && buf[begin] == ' ') ++begin;
  size_t end = length;
  while (end > begin && buf[end - 1] == ' ') --end;
  return std::string_view(buf + begin, end - begin);
}

}  // namespace sluice::nexmark
