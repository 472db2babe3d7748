// Processing time of an operator: wall-clock milliseconds since the epoch, derived from the
// monotonic clock the runtime schedules by (steady_clock µs, as runtime::monotonic_us) plus an
// offset fixed when the operator opens. Timers in processing time are therefore monotonic and
// map exactly onto the task's wake-up deadlines.
#pragma once

#include <chrono>
#include <cstdint>

#include "sluice/time.h"

namespace sluice::detail {

inline int64_t steady_now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

class ProcessingClock {
 public:
  void start() { offset_us_ = wall_clock_millis() * 1000 - steady_now_us(); }
  Timestamp now() const { return to_millis(steady_now_us()); }
  Timestamp to_millis(int64_t steady_us) const { return (steady_us + offset_us_) / 1000; }
  // The monotonic µs at which processing time reaches `t`.
  int64_t deadline_us(Timestamp t) const {
    if (t >= (INT64_MAX - offset_us_) / 1000) return INT64_MAX;
    return t * 1000 - offset_us_;
  }

 private:
  int64_t offset_us_ = 0;
};

}  // namespace sluice::detail
