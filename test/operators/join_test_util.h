// Helpers of the join tests: an Output that records what an operator emits, and random
// out-of-order streams whose disorder stays within a watermark bound.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "sluice/detail/operator.h"

namespace sluice::testing {

// Records the rows, times and watermarks an operator emits (for driving operators by hand).
template <typename T>
class CaptureOutput final : public detail::Output {
 public:
  void emit(detail::BatchBase& batch) override {
    auto& b = detail::batch_cast<T>(batch);
    rows.insert(rows.end(), b.rows.begin(), b.rows.end());
    times.insert(times.end(), b.times.begin(), b.times.end());
  }
  void emit_watermark(Timestamp w) override { watermarks.push_back(w); }
  void emit_idle(bool) override {}
  void emit_barrier(uint64_t) override {}
  void emit_end() override { ended = true; }

  std::vector<T> rows;
  std::vector<int64_t> times;
  std::vector<Timestamp> watermarks;
  bool ended = false;
};

// A keyed row with an event time and an id unique within its stream.
struct TimedEvent {
  uint64_t key = 0;
  int64_t time = 0;
  int64_t id = 0;
};

// `n` rows, `per_ms` per millisecond from `start`, each delayed by up to `max_delay` ms: every
// row's time is at least the highest time before it minus max_delay, so a watermark bound of
// max_delay makes nothing late.
inline std::vector<TimedEvent> out_of_order_events(size_t n, uint64_t keys, int64_t start,
                                                   int64_t per_ms, int64_t max_delay,
                                                   uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<TimedEvent> out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t base = start + static_cast<int64_t>(i) / per_ms;
    const int64_t delay = static_cast<int64_t>(rng() % static_cast<uint64_t>(max_delay + 1));
    out[i] = TimedEvent{rng() % keys, base + max_delay - delay, static_cast<int64_t>(i)};
  }
  return out;
}

// Runs one batch of `rows` (with times) through input `input` of `op`.
template <typename T>
void feed(detail::Operator& op, int input, const std::vector<T>& rows,
          const std::vector<int64_t>& times) {
  detail::Batch<T> b;
  b.rows.assign(rows.begin(), rows.end());
  b.times.assign(times.begin(), times.end());
  op.process(input, b);
}

}  // namespace sluice::testing
