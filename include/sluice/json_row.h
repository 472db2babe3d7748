// JsonRow: typed access to one JSON object (one line of a JSON-lines input), for user parse
// functions.
//
//   [](const sluice::JsonRow& r) {
//     return Trade{r.int64("id"), std::string(r.str("symbol")), r.float64("price")};
//   }
//
// Fields are looked up by name among the top-level members; a name that starts with '/' is a JSON
// Pointer (RFC 6901) into nested values instead ("/user/id"). Members the parse function does not
// ask for, nested or not, cost nothing beyond the parse.
//
// Accessors never throw. One that fails returns a zero value and records the record's FIRST error,
// which the source reads through error() after the parse function returns:
// "field 'price': missing", "field 'price': expected a number, got string".
// Types are strict: int64() wants a JSON integer that fits in 64 bits (12.0 and "12" are errors),
// float64() takes any JSON number, boolean() true or false, str() a string. Null is a type like the
// others: test it with is_null() first when a field is nullable.
//
// Lifetime: the row and the views str() returns are valid until the parser that filled the row
// parses the next line.
//
// Thread-safety: not thread-safe (accessors record errors in the row); one row per worker.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace sluice {

namespace detail {
class JsonLineParser;
}

class JsonRow {
 public:
  JsonRow();
  ~JsonRow();
  // A moved-from row may only be assigned to or destroyed.
  JsonRow(JsonRow&&) noexcept;
  JsonRow& operator=(JsonRow&&) noexcept;

  int64_t int64(std::string_view field) const;
  double float64(std::string_view field) const;
  bool boolean(std::string_view field) const;
  std::string_view str(std::string_view field) const;

  // True when the field is present, null or not. Never records an error.
  bool has(std::string_view field) const;
  // True when the field is present and null; false when missing. Never records an error.
  bool is_null(std::string_view field) const;

  // The first error an accessor recorded since the row was filled, or nullptr when none.
  const std::string* error() const { return has_error_ ? &error_ : nullptr; }

 private:
  friend class detail::JsonLineParser;
  struct Impl;  // holds the parsed simdjson object; see src/formats/json_row_impl.h

  void record_error(std::string_view field, std::string_view what) const;

  std::unique_ptr<Impl> impl_;
  mutable std::string error_;
  mutable bool has_error_ = false;
};

}  // namespace sluice
