// The simdjson side of JsonRow, shared by json_row.cc and json_line_parser.cc only, so that the
// public header needs no simdjson include.
#pragma once

#include <simdjson.h>

#include "sluice/json_row.h"

namespace sluice {

struct JsonRow::Impl {
  // Points into the tape of the JsonLineParser that filled the row; empty before the first parse.
  simdjson::dom::object object;
  bool filled = false;
};

}  // namespace sluice
