#include "sluice/detail/json_line_parser.h"

#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "formats/json_row_impl.h"

namespace sluice::detail {

struct JsonLineParser::State {
  simdjson::dom::parser parser;
  // The current line followed by SIMDJSON_PADDING bytes; grows to the longest line, never shrinks.
  std::vector<char> padded;
};

JsonLineParser::JsonLineParser() : state_(std::make_unique<State>()) {}
JsonLineParser::~JsonLineParser() = default;

Status JsonLineParser::parse(std::string_view line, JsonRow& row) {
  row.has_error_ = false;
  row.impl_->filled = false;
  std::vector<char>& padded = state_->padded;
  if (padded.size() < line.size() + simdjson::SIMDJSON_PADDING) {
    padded.resize(line.size() + simdjson::SIMDJSON_PADDING);
  }
  std::memcpy(padded.data(), line.data(), line.size());
  std::memset(padded.data() + line.size(), 0, simdjson::SIMDJSON_PADDING);

  simdjson::dom::element root;
  simdjson::error_code error =
      state_->parser.parse(padded.data(), line.size(), /*realloc_if_needed=*/false).get(root);
  if (error != simdjson::SUCCESS) {
    return Status::parse_error(fmt::format("malformed JSON: {}", simdjson::error_message(error)));
  }
  if (root.get(row.impl_->object) != simdjson::SUCCESS) {
    return Status::parse_error(fmt::format("expected a JSON object, got {}",
                                           root.is_array() ? "an array" : "a scalar value"));
  }
  row.impl_->filled = true;
  return Status::ok();
}

}  // namespace sluice::detail
