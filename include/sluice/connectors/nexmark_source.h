// The Nexmark source: the auction stream of sluice/nexmark.h as a Stream.
//
//   sluice::nexmark::NexmarkOptions opts;
//   opts.events = 10'000'000;
//   auto bids = sluice::nexmark::bids(env, opts);          // Stream<nexmark::Bid>
//   auto all = sluice::nexmark::source(env, opts);         // Stream<nexmark::Event>
//
// The source covers the event numbers [first_event, first_event + events). Subtask s of p takes
// the numbers n ≡ s (mod p), so the union of the subtasks is the same stream at every parallelism.
// bids(), auctions() and persons() cover the same numbers but generate only events of their kind,
// skipping the others without generating them: sources of one job built from equal options
// describe the same stream, so joins between them match ids exactly.
//
// Pacing: unthrottled by default (benchmarks); with `rate` > 0 the source spreads the event
// numbers over wall-clock time at `rate` per second (over all subtasks; a bids() source covers
// event numbers at that rate and emits the 92% that are bids). A throttled source without a
// `base_time` starts event time at the job's start, and its `event_rate` defaults to `rate`, so
// event time follows the clock.
//
// Checkpoints: the position (each subtask's next event number, and what a run at another
// parallelism made above it) restores at any parallelism, every event number covered once across
// the cut (detail/striped_position.h); pacing restarts at the restore.
//
// Invalid options (event_rate <= 0, rate < 0) fail the job when it starts, naming the source.
//
// This header also describes the Nexmark records for the text sinks (sluice/fields.h), with the
// field names of the SQL schema and times as "YYYY-MM-DD HH:MM:SS.mmm", like nexmark::to_json.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "sluice/environment.h"
#include "sluice/fields.h"
#include "sluice/nexmark.h"

namespace sluice::nexmark {

// The connector options of shared/nexmark/README.md.
struct NexmarkOptions {
  uint64_t seed = 0;
  // How many event numbers to cover; unbounded when absent.
  std::optional<uint64_t> events;
  uint64_t first_event = 0;
  // Events per second of event time; 10,000 by default, `rate` when throttled.
  std::optional<int64_t> event_rate;
  // Events per second of wall-clock time over all subtasks; 0 = as fast as possible.
  double rate = 0;
  // Event time of event number 0 (ms since the epoch); 2026-01-01 00:00:00 UTC by default, the
  // job's start time when throttled.
  std::optional<Timestamp> base_time;

  std::string name;     // empty: "nexmark", "nexmark bids", ...
  int parallelism = 0;  // 0: the environment's default
};

Stream<Event> source(Environment& env, const NexmarkOptions& options = {});
Stream<Bid> bids(Environment& env, const NexmarkOptions& options = {});
Stream<Auction> auctions(Environment& env, const NexmarkOptions& options = {});
Stream<Person> persons(Environment& env, const NexmarkOptions& options = {});

// ---- field descriptions, in schema order ----

template <typename W>
void sluice_fields(const Person& p, W& w) {
  w("id", p.id);
  w("name", p.name);
  w("email_address", p.email_address);
  w("credit_card", p.credit_card);
  w("city", p.city);
  w("state", p.state);
  w("date_time", as_time(p.date_time));
  w("extra", p.extra);
}

template <typename W>
void sluice_fields(const Auction& a, W& w) {
  w("id", a.id);
  w("item_name", a.item_name);
  w("description", a.description);
  w("initial_bid", a.initial_bid);
  w("reserve", a.reserve);
  w("date_time", as_time(a.date_time));
  w("expires", as_time(a.expires));
  w("seller", a.seller);
  w("category", a.category);
  w("extra", a.extra);
}

template <typename W>
void sluice_fields(const Bid& b, W& w) {
  w("auction", b.auction);
  w("bidder", b.bidder);
  w("price", b.price);
  w("channel", b.channel);
  w("url", b.url);
  w("date_time", as_time(b.date_time));
  w("extra", b.extra);
}

// `kind` ("person", "auction" or "bid"), then the fields of that kind, as nexmark::to_json. The
// columns differ by kind: write one kind per CSV file.
template <typename W>
void sluice_fields(const Event& e, W& w) {
  switch (e.kind) {
    case EventKind::kPerson:
      w("kind", std::string_view("person"));
      sluice_fields(e.person, w);
      break;
    case EventKind::kAuction:
      w("kind", std::string_view("auction"));
      sluice_fields(e.auction, w);
      break;
    case EventKind::kBid:
      w("kind", std::string_view("bid"));
      sluice_fields(e.bid, w);
      break;
  }
}

}  // namespace sluice::nexmark
