// Time in Sluice: event time and processing time are both milliseconds since the Unix epoch (UTC),
// held in a signed 64-bit integer. kMinTimestamp means "no watermark yet", kMaxTimestamp "the end
// of time", the watermark a bounded stream reaches when it ends.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

namespace sluice {

using Timestamp = int64_t;  // milliseconds since the epoch, UTC
using Duration = int64_t;   // milliseconds

inline constexpr Timestamp kMinTimestamp = std::numeric_limits<int64_t>::min();
inline constexpr Timestamp kMaxTimestamp = std::numeric_limits<int64_t>::max();

// Which clock a timer or trigger follows.
enum class TimeDomain : uint8_t { kEventTime = 0, kProcessingTime = 1 };

// "2026-01-01 00:00:00.000" (UTC).
std::string format_timestamp(Timestamp ts);

// Wall-clock now in milliseconds since the epoch.
Timestamp wall_clock_millis();

}  // namespace sluice
