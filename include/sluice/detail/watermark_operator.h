// WatermarkOperator: assigns event times and generates one source partition's watermarks and
// idleness (see sluice/watermarks.h for the strategy's contract).
//
// Per row: the user's timestamp function and the generator's on_event, both inlined. Per batch:
// the watermark the generator vouches for, emitted when it advances, and with idleness one read of
// the monotonic clock. Idleness and the periodic call run on the operator's processing-time timer,
// which the task drives between batches (the task's now_us and steady_now_us are one clock).
//
// Thread-safety: one task drives an instance.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>

#include "sluice/detail/operator.h"
#include "sluice/detail/processing_clock.h"
#include "sluice/watermarks.h"

namespace sluice::detail {

template <typename T, typename TsFn, typename Gen>
class WatermarkOperator final : public Operator {
  static constexpr bool kPunctuated = PunctuatesOnEvent<Gen, T>;
  static constexpr bool kPeriodic = HasOnPeriodic<Gen>;

 public:
  WatermarkOperator(TsFn ts_fn, const WatermarkStrategy<Gen>& strategy)
      : ts_fn_(std::move(ts_fn)),
        gen_(strategy.generator()),
        idle_timeout_us_(strategy.idle_timeout() * 1000),
        periodic_us_(strategy.periodic_interval() * 1000) {}

  void open() override {
    const int64_t now = steady_now_us();
    last_row_us_ = now;  // a partition that never produces a row turns idle after the timeout
    if (periodic_us_ > 0) next_periodic_us_ = now + periodic_us_;
  }

  void process(int, BatchBase& batch) override {
    if (idle_timeout_us_ > 0) last_row_us_ = steady_now_us();
    if (idle_) {  // active again before the rows go out
      idle_ = false;
      out_->emit_idle(false);
    }
    auto& b = batch_cast<T>(batch);
    const size_t n = b.rows.size();
    b.times.resize(n);
    // A local generator stays in registers: the stores to `times` cannot alias it.
    Gen gen = std::move(gen_);
    Timestamp vouched = kMinTimestamp;
    for (size_t i = 0; i < n; ++i) {
      const T& row = b.rows[i];
      const Timestamp t = ts_fn_(row);
      b.times[i] = t;
      if constexpr (kPunctuated) {
        vouched = std::max(vouched, static_cast<Timestamp>(gen.on_event(row, t)));
      } else {
        gen.on_event(row, t);
      }
    }
    gen_ = std::move(gen);
    out_->emit(batch);
    advance(vouched);
  }

  // Upstream watermarks are replaced by the ones this operator generates; upstream idleness (a
  // source that owns no data) makes this partition idle at once.
  void on_watermark(Timestamp) override {}
  void on_idle(bool idle) override {
    if (idle) go_idle();
  }

  int64_t next_timer_us() const override {
    int64_t due = next_periodic_us_;
    if (idle_timeout_us_ > 0 && !idle_) due = std::min(due, last_row_us_ + idle_timeout_us_);
    return due;
  }
  void on_processing_time(int64_t now_us) override {
    if (now_us >= next_periodic_us_) {
      next_periodic_us_ = now_us + periodic_us_;
      advance(kMinTimestamp);
    }
    if (idle_timeout_us_ > 0 && now_us >= last_row_us_ + idle_timeout_us_) go_idle();
  }

  // The end closes every window. An idle partition stays idle to the end: turning it active
  // first would let its kMaxTimestamp pass other idle inputs downstream.
  void on_end() override {
    out_->emit_watermark(kMaxTimestamp);
    out_->emit_end();
  }

 private:
  // Emits the generator's watermark if it advanced; while idle it waits for the next rows.
  void advance(Timestamp vouched) {
    Timestamp w = vouched;
    if constexpr (kPeriodic) w = std::max(w, static_cast<Timestamp>(gen_.on_periodic()));
    if (idle_ || w <= emitted_) return;
    emitted_ = w;
    out_->emit_watermark(w);
  }
  void go_idle() {
    if (idle_) return;
    idle_ = true;
    out_->emit_idle(true);
  }

  TsFn ts_fn_;
  Gen gen_;
  const int64_t idle_timeout_us_;  // 0: never idle
  const int64_t periodic_us_;      // 0: on_periodic after batches only
  Timestamp emitted_ = kMinTimestamp;
  bool idle_ = false;
  int64_t last_row_us_ = 0;               // monotonic µs of the last batch (with idleness)
  int64_t next_periodic_us_ = INT64_MAX;  // INT64_MAX: no periodic timer
};

}  // namespace sluice::detail
