// Pieces every benchmark program shares: the row mixer of the generated events, wall-clock timing
// and a sink that sums counts.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <span>
#include <string>
#include <utility>

#include "sluice/detail/key_groups.h"
#include "sluice/sluice.h"

namespace sluice::bench {

// Event fields are drawn from mix(i): the same bijective 64-bit mixer the engine hashes keys with.
inline uint64_t mix(uint64_t z) { return detail::mix64(z); }

inline double seconds_of(const std::function<void()>& fn) {
  auto start = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Three fields (key, event time, value) at 1M events per event-second: timestamp(i) = i / 1000 ms.
struct KeyedEvent {
  uint64_t key;
  int64_t time;
  int64_t value;
};

// Uniform keys; `epoch_keys` > 0 instead rotates the active key set every 5 event-seconds (so
// that sessions end).
struct MakeKeyedEvent {
  uint64_t keys;
  uint64_t epoch_keys = 0;
  KeyedEvent operator()(uint64_t i) const {
    const uint64_t h = mix(i);
    const uint64_t key =
        epoch_keys == 0 ? h % keys : h % epoch_keys + epoch_keys * ((i / 5'000'000) % 10);
    return KeyedEvent{key, static_cast<int64_t>(i / 1000), static_cast<int64_t>(h >> 44)};
  }
};

// Sums the counts of (key, count) rows per subtask; adds them to `total` at the end.
struct CountSink {
  std::atomic<int64_t>* total;
  int64_t local = 0;
  void write(std::span<const std::pair<uint64_t, int64_t>> rows) {
    for (const auto& r : rows) local += r.second;
  }
  void finish() { total->fetch_add(local); }
};

// Measures one workload the way every benchmark table reports it: the hand-written loop and the
// engine at parallelism 1..max_parallelism (two worker threads), best of `repetitions` each, the
// engine's checksum compared with the loop's; prints one row per parallelism. `build` adds the
// pipeline to an environment, its sink adding its checksum to the given total. Returns the number
// of failed runs.
template <typename Checksum>
int measure_workload(const std::string& name, uint64_t events, int repetitions, int max_parallelism,
                     const std::function<Checksum()>& hand_loop,
                     const std::function<void(Environment&, std::atomic<Checksum>*)>& build) {
  int failures = 0;
  Checksum expected{};
  double hand = 1e30;
  for (int r = 0; r < repetitions; ++r) {
    hand = std::min(hand, seconds_of([&] { expected = hand_loop(); }));
  }
  const double hand_rate = static_cast<double>(events) / hand;
  double p1_rate = 0;
  for (int par = 1; par <= max_parallelism; ++par) {
    double best = 1e30;
    for (int r = 0; r < repetitions; ++r) {
      JobOptions options;
      options.parallelism = par;
      options.workers = 2;
      Environment env(options);
      std::atomic<Checksum> total{};
      build(env, &total);
      Status s;
      best = std::min(best, seconds_of([&] { s = env.execute(name); }));
      if (!s.is_ok() || total.load() != expected) {
        std::printf("%s p=%d: FAILED (%s, checksum %lld vs %lld)\n", name.c_str(), par,
                    s.to_string().c_str(), static_cast<long long>(total.load()),
                    static_cast<long long>(expected));
        ++failures;
      }
    }
    const double rate = static_cast<double>(events) / best;
    if (par == 1) p1_rate = rate;
    std::printf("%-30s %4d %12llu %11.1fM %11.1fM %7.2f", name.c_str(), par,
                static_cast<unsigned long long>(events), rate / 1e6, hand_rate / 1e6,
                rate / hand_rate);
    if (par > 1) std::printf("   (p%d/p1 %.2f)", par, rate / p1_rate);
    std::printf("\n");
  }
  return failures;
}

}  // namespace sluice::bench
