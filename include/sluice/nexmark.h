// Nexmark: the event stream of an online auction house (people, auctions, bids), the standard
// input of stream-processing benchmarks. See shared/nexmark/README.md for the model and the
// queries; shared/nexmark/nexmark_ref.py is the normative reference this generator matches event
// for event.
//
// Every event is a pure function of (seed, n), where n = 0, 1, 2, ... is its global event number:
// any parallel instance can generate any slice of the stream (instance i of p takes the numbers
// n ≡ i mod p), a source's checkpoint offset is the next n, and a reader of bids alone skips the
// other numbers without generating them. Event n is a person when n mod 50 is 0, an auction when it
// is 1-3, and a bid otherwise (2% / 6% / 92%).
//
// Records are flat values. Short strings live inline in FixedString fields; the longer ones
// (`channel`, `url`, `extra`) are views into per-seed tables that are built once per process and
// never freed, so a record stays valid after its Generator is gone, for the life of the process.
// Generating an event allocates nothing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/fixed_string.h"
#include "sluice/time.h"

namespace sluice::nexmark {

// Capacities are the longest values the reference's rules can produce (proved by static_asserts
// in generator.cc): "Deiter Spencer", six+four letters of e-mail, four 4-digit groups,
// "San Francisco", two-letter states, 19- and 99-character item names and descriptions.
struct Person {
  int64_t id = 0;
  FixedString<16> name;
  FixedString<16> email_address;
  FixedString<19> credit_card;
  FixedString<16> city;
  FixedString<2> state;
  Timestamp date_time = 0;
  std::string_view extra;

  friend bool operator==(const Person&, const Person&) = default;
};

struct Auction {
  int64_t id = 0;
  FixedString<20> item_name;
  FixedString<100> description;
  int64_t initial_bid = 0;  // cents
  int64_t reserve = 0;      // cents
  Timestamp date_time = 0;
  Timestamp expires = 0;
  int64_t seller = 0;  // a Person id
  int64_t category = 0;
  std::string_view extra;

  friend bool operator==(const Auction&, const Auction&) = default;
};

struct Bid {
  int64_t auction = 0;  // an Auction id
  int64_t bidder = 0;   // a Person id
  int64_t price = 0;    // cents
  std::string_view channel;
  std::string_view url;
  Timestamp date_time = 0;
  std::string_view extra;

  friend bool operator==(const Bid&, const Bid&) = default;
};

enum class EventKind : uint8_t { kPerson, kAuction, kBid };

// One event of any kind: only the member named by `kind` is valid; the other two hold whatever
// they held before.
struct Event {
  EventKind kind = EventKind::kBid;
  Bid bid;
  Person person;
  Auction auction;
};

struct GeneratorConfig {
  uint64_t seed = 0;
  int64_t base_time_ms = 1767225600000;  // 2026-01-01 00:00:00 UTC
  int64_t event_rate = 10000;            // events per second of event time; REQUIRES: > 0
};

// Generates event n of the stream described by a GeneratorConfig. Construction looks up (or, the
// first time a seed is used in the process, builds) the seed's tables, taking a process-wide lock;
// after that every method is const, lock-free and allocation-free, and a Generator may be used by
// many threads at once.
//
// REQUIRES of every n: n < 2^62 (far beyond any run; keeps ids and times in range).
class Tables;
class Generator {
 public:
  explicit Generator(const GeneratorConfig& config);

  static EventKind kind_of(uint64_t n);
  // base_time_ms + floor(n * 1000 / event_rate).
  Timestamp timestamp(uint64_t n) const;

  // REQUIRES: kind_of(n) is the kind generated.
  void person(uint64_t n, Person& out) const;
  void auction(uint64_t n, Auction& out) const;
  void bid(uint64_t n, Bid& out) const;
  // Any kind: sets out.kind and the matching member.
  void event(uint64_t n, Event& out) const;

 private:
  uint64_t seed_;
  int64_t base_time_ms_;
  int64_t event_rate_;
  const Tables* tables_;  // immortal, shared by all generators of the seed
};

// The reference's output formats (nexmark_ref.py), one line each without the trailing newline.
// JSON: `kind` first, then the fields in schema order, compact, strings escaped as Python's
// json.dumps does (ensure_ascii), times as "YYYY-MM-DD HH:MM:SS.mmm" UTC.
std::string to_json(const Person& person);
std::string to_json(const Auction& auction);
std::string to_json(const Bid& bid);
std::string to_json(const Event& event);

// CSV as `nexmark_ref.py --format csv --kind <kind>`: the header line of a kind, then one row per
// event; a field is quoted when it holds a comma, a double quote or a line break.
std::string_view csv_header(EventKind kind);
std::string to_csv_row(const Person& person);
std::string to_csv_row(const Auction& auction);
std::string to_csv_row(const Bid& bid);
std::string to_csv_row(const Event& event);

}  // namespace sluice::nexmark
