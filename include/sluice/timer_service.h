// TimerService: per-key timers of a keyed process function, reached through `ctx.timers()`.
//
// A timer belongs to the current key and a time; registering the same (key, time) twice keeps one
// timer. Event-time timers fire once the operator's watermark reaches their time (end of a
// bounded input fires all of them); processing-time timers once the wall clock does, even when no
// row arrives. They fire in time order, between batches, through the function's on_timer().
// Processing-time timers still pending when a bounded input ends do not fire.
//
// Thread-safety: used from the operator's calls only.
#pragma once

#include <stdexcept>

#include "sluice/detail/keyed_timers.h"
#include "sluice/detail/processing_clock.h"
#include "sluice/detail/state_table.h"

namespace sluice {

class TimerService {
 public:
  TimerService(detail::KeyedTimers* timers, const detail::StateScope* scope,
               const Timestamp* watermark, const detail::ProcessingClock* clock, bool enabled)
      : timers_(timers), scope_(scope), watermark_(watermark), clock_(clock), enabled_(enabled) {}

  // A timer at or before the current watermark fires with the next watermark.
  void register_event_time(Timestamp t) {
    check();
    timers_->add(TimeDomain::kEventTime, t, scope_->slot);
  }
  void register_processing_time(Timestamp t) {
    check();
    timers_->add(TimeDomain::kProcessingTime, t, scope_->slot);
  }
  void delete_event_time(Timestamp t) { timers_->remove(TimeDomain::kEventTime, t, scope_->slot); }
  void delete_processing_time(Timestamp t) {
    timers_->remove(TimeDomain::kProcessingTime, t, scope_->slot);
  }
  Timestamp current_watermark() const { return *watermark_; }
  Timestamp current_processing_time() const { return clock_->now(); }

 private:
  void check() const {
    if (!enabled_) [[unlikely]] {
      throw std::logic_error("a timer was registered by a process function without on_timer()");
    }
  }

  detail::KeyedTimers* timers_;
  const detail::StateScope* scope_;
  const Timestamp* watermark_;
  const detail::ProcessingClock* clock_;
  bool enabled_;
};

}  // namespace sluice
