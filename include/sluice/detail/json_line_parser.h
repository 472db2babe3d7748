// JsonLineParser: parses one line of JSON-lines input into a JsonRow.
//
// Each line must hold one complete JSON object. The whole document is validated before the row is
// filled, so a malformed line is reported here, with simdjson's reason, and never reaches the
// user's parse function. The parser copies the line into a reused padded buffer (simdjson reads up
// to 64 bytes past the end of its input), and reuses its simdjson parser and buffers across lines,
// so parsing allocates nothing once they have grown to the longest line.
//
// Lifetime: a row filled by parse() is valid until the next parse() with this parser.
//
// Thread-safety: not thread-safe; one parser per worker.
#pragma once

#include <memory>
#include <string_view>

#include "sluice/json_row.h"
#include "sluice/status.h"

namespace sluice::detail {

class JsonLineParser {
 public:
  JsonLineParser();
  ~JsonLineParser();
  JsonLineParser(const JsonLineParser&) = delete;
  JsonLineParser& operator=(const JsonLineParser&) = delete;

  // Fills `row` with the object in `line` and clears its error. Returns a parse error when the line
  // is not valid JSON or its top-level value is not an object.
  Status parse(std::string_view line, JsonRow& row);

 private:
  struct State;  // simdjson parser and padded buffer
  std::unique_ptr<State> state_;
};

}  // namespace sluice::detail
