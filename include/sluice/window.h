// Windows: grouping an unbounded keyed stream into finite pieces of event time.
//
//   env.generate(...)
//      .assign_timestamps([](const Reading& r) { return r.time; }, 5'000)
//      .key_by([](const Reading& r) { return r.sensor; })
//      .window(sluice::Tumbling{60'000})
//      .allowed_lateness(10'000)
//      .avg([](const Reading& r) { return r.celsius; })   // WindowResult<uint64_t, double>
//      .sink(...);
//
// A window is an assigner (which windows a row belongs to), a trigger (when a window emits) and a
// window function (what it emits), as in Flink's WindowOperator:
//
// - Assigners. Time windows are half-open [start, end) and aligned to the epoch: Tumbling{size}
//   puts the row at time t into [t - t mod size, ... + size); Hopping{size, slide} into the
//   size/slide windows whose start is a multiple of `slide` and which contain t; Session{gap}
//   gives each key windows [first row, last row + gap) that grow while rows come less than `gap`
//   ms apart, and merge when a row bridges two of them; GlobalCount{n} groups each key's rows n
//   at a time, in arrival order, with no notion of time.
// - Triggers. Event time (the default): window [s, e) fires once the watermark is >= e - 1, i.e.
//   when no row earlier than e is expected any more (Flink's rule). ProcessingTime: rows belong
//   to the windows of the operator's wall clock when they arrive, and a window fires when that
//   clock reaches its end; the clock is read once per batch and on every watermark, so an idle
//   input delays firing until its next batch or watermark (the end of a bounded input fires
//   everything). CountTrigger{n}: in addition to the final result, an early result every n rows
//   of a (key, window) (tumbling and session windows). EarlyFiring{every}: in addition to the
//   final result, every `every` ms of event time (each time the watermark crosses a multiple of
//   `every`) or of processing time (checked per batch and watermark), the current value of every
//   open (key, window) is emitted as an early result.
// - Lateness. A row whose windows have all fired but which is within allowed_lateness of their end
//   (watermark < end - 1 + lateness) updates its window, and the new value is emitted at once as
//   a late result (Firing::kLate) that supersedes the earlier one. A row later than that is
//   "late": it goes to the late side output (WindowedResult::late()) when one is attached,
//   otherwise it is counted in WindowStats::late_dropped; never lost without a trace. A window's
//   state is purged once the watermark passes end - 1 + lateness.
//
// Results carry the window end - 1 as their event time, so windows can be chained.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <ostream>

#include "sluice/time.h"

namespace sluice {

// ---- assigners ----
struct Tumbling {
  Duration size;
};
struct Hopping {
  Duration size;
  Duration slide;
};
struct Session {
  Duration gap;
};
struct GlobalCount {
  int64_t count;
};

// ---- triggers ----
struct EventTimeTrigger {};
// `clock` is read once per batch and per watermark; tests pass a fake one.
struct ProcessingTimeTrigger {
  Timestamp (*clock)() = &wall_clock_millis;
};
struct CountTrigger {
  int64_t count;
};
struct EarlyFiring {
  Duration every;
  TimeDomain domain = TimeDomain::kEventTime;
  Timestamp (*clock)() = &wall_clock_millis;  // for TimeDomain::kProcessingTime
};

// A window: [start, end). For GlobalCount windows, [first row time, last row time + 1).
struct Window {
  Timestamp start = 0;
  Timestamp end = 0;
  bool operator==(const Window&) const = default;
  auto operator<=>(const Window&) const = default;
};

// Why a result was emitted. A later result for the same (key, window) supersedes earlier ones.
enum class Firing : uint8_t {
  kEarly,   // before the window closed (EarlyFiring, CountTrigger)
  kOnTime,  // the window closed (watermark, processing time, count reached, end of input)
  kLate,    // a late row within the allowed lateness changed a closed window
};

template <typename Key, typename Value>
struct WindowResult {
  Key key{};
  Timestamp window_start = 0;
  Timestamp window_end = 0;
  Value value{};
  Firing firing = Firing::kOnTime;

  // True when this result replaces an earlier one of the same (key, window).
  bool is_update() const { return firing == Firing::kLate; }
  bool is_final() const { return firing != Firing::kEarly; }
  bool operator==(const WindowResult&) const = default;
  auto operator<=>(const WindowResult&) const = default;
};

template <typename Key, typename Value>
std::ostream& operator<<(std::ostream& os, const WindowResult<Key, Value>& r) {
  static constexpr const char* kFiring[] = {"early", "on-time", "late"};
  return os << "{" << r.key << " [" << r.window_start << ", " << r.window_end << ") " << r.value
            << " " << kFiring[static_cast<int>(r.firing)] << "}";
}

// Mean of a field; `count == 0` yields 0.
struct Average {
  double sum = 0;
  int64_t count = 0;
  double value() const { return count == 0 ? 0.0 : sum / static_cast<double>(count); }
};

// Figures of one window operator (all subtasks together).
struct WindowCounters {
  uint64_t rows = 0;                 // rows in
  uint64_t late_dropped = 0;         // too late, no side output attached: counted, dropped
  uint64_t late_to_side_output = 0;  // too late, sent to late()
  uint64_t late_updates = 0;         // late rows within the allowed lateness
  uint64_t results_on_time = 0;
  uint64_t results_early = 0;
  uint64_t results_late = 0;
  uint64_t state_entries = 0;  // live (key, window or pane) entries when last published
  uint64_t state_bytes = 0;    // bytes of those entries' tables when last published

  WindowCounters& operator+=(const WindowCounters& o) {
    rows += o.rows;
    late_dropped += o.late_dropped;
    late_to_side_output += o.late_to_side_output;
    late_updates += o.late_updates;
    results_on_time += o.results_on_time;
    results_early += o.results_early;
    results_late += o.results_late;
    state_entries += o.state_entries;
    state_bytes += o.state_bytes;
    return *this;
  }
};

// Shared between the subtasks of one window operator and whoever reads the figures.
// Each subtask registers a slot when it opens and publishes its counters into it once per batch
// and per watermark (relaxed atomic stores, never per row).
//
// Thread-safety: totals() may be called from any thread at any time.
class WindowStats {
 public:
  class Slot {
   public:
    void publish(const WindowCounters& c) {
      uint64_t v[kFields];
      std::memcpy(v, &c, sizeof(v));
      for (size_t i = 0; i < kFields; ++i) fields_[i].store(v[i], std::memory_order_relaxed);
    }
    WindowCounters load() const {
      uint64_t v[kFields];
      for (size_t i = 0; i < kFields; ++i) v[i] = fields_[i].load(std::memory_order_relaxed);
      WindowCounters c;
      std::memcpy(&c, v, sizeof(v));
      return c;
    }

   private:
    static constexpr size_t kFields = sizeof(WindowCounters) / sizeof(uint64_t);
    static_assert(sizeof(WindowCounters) == kFields * sizeof(uint64_t));
    std::atomic<uint64_t> fields_[kFields] = {};
  };

  Slot* register_subtask() {
    std::lock_guard<std::mutex> lock(mutex_);
    return &slots_.emplace_back();
  }
  WindowCounters totals() const {
    std::lock_guard<std::mutex> lock(mutex_);
    WindowCounters total;
    for (const Slot& s : slots_) total += s.load();
    return total;
  }

 private:
  mutable std::mutex mutex_;
  std::deque<Slot> slots_;  // deque: slots never move
};

}  // namespace sluice
