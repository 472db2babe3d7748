#include "sluice/detail/csv_splitter.h"

#include <cstring>

#include <fmt/format.h>

namespace sluice::detail {

namespace {
constexpr char kQuote = '"';
}

Status CsvSplitter::split(std::string_view line, CsvRow& row) {
  row.clear();
  // Unescaped quoted fields are never longer than the line, so reserving its length up front keeps
  // the scratch buffer from moving (and invalidating earlier fields) while this line is split.
  scratch_.clear();
  if (scratch_.capacity() < line.size()) scratch_.reserve(line.size());

  size_t pos = 0;
  while (true) {
    if (pos < line.size() && line[pos] == kQuote) {
      SLUICE_RETURN_IF_ERROR(split_quoted(line, pos, row));
    } else {
      const char* start = line.data() + pos;
      const void* hit = std::memchr(start, delimiter_, line.size() - pos);
      size_t end =
          hit ? static_cast<size_t>(static_cast<const char*>(hit) - line.data()) : line.size();
      row.fields_.emplace_back(start, end - pos);
      pos = end;
    }
    // Here pos is at a delimiter or at the end of the line.
    if (pos >= line.size()) break;
    ++pos;  // a delimiter at the very end means one more, empty, field: the loop adds it.
  }
  return Status::ok();
}

// REQUIRES: line[pos] is the opening quote. Leaves pos at the delimiter or the end of the line.
Status CsvSplitter::split_quoted(std::string_view line, size_t& pos, CsvRow& row) {
  const size_t column = row.fields_.size() + 1;
  const size_t open = pos;
  size_t begin = open + 1;
  size_t scratch_begin = std::string::npos;  // set once a doubled quote forces a copy
  while (true) {
    size_t close = line.find(kQuote, begin);
    if (close == std::string_view::npos) {
      return Status::parse_error(fmt::format(
          "column {}: unterminated quoted field starting at character {}", column, open + 1));
    }
    bool doubled = close + 1 < line.size() && line[close + 1] == kQuote;
    if (doubled || scratch_begin != std::string::npos) {
      if (scratch_begin == std::string::npos) scratch_begin = scratch_.size();
      scratch_.append(line.data() + begin, close - begin);
    }
    if (doubled) {
      scratch_.push_back(kQuote);
      begin = close + 2;
      continue;
    }
    if (scratch_begin == std::string::npos) {
      row.fields_.emplace_back(line.data() + open + 1, close - open - 1);
    } else {
      row.fields_.emplace_back(scratch_.data() + scratch_begin, scratch_.size() - scratch_begin);
    }
    pos = close + 1;
    if (pos < line.size() && line[pos] != delimiter_) {
      return Status::parse_error(fmt::format(
          "column {}: expected '{}' or the end of the line after the closing quote at character "
          "{}, got '{}'",
          column, delimiter_, close + 1, line[pos]));
    }
    return Status::ok();
  }
}

}  // namespace sluice::detail
