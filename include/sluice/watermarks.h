// Watermark strategies: how each source partition turns its rows' times into watermarks, and when
// a quiet partition stops holding the job back.
//
// A watermark W on a stream promises that no more rows with time <= W follow; windows and
// event-time timers fire on it. `assign_timestamps(ts_fn, strategy)` runs one copy of the
// strategy's generator per subtask, that is per source partition:
//
//   stream.assign_timestamps([](const Reading& r) { return r.time; },
//                            sluice::bounded_out_of_orderness(5'000).with_idleness(30'000));
//
// The built-in generator, BoundedOutOfOrderness, trails the highest time seen by a bound
// (`assign_timestamps(ts_fn, bound)` is short for it). A user generator is any copyable type with
//
//   void on_event(const T& row, Timestamp time);       // every row; or, for punctuation:
//   Timestamp on_event(const T& row, Timestamp time);  //   a watermark the row vouches for,
//                                                      //   kMinTimestamp when it vouches none
//   Timestamp on_periodic();                           // optional: the watermark now
//
// on_event is inlined into the per-row loop (keep it to a few instructions: no allocation, no
// virtual call); on_periodic runs after every batch and, with with_periodic_interval(ms), on a
// processing-time timer while no rows come. Either way the watermark is emitted between batches,
// and only when it advances.
//
// Idleness: with_idleness(timeout) marks a partition idle once it has produced no row for `timeout`
// ms of processing time. Downstream operators leave idle inputs out of their watermark (the minimum
// over their inputs that are neither ended nor idle) and are idle themselves when every input is,
// so a quiet partition does not stall windows. Its next rows make it active again. A downstream
// watermark never goes back: until the resumed partition's watermark catches up, the merged one
// waits, and rows it sends that are older than what was already let through are late (see
// window.h for what late rows do). The end of a bounded partition advances its watermark to
// kMaxTimestamp, so every window fires, but not past an idle input that may still send rows.
#pragma once

#include <algorithm>
#include <concepts>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "sluice/time.h"

namespace sluice {

// Watermark = the highest time seen - max_out_of_orderness - 1 ms (so rows at the highest time
// are still on time).
class BoundedOutOfOrderness {
 public:
  explicit BoundedOutOfOrderness(Duration max_out_of_orderness) : bound_(max_out_of_orderness) {}
  template <typename T>
  void on_event(const T&, Timestamp time) {
    max_seen_ = std::max(max_seen_, time);
  }
  Timestamp on_periodic() const {
    return max_seen_ == kMinTimestamp ? kMinTimestamp : max_seen_ - bound_ - 1;
  }

 private:
  Duration bound_;
  Timestamp max_seen_ = kMinTimestamp;
};

// A watermark generator with the options that apply to any generator. Immutable; the with_*
// calls return a modified copy.
template <typename Generator>
class WatermarkStrategy {
 public:
  static_assert(std::copy_constructible<Generator> && std::is_move_assignable_v<Generator>,
                "WatermarkStrategy: the generator must be copyable (one copy per partition)");

  explicit WatermarkStrategy(Generator generator) : generator_(std::move(generator)) {}

  // A partition with no row for `timeout` ms of processing time turns idle (see above).
  WatermarkStrategy with_idleness(Duration timeout) const {
    WatermarkStrategy s = *this;
    s.idle_timeout_ = positive(timeout, "with_idleness: the idle timeout");
    return s;
  }
  // Also calls the generator's on_periodic every `interval` ms of processing time, rows or not.
  WatermarkStrategy with_periodic_interval(Duration interval) const {
    WatermarkStrategy s = *this;
    s.periodic_interval_ = positive(interval, "with_periodic_interval: the interval");
    return s;
  }

  const Generator& generator() const { return generator_; }
  Duration idle_timeout() const { return idle_timeout_; }            // 0: never idle
  Duration periodic_interval() const { return periodic_interval_; }  // 0: after batches only

 private:
  static Duration positive(Duration ms, const char* setting) {
    if (ms <= 0) {
      throw std::invalid_argument(std::string(setting) + " must be > 0 ms, not " +
                                  std::to_string(ms));
    }
    return ms;
  }

  Generator generator_;
  Duration idle_timeout_ = 0;
  Duration periodic_interval_ = 0;
};

// The built-in strategy: rows may arrive up to `max_out_of_orderness` ms out of order.
inline WatermarkStrategy<BoundedOutOfOrderness> bounded_out_of_orderness(
    Duration max_out_of_orderness) {
  if (max_out_of_orderness < 0) {
    throw std::invalid_argument(
        "bounded_out_of_orderness: max_out_of_orderness must be >= 0 ms, not " +
        std::to_string(max_out_of_orderness));
  }
  return WatermarkStrategy<BoundedOutOfOrderness>(BoundedOutOfOrderness(max_out_of_orderness));
}

// A strategy around a user generator (see the contract above).
template <typename Generator>
WatermarkStrategy<Generator> watermark_strategy(Generator generator) {
  return WatermarkStrategy<Generator>(std::move(generator));
}

namespace detail {

template <typename G, typename T>
concept HasOnEvent = requires(G& g, const T& row, Timestamp time) {
  g.on_event(row, time);
};

template <typename G, typename T>
concept PunctuatesOnEvent = requires(G& g, const T& row, Timestamp time) {
  { g.on_event(row, time) } -> std::convertible_to<Timestamp>;
};

template <typename G>
concept HasOnPeriodic = requires(G& g) {
  g.on_periodic();
};

// Readable compile errors for a generator used on rows of type T.
template <typename G, typename T>
constexpr bool check_watermark_generator() {
  static_assert(HasOnEvent<G, T>,
                "watermark generator: needs `void on_event(const T& row, Timestamp time)` (or one "
                "returning the Timestamp a row vouches for)");
  if constexpr (HasOnPeriodic<G>) {
    static_assert(std::is_convertible_v<decltype(std::declval<G&>().on_periodic()), Timestamp>,
                  "watermark generator: `on_periodic()` must return the watermark (Timestamp)");
  } else {
    static_assert(PunctuatesOnEvent<G, T>,
                  "watermark generator: define `Timestamp on_periodic()`, or make on_event return "
                  "the watermark a row vouches for; otherwise it never emits one");
  }
  return true;
}

}  // namespace detail
}  // namespace sluice
