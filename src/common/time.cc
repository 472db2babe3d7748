#include "sluice/time.h"

#include <chrono>
#include <ctime>

#include <fmt/format.h>

namespace sluice {

std::string format_timestamp(Timestamp ts) {
  int64_t secs = ts >= 0 ? ts / 1000 : (ts - 999) / 1000;
  int64_t millis = ts - secs * 1000;
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

Timestamp wall_clock_millis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace sluice
