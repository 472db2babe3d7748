#include "sluice/csv_row.h"

#include <charconv>
#include <system_error>

#include <fmt/format.h>

namespace sluice {

namespace {

// Longest field value quoted in an error message.
constexpr size_t kMaxQuotedValue = 40;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// from_chars does not accept a leading '+'.
std::string_view skip_plus(std::string_view s) {
  if (s.size() > 1 && s.front() == '+' && s[1] != '-' && s[1] != '+') s.remove_prefix(1);
  return s;
}

bool equals_ignore_case(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

}  // namespace

int64_t CsvRow::int64(size_t i) const {
  if (i >= fields_.size()) {
    record_out_of_range(i);
    return 0;
  }
  std::string_view s = skip_plus(trim(fields_[i]));
  int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  // On overflow `end` still points past the digits, so trailing junk is told apart from overflow.
  if (s.empty() || end != s.data() + s.size() || ec == std::errc::invalid_argument) {
    record_bad_value(i, "an integer");
    return 0;
  }
  if (ec == std::errc::result_out_of_range) {
    record_bad_value(i, "an integer that fits in 64 bits");
    return 0;
  }
  return value;
}

double CsvRow::float64(size_t i) const {
  if (i >= fields_.size()) {
    record_out_of_range(i);
    return 0;
  }
  std::string_view s = skip_plus(trim(fields_[i]));
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  // Out of range (1e999) is an error too: from_chars leaves `value` untouched then.
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    record_bad_value(i, "a number");
    return 0;
  }
  return value;
}

bool CsvRow::boolean(size_t i) const {
  if (i >= fields_.size()) {
    record_out_of_range(i);
    return false;
  }
  std::string_view s = trim(fields_[i]);
  if (s == "1" || equals_ignore_case(s, "true")) return true;
  if (s == "0" || equals_ignore_case(s, "false")) return false;
  record_bad_value(i, "a boolean (true, false, 1 or 0)");
  return false;
}

void CsvRow::record_out_of_range(size_t i) const {
  if (has_error_) return;
  has_error_ = true;
  error_ = fmt::format("column {} (index {}): missing, the record has {} column{}", i + 1, i,
                       fields_.size(), fields_.size() == 1 ? "" : "s");
}

void CsvRow::record_bad_value(size_t i, std::string_view expected) const {
  if (has_error_) return;
  has_error_ = true;
  std::string_view value = fields_[i];
  bool cut = value.size() > kMaxQuotedValue;
  if (cut) value = value.substr(0, kMaxQuotedValue);
  error_ = fmt::format("column {} (index {}): expected {}, got '{}{}'", i + 1, i, expected, value,
                       cut ? "..." : "");
}

}  // namespace sluice
