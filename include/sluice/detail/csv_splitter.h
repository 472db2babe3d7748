// CsvSplitter: splits one CSV line into the fields of a CsvRow.
//
// Follows RFC 4180 within a line: a field that starts with a quote runs to the matching closing
// quote, may contain the delimiter, and writes a quote as two quotes (""). A quote inside an
// unquoted field is an ordinary character. A quoted field must be followed by the delimiter or the
// end of the line. Records spanning several lines (a newline inside quotes) are not supported: the
// line reader has already cut them, and they are reported as an unterminated quote.
//
// Fields are views into the line, except quoted fields containing doubled quotes, which are
// unescaped into a scratch buffer owned by the splitter. The row and the buffer keep their
// capacity, so splitting allocates nothing once they have grown to the longest line.
//
// Lifetime: the row's fields are valid until the next split() with this splitter or row, and while
// the line's bytes are unchanged.
//
// Thread-safety: not thread-safe; one splitter per worker.
#pragma once

#include <string>
#include <string_view>

#include "sluice/csv_row.h"
#include "sluice/status.h"

namespace sluice::detail {

class CsvSplitter {
 public:
  explicit CsvSplitter(char delimiter = ',') : delimiter_(delimiter) {}

  char delimiter() const { return delimiter_; }

  // Fills `row` with the fields of `line` (without its line terminator) and clears its error.
  // An empty line is one empty field. Returns a parse error naming the column on an unterminated
  // quote or on characters after a closing quote; the row's contents are then unspecified.
  Status split(std::string_view line, CsvRow& row);

 private:
  Status split_quoted(std::string_view line, size_t& pos, CsvRow& row);

  char delimiter_;
  std::string scratch_;
};

}  // namespace sluice::detail
