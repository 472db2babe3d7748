// Row encoders: turn described rows (see sluice/fields.h) into text lines for sinks.
//
//   JsonRowEncoder  {"key":7,"name":"a b","at":"2026-01-01 00:00:00.000"}
//   CsvRowEncoder   7,a b,2026-01-01 00:00:00.000      (header: key,name,at)
//   TextRowEncoder  key=7 name="a b" at=2026-01-01 00:00:00.000
//
// Each append_row() appends one line, newline included, to a caller-owned std::string that the
// sink reuses, so encoding allocates nothing once the string has grown. Nested records are nested
// objects in JSON, `name={...}` in text, and flattened columns named `outer.inner` in CSV.
// Floating-point numbers use the shortest form that reads back exactly; NaN and infinities are
// null in JSON. Times (sluice::Time) are "YYYY-MM-DD HH:MM:SS.mmm" UTC, as the Nexmark formats.
//
// Thread-safety: an encoder is a small value with per-row scratch state; one per sink subtask.
#pragma once

#include <charconv>
#include <cmath>
#include <string>
#include <string_view>
#include <type_traits>

#include "sluice/detail/text_writer.h"
#include "sluice/fields.h"

namespace sluice::detail {

// Appends "YYYY-MM-DD HH:MM:SS.mmm" (UTC) without allocating; the format of format_timestamp().
void append_timestamp(std::string& out, Timestamp millis);

template <typename V>
void append_integer(std::string& out, V value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, end);
}

// Shortest round-trip form; "nan", "inf", "-inf" for the special values.
template <typename V>
void append_floating(std::string& out, V value) {
  char buf[40];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, end);
}

template <typename V>
inline constexpr bool kDependentFalse = false;

// Scalar kinds shared by the encoders, in the order they are tested.
template <typename V>
constexpr bool kIsTimeValue = std::is_same_v<V, Time>;
template <typename V>
constexpr bool kIsCharValue = std::is_same_v<V, char>;
template <typename V>
constexpr bool kIsStringValue = std::is_convertible_v<const V&, std::string_view>;

template <typename V>
void check_field_type() {
  static_assert(Record<V> || IsOptional<V>::value || kIsTimeValue<V> || std::is_arithmetic_v<V> ||
                    kIsStringValue<V>,
                "this field type cannot be written: use an arithmetic type, a string, "
                "sluice::as_time(ts), std::optional, std::pair/std::tuple, or a struct with "
                "sluice_fields (see sluice/fields.h)");
}

class JsonRowEncoder {
 public:
  template <typename T>
  void append_row(std::string& out, const T& row) {
    out_ = &out;
    if constexpr (Record<T>) {
      value(row);
    } else {
      out.push_back('{');
      first_ = true;
      (*this)("value", row);
      out.push_back('}');
    }
    out.push_back('\n');
  }

  template <typename V>
  void operator()(std::string_view name, const V& v) {
    if (!first_) out_->push_back(',');
    first_ = false;
    append_json_string(*out_, name);
    out_->push_back(':');
    value(v);
  }

 private:
  template <typename V>
  void value(const V& v) {
    check_field_type<V>();
    std::string& out = *out_;
    if constexpr (Record<V>) {
      out.push_back('{');
      first_ = true;
      for_each_field(v, *this);
      out.push_back('}');
      first_ = false;
    } else if constexpr (IsOptional<V>::value) {
      if (v) {
        value(*v);
      } else {
        out.append("null");
      }
    } else if constexpr (kIsTimeValue<V>) {
      out.push_back('"');
      append_timestamp(out, v.millis);
      out.push_back('"');
    } else if constexpr (std::is_same_v<V, bool>) {
      out.append(v ? "true" : "false");
    } else if constexpr (kIsCharValue<V>) {
      append_json_string(out, std::string_view(&v, 1));
    } else if constexpr (std::is_integral_v<V>) {
      append_integer(out, v);
    } else if constexpr (std::is_floating_point_v<V>) {
      if (std::isfinite(v)) {
        append_floating(out, v);
      } else {
        out.append("null");
      }
    } else if constexpr (kIsStringValue<V>) {
      append_json_string(out, std::string_view(v));
    }
  }

  std::string* out_ = nullptr;
  bool first_ = true;
};

class CsvRowEncoder {
 public:
  explicit CsvRowEncoder(char delimiter = ',') : delimiter_(delimiter) {}

  // The header line of T's columns, nested names joined with '.'. Built once per file.
  // REQUIRES: `sample` has the shape of every row (an empty optional of a record has no columns
  // to name, so one is named from a default-constructed value).
  template <typename T>
  void append_header(std::string& out, const T& sample) {
    HeaderWriter header{this, &out, {}, true};
    if constexpr (Record<T>) {
      for_each_field(sample, header);
    } else {
      header("value", sample);
    }
    out.push_back('\n');
  }

