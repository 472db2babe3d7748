// The text formats of nexmark_ref.py: JSON lines as json.dumps(separators=(",", ":")) writes them
// (ensure_ascii on), and CSV as Python's csv.writer with its default, minimal quoting.
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "sluice/nexmark.h"
#include "sluice/time.h"

namespace sluice::nexmark {
namespace {

void append_int(std::string& out, int64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, end);
}

void append_u_escape(std::string& out, uint32_t unit) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(unit >> shift) & 0xF];
}

// Decodes one UTF-8 sequence at s[*i], advancing *i; an invalid byte decodes to U+FFFD.
uint32_t decode_utf8(std::string_view s, size_t* i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char lead = byte(*i);
  size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
  uint32_t cp = lead & (0x7F >> length);
  if (length == 0 || lead > 0xF4 || *i + length > s.size()) {
    ++*i;
    return 0xFFFD;
  }
  for (size_t k = 1; k < length; ++k) {
    if ((byte(*i + k) & 0xC0) != 0x80) {
      ++*i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (byte(*i + k) & 0x3F);
  }
  *i += length;
  return cp;
}

// A JSON string as Python's json.dumps with ensure_ascii writes it.
void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x80) {
          append_u_escape(out, c);
        } else {
          uint32_t cp = decode_utf8(s, &i);
          if (cp >= 0x10000) {
            cp -= 0x10000;
            append_u_escape(out, 0xD800 | (cp >> 10));
            append_u_escape(out, 0xDC00 | (cp & 0x3FF));
          } else {
            append_u_escape(out, cp);
          }
          continue;
        }
    }
    ++i;
  }
  out += '"';
}

// Writes one JSON object, `"name":value` pairs separated by commas.
class JsonWriter {
 public:
  explicit JsonWriter(std::string_view kind) {
    out_ += "{\"kind\":";
    append_json_string(out_, kind);
  }
  JsonWriter& field(std::string_view name, int64_t value) {
    key(name);
    append_int(out_, value);
    return *this;
  }
  JsonWriter& field(std::string_view name, std::string_view value) {
    key(name);
    append_json_string(out_, value);
    return *this;
  }
  JsonWriter& time(std::string_view name, Timestamp value) {
    return field(name, format_timestamp(value));
  }
  std::string done() {
    out_ += '}';
    return std::move(out_);
  }

 private:
  void key(std::string_view name) {
    out_ += ',';
    append_json_string(out_, name);
    out_ += ':';
  }
  std::string out_;
};

// Writes one CSV row: a field is quoted, with its quotes doubled, when it holds a comma, a quote
// or a line break.
class CsvWriter {
 public:
  CsvWriter& field(int64_t value) {
    separate();
    append_int(out_, value);
    return *this;
  }
  CsvWriter& field(std::string_view value) {
    separate();
    if (value.find_first_of(",\"\n\r") == std::string_view::npos) {
      out_ += value;
      return *this;
    }
    out_ += '"';
    for (char c : value) {
      if (c == '"') out_ += '"';
      out_ += c;
    }
    out_ += '"';
    return *this;
  }
  CsvWriter& time(Timestamp value) { return field(format_timestamp(value)); }
  std::string done() { return std::move(out_); }

 private:
  void separate() {
    if (!first_) out_ += ',';
    first_ = false;
  }
  std::string out_;
  bool first_ = true;
};

}  // namespace

std::string to_json(const Person& p) {
  return JsonWriter("person")
      .field("id", p.id)
      .field("name", p.name)
      .field("email_address", p.email_address)
      .field("credit_card", p.credit_card)
      .field("city", p.city)
      .field("state", p.state)
      .time("date_time", p.date_time)
      .field("extra", p.extra)
      .done();
}

std::string to_json(const Auction& a) {
  return JsonWriter("auction")
      .field("id", a.id)
      .field("item_name", a.item_name)
      .field("description", a.description)
      .field("initial_bid", a.initial_bid)
      .field("reserve", a.reserve)
      .time("date_time", a.date_time)
      .time("expires", a.expires)
      .field("seller", a.seller)
      .field("category", a.category)
      .field("extra", a.extra)
      .done();
}

std::string to_json(const Bid& b) {
  return JsonWriter("bid")
      .field("auction", b.auction)
      .field("bidder", b.bidder)
      .field("price", b.price)
      .field("channel", b.channel)
      .field("url", b.url)
      .time("date_time", b.date_time)
      .field("extra", b.extra)
      .done();
}

std::string to_json(const Event& e) {
  switch (e.kind) {
    case EventKind::kPerson:
      return to_json(e.person);
    case EventKind::kAuction:
      return to_json(e.auction);
    case EventKind::kBid:
      return to_json(e.bid);
  }
  return {};
}

std::string_view csv_header(EventKind kind) {
  switch (kind) {
    case EventKind::kPerson:
      return "id,name,email_address,credit_card,city,state,date_time,extra";
    case EventKind::kAuction:
      return "id,item_name,description,initial_bid,reserve,date_time,expires,seller,category,extra";
    case EventKind::kBid:
      return "auction,bidder,price,channel,url,date_time,extra";
  }
  return {};
}

std::string to_csv_row(const Person& p) {
  return CsvWriter()
      .field(p.id)
      .field(p.name)
      .field(p.email_address)
      .field(p.credit_card)
      .field(p.city)
      .field(p.state)
      .time(p.date_time)
      .field(p.extra)
      .done();
}

std::string to_csv_row(const Auction& a) {
  return CsvWriter()
      .field(a.id)
      .field(a.item_name)
      .field(a.description)
      .field(a.initial_bid)
      .field(a.reserve)
      .time(a.date_time)
      .time(a.expires)
      .field(a.seller)
      .field(a.category)
      .field(a.extra)
      .done();
}

std::string to_csv_row(const Bid& b) {
  return CsvWriter()
      .field(b.auction)
      .field(b.bidder)
      .field(b.price)
      .field(b.channel)
      .field(b.url)
      .time(b.date_time)
      .field(b.extra)
      .done();
}

std::string to_csv_row(const Event& e) {
  switch (e.kind) {
    case EventKind::kPerson:
      return to_csv_row(e.person);
    case EventKind::kAuction:
      return to_csv_row(e.auction);
    case EventKind::kBid:
      return to_csv_row(e.bid);
  }
  return {};
}

}  // namespace sluice::nexmark
