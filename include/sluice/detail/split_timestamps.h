// SplitTimestamps: the event times and watermarks of a split source, one generator per split.
//
// `assign_timestamps(ts_fn, strategy)` called directly on a split source (split_source.h) hands
// the function and the strategy to the source instead of chaining a WatermarkOperator after it:
// the source then keeps one copy of the strategy's generator per split it reads, stamps each
// split's rows with `ts_fn` as it reads them, and emits the minimum of its active splits'
// watermarks (see SplitSourceBase). A subtask reading two files or two partitions whose event
// times are far apart therefore holds its watermark at the slower split's, and that split's rows
// are not late.
//
// SplitTimestamps is the type-erased face the source sees, called once per split and batch;
// SplitTimestampsFor<T, TsFn, Gen> runs the per-row loop with the user's function and the
// generator inlined, like WatermarkOperator's.
//
// Thread-safety: one instance per source subtask, used on its task's thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "sluice/detail/batch.h"
#include "sluice/watermarks.h"

namespace sluice::detail {

class SplitTimestamps {
 public:
  SplitTimestamps(Duration idle_timeout, Duration periodic_interval)
      : idle_timeout_us_(idle_timeout * 1000), periodic_us_(periodic_interval * 1000) {}
  virtual ~SplitTimestamps() = default;

  // A fresh generator in `slot` (a split's; slots are reused once a split has gone).
  virtual void reset(size_t slot) = 0;
  // Sets the times of rows [begin, end) of `batch` with the timestamp function, runs the
  // generator of `slot` on them, and returns the watermark it vouches for now.
  virtual Timestamp stamp(size_t slot, BatchBase& batch, size_t begin, size_t end) = 0;
  // The watermark the generator of `slot` vouches for without new rows (its on_periodic).
  virtual Timestamp current(size_t slot) = 0;

  int64_t idle_timeout_us() const { return idle_timeout_us_; }  // 0: never idle
  int64_t periodic_us() const { return periodic_us_; }          // 0: after rows only

 private:
  const int64_t idle_timeout_us_;
  const int64_t periodic_us_;
};

template <typename T, typename TsFn, typename Gen>
class SplitTimestampsFor final : public SplitTimestamps {
  static constexpr bool kPunctuated = PunctuatesOnEvent<Gen, T>;
  static constexpr bool kPeriodic = HasOnPeriodic<Gen>;

 public:
  SplitTimestampsFor(TsFn ts_fn, const WatermarkStrategy<Gen>& strategy)
      : SplitTimestamps(strategy.idle_timeout(), strategy.periodic_interval()),
        ts_fn_(std::move(ts_fn)),
        prototype_(strategy.generator()) {}

  void reset(size_t slot) override {
    if (gens_.size() <= slot) gens_.resize(slot + 1, prototype_);
    gens_[slot] = prototype_;
  }

  Timestamp stamp(size_t slot, BatchBase& batch, size_t begin, size_t end) override {
    auto& b = batch_cast<T>(batch);
    b.times.resize(end);
    // A local generator stays in registers: the stores to `times` cannot alias it.
    Gen gen = std::move(gens_[slot]);
    Timestamp vouched = kMinTimestamp;
    for (size_t i = begin; i < end; ++i) {
      const T& row = b.rows[i];
      const Timestamp t = ts_fn_(row);
      b.times[i] = t;
      if constexpr (kPunctuated) {
        vouched = std::max(vouched, static_cast<Timestamp>(gen.on_event(row, t)));
      } else {
        gen.on_event(row, t);
      }
    }
    gens_[slot] = std::move(gen);
    return std::max(vouched, current(slot));
  }

  Timestamp current(size_t slot) override {
    if constexpr (kPeriodic) {
      return static_cast<Timestamp>(gens_[slot].on_periodic());
    } else {
      (void)slot;
      return kMinTimestamp;
    }
  }

 private:
  TsFn ts_fn_;
  Gen prototype_;
  std::vector<Gen> gens_;  // by slot
};

}  // namespace sluice::detail
