// The Nexmark generator, draw for draw as nexmark_ref.py: the order of the random draws within an
// event is part of the format, so each function below follows the reference line by line.
#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <string_view>

#include "connectors/nexmark/rng.h"
#include "connectors/nexmark/tables.h"
#include "sluice/nexmark.h"

namespace sluice::nexmark {
namespace {

constexpr uint64_t kPersonProportion = 1;
constexpr uint64_t kAuctionProportion = 3;
constexpr uint64_t kTotalProportion = 50;  // 1 person, 3 auctions, 46 bids
constexpr int64_t kFirstPersonId = 1000;
constexpr int64_t kFirstAuctionId = 1000;
constexpr int64_t kFirstCategoryId = 10;
constexpr uint64_t kNumCategories = 5;
constexpr int64_t kNumInFlightAuctions = 100;
constexpr int64_t kNumActivePeople = 1000;
constexpr int64_t kIdLead = 10;
constexpr uint64_t kHotAuctionRatio = 2;
constexpr uint64_t kHotSellerRatio = 4;
constexpr uint64_t kHotBidderRatio = 4;
constexpr int64_t kHotBatch = 100;
constexpr int64_t kAvgPersonBytes = 200;
constexpr int64_t kAvgAuctionBytes = 500;
constexpr int64_t kAvgBidBytes = 100;

constexpr std::array<std::string_view, 6> kUsStates = {"AZ", "CA", "ID", "OR", "WA", "WY"};
constexpr std::array<std::string_view, 10> kUsCities = {
    "Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland",
    "Bend",    "Redmond",     "Seattle",       "Kent",  "Cheyenne"};
constexpr std::array<std::string_view, 11> kFirstNames = {
    "Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"};
constexpr std::array<std::string_view, 9> kLastNames = {
    "Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"};

template <size_t M>
constexpr size_t longest(const std::array<std::string_view, M>& words) {
  size_t n = 0;
  for (std::string_view w : words) n = std::max(n, w.size());
  return n;
}

// The record capacities suffice: next_string(rng, m) yields at most m - 1 characters.
constexpr size_t kEmailUserMax = 7 - 1, kEmailDomainMax = 5 - 1;
constexpr size_t kItemNameMax = 20 - 1, kDescriptionMax = 100 - 1;
static_assert(longest(kFirstNames) + 1 + longest(kLastNames) <= decltype(Person::name)::kCapacity);
static_assert(kEmailUserMax + 1 + kEmailDomainMax + 4 <=
              decltype(Person::email_address)::kCapacity);
static_assert(4 * 4 + 3 <= decltype(Person::credit_card)::kCapacity);
static_assert(longest(kUsCities) <= decltype(Person::city)::kCapacity);
static_assert(longest(kUsStates) <= decltype(Person::state)::kCapacity);
static_assert(kItemNameMax <= decltype(Auction::item_name)::kCapacity);
static_assert(kDescriptionMax <= decltype(Auction::description)::kCapacity);
static_assert(sizeof(Bid) <= 80, "Bid is on every hot path; keep it small");

// Base-0 id of the newest person at event n (n's own id when n is a person).
int64_t last_person(uint64_t n) {
  uint64_t epoch = n / kTotalProportion, offset = n % kTotalProportion;
  offset = std::min(offset, kPersonProportion - 1);
  return static_cast<int64_t>(epoch * kPersonProportion + offset);
}

// Base-0 id of the newest auction at event n (n's own id when n is an auction); -1 if none.
int64_t last_auction(uint64_t n) {
  int64_t epoch = static_cast<int64_t>(n / kTotalProportion);
  int64_t offset = static_cast<int64_t>(n % kTotalProportion);
  if (offset < static_cast<int64_t>(kPersonProportion)) {
    epoch -= 1;
    offset = kAuctionProportion - 1;
  } else if (offset >= static_cast<int64_t>(kPersonProportion + kAuctionProportion)) {
    offset = kAuctionProportion - 1;
  } else {
    offset -= kPersonProportion;
  }
  return epoch * static_cast<int64_t>(kAuctionProportion) + offset;
}

// A base-0 person id among the active people, or up to kIdLead ids not yet created.
int64_t random_person(Rng& rng, uint64_t n) {
  int64_t people = last_person(n) + 1;
  int64_t active = std::min(people, kNumActivePeople);
  return people - active + static_cast<int64_t>(rng.next_int(active + kIdLead));
}

// A base-0 auction id among those likely still open, or up to kIdLead not yet created.
int64_t random_auction(Rng& rng, uint64_t n) {
  int64_t newest = last_auction(n);
  int64_t oldest = std::max<int64_t>(newest - kNumInFlightAuctions, 0);
  return oldest + static_cast<int64_t>(rng.next_int(newest - oldest + 1 + kIdLead));
}

template <size_t M>
std::string_view pick(Rng& rng, const std::array<std::string_view, M>& words) {
  return words[rng.next_int(M)];
}

// Appends s to buf at *size; the caller sizes buf for the longest result.
void put(char* buf, size_t* size, std::string_view s) {
  std::memcpy(buf + *size, s.data(), s.size());
  *size += s.size();
}

}  // namespace

Generator::Generator(const GeneratorConfig& config)
    : seed_(config.seed),
      base_time_ms_(config.base_time_ms),
      event_rate_(config.event_rate),
      tables_(&Tables::for_seed(config.seed)) {
  assert(config.event_rate > 0);
}

EventKind Generator::kind_of(uint64_t n) {
  uint64_t rem = n % kTotalProportion;
  if (rem < kPersonProportion) return EventKind::kPerson;
  if (rem < kPersonProportion + kAuctionProportion) return EventKind::kAuction;
  return EventKind::kBid;
}

Timestamp Generator::timestamp(uint64_t n) const {
  uint64_t rate = static_cast<uint64_t>(event_rate_);
  if (n <= UINT64_MAX / 1000) return base_time_ms_ + static_cast<int64_t>(n * 1000 / rate);
  return base_time_ms_ + static_cast<int64_t>(static_cast<unsigned __int128>(n) * 1000 / rate);
}

void Generator::person(uint64_t n, Person& out) const {
  Rng rng = event_rng(seed_, n);
  char buf[32];
  size_t size = 0;
  put(buf, &size, pick(rng, kFirstNames));
  put(buf, &size, " ");
  put(buf, &size, pick(rng, kLastNames));
  out.name.assign(std::string_view(buf, size));

  char part[8];
  size = 0;
  put(buf, &size, next_string(rng, 7, ' ', part));
  put(buf, &size, "@");
  put(buf, &size, next_string(rng, 5, ' ', part));
  put(buf, &size, ".com");
  out.email_address.assign(std::string_view(buf, size));

  for (int group = 0; group < 4; ++group) {
    unsigned v = static_cast<unsigned>(rng.next_int(10'000));
    char* g = buf + group * 5;
    g[0] = static_cast<char>('0' + v / 1000);
    g[1] = static_cast<char>('0' + v / 100 % 10);
    g[2] = static_cast<char>('0' + v / 10 % 10);
    g[3] = static_cast<char>('0' + v % 10);
    g[4] = ' ';
  }
  out.credit_card.assign(std::string_view(buf, 19));

  out.city.assign(pick(rng, kUsCities));
  out.state.assign(pick(rng, kUsStates));
  int64_t record_size =
      static_cast<int64_t>(8 + out.name.size() + out.email_address.size() + out.credit_card.size() +
                           out.city.size() + out.state.size());
  out.extra = tables_->extra(rng, record_size, kAvgPersonBytes);
  out.id = last_person(n) + kFirstPersonId;
  out.date_time = timestamp(n);
}

void Generator::auction(uint64_t n, Auction& out) const {
  Rng rng = event_rng(seed_, n);
  Timestamp ts = timestamp(n);
  int64_t seller = rng.next_int(kHotSellerRatio) > 0 ? last_person(n) / kHotBatch * kHotBatch
                                                     : random_person(rng, n);
  out.category = kFirstCategoryId + static_cast<int64_t>(rng.next_int(kNumCategories));
  out.initial_bid = next_price(rng);
  // An auction stays open for about as long as it takes to create kNumInFlightAuctions more.
  constexpr uint64_t kLeadEvents = kNumInFlightAuctions * kTotalProportion / kAuctionProportion;
  int64_t horizon_ms = timestamp(n + kLeadEvents) - ts;
  out.expires = ts + 1 + static_cast<int64_t>(rng.next_int(std::max<int64_t>(horizon_ms * 2, 1)));
  char buf[100];
  out.item_name.assign(next_string(rng, 20, ' ', buf));
  out.description.assign(next_string(rng, 100, ' ', buf));
  out.reserve = out.initial_bid + next_price(rng);
  int64_t record_size =
      static_cast<int64_t>(8 + out.item_name.size() + out.description.size() + 8 * 5);
  out.extra = tables_->extra(rng, record_size, kAvgAuctionBytes);
  out.id = last_auction(n) + kFirstAuctionId;
  out.date_time = ts;
  out.seller = seller + kFirstPersonId;
}

void Generator::bid(uint64_t n, Bid& out) const {
  Rng rng = event_rng(seed_, n);
  int64_t auction = rng.next_int(kHotAuctionRatio) > 0 ? last_auction(n) / kHotBatch * kHotBatch
                                                       : random_auction(rng, n);
  int64_t bidder = rng.next_int(kHotBidderRatio) > 0 ? last_person(n) / kHotBatch * kHotBatch + 1
                                                     : random_person(rng, n);
  out.price = next_price(rng);
  if (rng.next_int(2) > 0) {
    size_t i = rng.next_int(kHotChannels.size());
    out.channel = kHotChannels[i];
    out.url = tables_->hot_url(i);
  } else {
    const Channel& channel = tables_->channel(rng.next_int(kNumChannels));
    out.channel = channel.name;
    out.url = channel.url;
  }
  out.extra = tables_->extra(rng, 8 * 4, kAvgBidBytes);
  out.auction = auction + kFirstAuctionId;
  out.bidder = bidder + kFirstPersonId;
  out.date_time = timestamp(n);
}

void Generator::event(uint64_t n, Event& out) const {
  out.kind = kind_of(n);
  switch (out.kind) {
    case EventKind::kPerson:
      person(n, out.person);
      break;
    case EventKind::kAuction:
      auction(n, out.auction);
      break;
    case EventKind::kBid:
      bid(n, out.bid);
      break;
  }
}

}  // namespace sluice::nexmark
