// Fields: how a row type describes itself to the sinks that print or write it.
//
// A sink that writes text (stdout, CSV, JSON lines) needs the names and values of a row's fields.
// A struct describes them once, with a function found by argument-dependent lookup (declare it in
// the struct's namespace, or as a hidden friend):
//
//   struct KeyCount {
//     uint64_t key;
//     int64_t count;
//     Timestamp last_seen;
//   };
//   template <typename W>
//   void sluice_fields(const KeyCount& v, W& w) {
//     w("key", v.key);
//     w("count", v.count);
//     w("last_seen", sluice::as_time(v.last_seen));  // "2026-01-01 00:00:00.000"
//   }
//
// A field value may be: bool; any other arithmetic type (char is written as a one-character
// string); anything convertible to std::string_view (std::string, const char*, FixedString<N>);
// a Time (see as_time()); std::optional of any of these (null when empty); or, nested, any type
// that is itself described: a struct with sluice_fields, std::pair (fields f0, f1) or std::tuple
// (f0, f1, ...). The Nexmark records are described in sluice/connectors/nexmark_source.h. A row
// type that is not described (a plain int64_t, a std::string) is written as one field "value".
//
// Description functions are templates called once per row with the sink's encoder; they inline
// into the sink's loop and allocate nothing.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "sluice/detail/type_traits.h"
#include "sluice/time.h"

namespace sluice {

// A Timestamp (an int64_t) marked to be written as "YYYY-MM-DD HH:MM:SS.mmm" UTC.
struct Time {
  Timestamp millis = 0;
};
constexpr Time as_time(Timestamp millis) { return Time{millis}; }

namespace detail {

// A writer that accepts any field; used only to test whether a type is described.
struct FieldProbe {
  template <typename V>
  void operator()(std::string_view, const V&) {}
};

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};

template <typename T>
concept HasFieldsFunction = requires(const T& v, FieldProbe& w) {
  sluice_fields(v, w);
};

// Types written as nested records (several named fields).
template <typename T>
concept Record = IsPair<T>::value || IsTuple<T>::value || HasFieldsFunction<T>;

template <typename T>
struct IsOptionalRecord : std::false_type {};
template <typename T>
struct IsOptionalRecord<std::optional<T>> : std::bool_constant<Record<T>> {};

inline constexpr std::string_view kTupleFieldNames[] = {"f0",  "f1",  "f2",  "f3", "f4",  "f5",
                                                        "f6",  "f7",  "f8",  "f9", "f10", "f11",
                                                        "f12", "f13", "f14", "f15"};

// Calls `w(name, value)` for each field of the record `v`, in order.
template <Record T, typename W>
void for_each_field(const T& v, W& w) {
  if constexpr (IsPair<T>::value) {
    w(kTupleFieldNames[0], v.first);
    w(kTupleFieldNames[1], v.second);
  } else if constexpr (IsTuple<T>::value) {
    static_assert(std::tuple_size_v<T> <= std::size(kTupleFieldNames),
                  "tuples of more than 16 fields are not described; use a struct");
    [&]<size_t... I>(std::index_sequence<I...>) { (w(kTupleFieldNames[I], std::get<I>(v)), ...); }
    (std::make_index_sequence<std::tuple_size_v<T>>());
  } else {
    sluice_fields(v, w);
  }
}

// The top-level fields of a row: its own fields when it is a record, else one field "value".
template <typename T, typename W>
void for_each_row_field(const T& row, W& w) {
  if constexpr (Record<T>) {
    for_each_field(row, w);
  } else {
    w("value", row);
  }
}

}  // namespace detail
}  // namespace sluice