  template <typename T>
  void append_row(std::string& out, const T& row) {
    out_ = &out;
    first_ = true;
    for_each_row_field(row, *this);
    out.push_back('\n');
  }

  template <typename V>
  void operator()(std::string_view, const V& v) {
    value(v);
  }

 private:
  struct HeaderWriter {
    CsvRowEncoder* encoder;
    std::string* out;
    std::string prefix;
    bool first;
    template <typename V>
    void operator()(std::string_view name, const V& v) {
      if constexpr (Record<V>) {
        const size_t length = prefix.size();
        prefix.append(name).push_back('.');
        for_each_field(v, *this);
        prefix.resize(length);
      } else if constexpr (IsOptionalRecord<V>::value) {
        (*this)(name, v ? *v : typename V::value_type{});
      } else {
        if (!first) out->push_back(encoder->delimiter_);
        first = false;
        append_csv_field(*out, prefix + std::string(name), encoder->delimiter_);
      }
    }
  };

  template <typename V>
  void value(const V& v) {
    check_field_type<V>();
    std::string& out = *out_;
    if constexpr (Record<V>) {
      for_each_field(v, *this);
      return;
    } else if constexpr (IsOptional<V>::value) {
      if (v) {
        value(*v);
      } else if constexpr (IsOptionalRecord<V>::value) {
        EmptyColumns empty{this};
        for_each_field(typename V::value_type{}, empty);
      } else {
        separate();
      }
      return;
    } else {
      separate();
      if constexpr (kIsTimeValue<V>) {
        append_timestamp(out, v.millis);
      } else if constexpr (std::is_same_v<V, bool>) {
        out.append(v ? "true" : "false");
      } else if constexpr (kIsCharValue<V>) {
        append_csv_field(out, std::string_view(&v, 1), delimiter_);
      } else if constexpr (std::is_integral_v<V>) {
        append_integer(out, v);
      } else if constexpr (std::is_floating_point_v<V>) {
        append_floating(out, v);
      } else if constexpr (kIsStringValue<V>) {
        append_csv_field(out, std::string_view(v), delimiter_);
      }
    }
  }

  // Writes empty columns for the fields of an absent nested record.
  struct EmptyColumns {
    CsvRowEncoder* encoder;
    template <typename V>
    void operator()(std::string_view name, const V& v) {
      if constexpr (Record<V>) {
        for_each_field(v, *this);
      } else {
        (void)name;
        encoder->separate();
      }
    }
  };

  void separate() {
    if (!first_) out_->push_back(delimiter_);
    first_ = false;
  }

  char delimiter_;
  std::string* out_ = nullptr;
  bool first_ = true;
};

// The readable form for terminals: `key=7 name="a b"`. Strings are written as they are unless
// they are empty or hold a space, '=', a quote, a brace or a control character; those are written
// as JSON strings. A row that is not a record is written as its bare value.
class TextRowEncoder {
 public:
  template <typename T>
  void append_row(std::string& out, const T& row) {
    out_ = &out;
    first_ = true;
    if constexpr (Record<T>) {
      for_each_field(row, *this);
    } else {
      value(row);
    }
    out.push_back('\n');
  }

  template <typename V>
  void operator()(std::string_view name, const V& v) {
    if (!first_) out_->push_back(' ');
    first_ = false;
    out_->append(name);
    out_->push_back('=');
    value(v);
  }

 private:
  template <typename V>
  void value(const V& v) {
    check_field_type<V>();
    std::string& out = *out_;
    if constexpr (Record<V>) {
      out.push_back('{');
      first_ = true;
      for_each_field(v, *this);
      out.push_back('}');
      first_ = false;
    } else if constexpr (IsOptional<V>::value) {
      if (v) {
        value(*v);
      } else {
        out.append("null");
      }
    } else if constexpr (kIsTimeValue<V>) {
      append_timestamp(out, v.millis);
    } else if constexpr (std::is_same_v<V, bool>) {
      out.append(v ? "true" : "false");
    } else if constexpr (kIsCharValue<V>) {
      append_string(std::string_view(&v, 1));
    } else if constexpr (std::is_integral_v<V>) {
      append_integer(out, v);
    } else if constexpr (std::is_floating_point_v<V>) {
      append_floating(out, v);
    } else if constexpr (kIsStringValue<V>) {
      append_string(std::string_view(v));
    }
  }

  void append_string(std::string_view s) {
    bool quote = s.empty();
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c);
      quote = quote || u <= ' ' || u == 0x7F || c == '=' || c == '"' || c == '{' || c == '}';
    }
    if (quote) {
      append_json_string(*out_, s);
    } else {
      out_->append(s);
    }
  }

  std::string* out_ = nullptr;
  bool first_ = true;
};

}  // namespace sluice::detail
