// append_timestamp; declared in sluice/detail/row_encoder.h.
#include <cstdint>
#include <string>

#include "sluice/detail/row_encoder.h"

namespace sluice::detail {

namespace {

// Appends `value` as exactly `width` decimal digits. REQUIRES: 0 <= value < 10^width.
void append_digits(char*& p, int64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  p += width;
}

}  // namespace

void append_timestamp(std::string& out, Timestamp millis) {
  // Floor division, so times before the epoch count down from the previous second and day.
  int64_t days = millis >= 0 ? millis / 86'400'000 : (millis - 86'399'999) / 86'400'000;
  int64_t ms_of_day = millis - days * 86'400'000;
  // Civil date from days since 1970-01-01 (Howard Hinnant's days_from_civil, inverted).
  days += 719'468;
  const int64_t era = (days >= 0 ? days : days - 146'096) / 146'097;
  const int64_t doe = days - era * 146'097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) {  // outside what four digits show: the plain number of ms
    append_integer(out, millis);
    return;
  }
  char buf[23];
  char* p = buf;
  append_digits(p, year, 4);
  *p++ = '-';
  append_digits(p, month, 2);
  *p++ = '-';
  append_digits(p, day, 2);
  *p++ = ' ';
  append_digits(p, ms_of_day / 3'600'000, 2);
  *p++ = ':';
  append_digits(p, ms_of_day / 60'000 % 60, 2);
  *p++ = ':';
  append_digits(p, ms_of_day / 1000 % 60, 2);
  *p++ = '.';
  append_digits(p, ms_of_day % 1000, 3);
  out.append(buf, sizeof(buf));
}

}  // namespace sluice::detail
