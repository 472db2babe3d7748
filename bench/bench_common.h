// Pieces every benchmark program shares: the row mixer of the generated events, wall-clock timing
// and a sink that sums counts.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <utility>

#include "sluice/detail/key_groups.h"

namespace sluice::bench {

// Event fields are drawn from mix(i): the same bijective 64-bit mixer the engine hashes keys with.
inline uint64_t mix(uint64_t z) { return detail::mix64(z); }

inline double seconds_of(const std::function<void()>& fn) {
  auto start = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Sums the counts of (key, count) rows per subtask; adds them to `total` at the end.
struct CountSink {
  std::atomic<int64_t>* total;
  int64_t local = 0;
  void write(std::span<const std::pair<uint64_t, int64_t>> rows) {
    for (const auto& r : rows) local += r.second;
  }
  void finish() { total->fetch_add(local); }
};

}  // namespace sluice::bench
