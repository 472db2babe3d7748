// append_json_string and append_csv_field; declared in sluice/detail/text_writer.h.
#include <cstdint>

#include "sluice/detail/text_writer.h"

namespace sluice::detail {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_u00(std::string& out, unsigned char byte) {
  char esc[6] = {'\\', 'u', '0', '0', kHex[byte >> 4], kHex[byte & 0xf]};
  out.append(esc, sizeof(esc));
}

// Length of the valid UTF-8 sequence starting at s[i] (a byte >= 0x80), or 0 when it is not one:
// rejects stray continuation bytes, overlong forms, surrogates and code points above U+10FFFF.
size_t utf8_sequence_length(std::string_view s, size_t i) {
  auto at = [&](size_t k) -> unsigned { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (at(k) & 0xC0) == 0x80; };
  unsigned b = at(i);
  if (b >= 0xC2 && b <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    unsigned b1 = at(i + 1);
    if (b == 0xE0 && b1 < 0xA0) return 0;   // overlong
    if (b == 0xED && b1 >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    unsigned b1 = at(i + 1);
    if (b == 0xF0 && b1 < 0x90) return 0;   // overlong
    if (b == 0xF4 && b1 >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  size_t run = 0;  // start of the bytes not yet copied
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      size_t n = utf8_sequence_length(s, i);
      if (n != 0) {
        i += n;
        continue;
      }
    }
    out.append(s.data() + run, i - run);
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        append_u00(out, c);  // other control characters and invalid UTF-8 bytes
    }
    run = ++i;
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void append_csv_field(std::string& out, std::string_view s, char delimiter) {
  bool quote = !s.empty() && (s.front() == ' ' || s.back() == ' ');
  for (size_t i = 0; i < s.size() && !quote; ++i) {
    char c = s[i];
    quote = c == delimiter || c == '"' || c == '\n' || c == '\r';
  }
  if (!quote) {
    out.append(s);
    return;
  }
  out.push_back('"');
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"') {
      out.append(s.data() + run, i + 1 - run);  // the quote itself, then its double
      out.push_back('"');
      run = i + 1;
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

}  // namespace sluice::detail
