// CsvRow: typed access to one CSV record, for user parse functions.
//
// A CSV source splits each line into fields and hands the user's parse function a `const CsvRow&`:
//
//   [](const sluice::CsvRow& r) { return Trade{r.int64(0), std::string(r.str(1)), r.float64(2)}; }
//
// Accessors never throw. One that fails (index out of range, a field that is not a number, trailing
// junk after a number) returns a zero value and records the record's FIRST error, which the source
// reads through error() after the parse function returns and turns into a dead letter or a job
// failure. Column numbers in messages are 1-based, with the 0-based index beside them:
// "column 3 (index 2): expected an integer, got 'abc'".
//
// Numeric and boolean accessors ignore spaces and tabs around the value; str() returns the field
// exactly as written (quotes removed, doubled quotes unescaped).
//
// Lifetime: fields are views into the line or into the splitter's scratch buffer; they stay valid
// until the next record is split into this row. Copy a string out (std::string(r.str(1))) to keep
// it.
//
// Thread-safety: not thread-safe (accessors record errors in the row); one row per worker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice {

namespace detail {
class CsvSplitter;
}

class CsvRow {
 public:
  CsvRow() = default;
  // A row over the given fields, e.g. to unit-test a parse function. The views must outlive the
  // row.
  explicit CsvRow(std::vector<std::string_view> fields) : fields_(std::move(fields)) {}

  size_t size() const { return fields_.size(); }

  // The field as written; "" (and an error) when `i` is out of range.
  std::string_view str(size_t i) const {
    if (i < fields_.size()) return fields_[i];
    record_out_of_range(i);
    return {};
  }
  // A decimal integer with an optional sign, fitting in 64 bits.
  int64_t int64(size_t i) const;
  // A decimal or scientific floating-point number; also "inf" and "nan".
  double float64(size_t i) const;
  // "true"/"false" (any case) or "1"/"0".
  bool boolean(size_t i) const;

  // The first error an accessor recorded since the record was split, or nullptr when none.
  const std::string* error() const { return has_error_ ? &error_ : nullptr; }

  // Forgets the fields and the error, keeping the capacity for the next record.
  void clear() {
    fields_.clear();
    has_error_ = false;
  }

 private:
  friend class detail::CsvSplitter;

  void record_out_of_range(size_t i) const;
  void record_bad_value(size_t i, std::string_view expected) const;

  std::vector<std::string_view> fields_;
  // Mutable: accessors are const for the user but remember the first failure.
  mutable std::string error_;
  mutable bool has_error_ = false;
};

}  // namespace sluice
