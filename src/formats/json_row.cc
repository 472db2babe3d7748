#include "sluice/json_row.h"

#include <fmt/format.h>

#include "formats/json_row_impl.h"

namespace sluice {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

const char* type_name(element_type type) {
  switch (type) {
    case element_type::ARRAY:
      return "array";
    case element_type::OBJECT:
      return "object";
    case element_type::INT64:
    case element_type::UINT64:
      return "integer";
    case element_type::DOUBLE:
      return "number";
    case element_type::STRING:
      return "string";
    case element_type::BOOL:
      return "boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "unknown";
}

// Looks `field` up: a top-level key, or a JSON Pointer when it starts with '/'.
simdjson::simdjson_result<element> lookup(const simdjson::dom::object& object, bool filled,
                                          std::string_view field) {
  if (!filled) return simdjson::NO_SUCH_FIELD;
  if (!field.empty() && field.front() == '/') return object.at_pointer(field);
  return object.at_key(field);
}

}  // namespace

JsonRow::JsonRow() : impl_(std::make_unique<Impl>()) {}
JsonRow::~JsonRow() = default;
JsonRow::JsonRow(JsonRow&&) noexcept = default;
JsonRow& JsonRow::operator=(JsonRow&&) noexcept = default;

int64_t JsonRow::int64(std::string_view field) const {
  element value;
  if (lookup(impl_->object, impl_->filled, field).get(value) != simdjson::SUCCESS) {
    record_error(field, "missing");
    return 0;
  }
  switch (value.type()) {
    case element_type::INT64:
      return value.get_int64().value_unsafe();
    case element_type::UINT64:
      record_error(field, fmt::format("expected an integer that fits in 64 bits, got {}",
                                      value.get_uint64().value_unsafe()));
      return 0;
    default:
      record_error(field, fmt::format("expected an integer, got {}", type_name(value.type())));
      return 0;
  }
}

double JsonRow::float64(std::string_view field) const {
  element value;
  if (lookup(impl_->object, impl_->filled, field).get(value) != simdjson::SUCCESS) {
    record_error(field, "missing");
    return 0;
  }
  switch (value.type()) {
    case element_type::DOUBLE:
      return value.get_double().value_unsafe();
    case element_type::INT64:
      return static_cast<double>(value.get_int64().value_unsafe());
    case element_type::UINT64:
      return static_cast<double>(value.get_uint64().value_unsafe());
    default:
      record_error(field, fmt::format("expected a number, got {}", type_name(value.type())));
      return 0;
  }
}

bool JsonRow::boolean(std::string_view field) const {
  element value;
  if (lookup(impl_->object, impl_->filled, field).get(value) != simdjson::SUCCESS) {
    record_error(field, "missing");
    return false;
  }
  if (value.type() == element_type::BOOL) return value.get_bool().value_unsafe();
  record_error(field, fmt::format("expected a boolean, got {}", type_name(value.type())));
  return false;
}

std::string_view JsonRow::str(std::string_view field) const {
  element value;
  if (lookup(impl_->object, impl_->filled, field).get(value) != simdjson::SUCCESS) {
    record_error(field, "missing");
    return {};
  }
  if (value.type() == element_type::STRING) return value.get_string().value_unsafe();
  record_error(field, fmt::format("expected a string, got {}", type_name(value.type())));
  return {};
}

bool JsonRow::has(std::string_view field) const {
  element value;
  return lookup(impl_->object, impl_->filled, field).get(value) == simdjson::SUCCESS;
}

bool JsonRow::is_null(std::string_view field) const {
  element value;
  return lookup(impl_->object, impl_->filled, field).get(value) == simdjson::SUCCESS &&
         value.is_null();
}

void JsonRow::record_error(std::string_view field, std::string_view what) const {
  if (has_error_) return;
  has_error_ = true;
  error_ = fmt::format("field '{}': {}", field, what);
}

}  // namespace sluice
