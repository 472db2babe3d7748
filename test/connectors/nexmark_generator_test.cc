#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "sluice/fixed_string.h"
#include "sluice/nexmark.h"

namespace sluice::nexmark {
namespace {

const std::string kDataDir = SLUICE_TEST_DATA_DIR;
// The reference generator, in the `shared` folder beside the checkout.
const std::string kReference = kDataDir + "/../../../shared/nexmark/nexmark_ref.py";

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// What `nexmark_ref.py --first first --events count` prints, as JSON lines or as CSV of one kind.
std::vector<std::string> generate(const GeneratorConfig& config, uint64_t first, uint64_t count,
                                  bool csv = false, EventKind kind = EventKind::kBid) {
  Generator gen(config);
  std::vector<std::string> lines;
  if (csv) lines.emplace_back(csv_header(kind));
  Event event;
  for (uint64_t n = first; n < first + count; ++n) {
    if (csv && Generator::kind_of(n) != kind) continue;
    gen.event(n, event);
    lines.push_back(csv ? to_csv_row(event) : to_json(event));
  }
  return lines;
}

void expect_same_lines(const std::vector<std::string>& expected,
                       const std::vector<std::string>& actual) {
  ASSERT_EQ(expected.size(), actual.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(expected[i], actual[i]) << "line " << i + 1;
  }
}

TEST(FixedStringTest, HoldsShortStringsInline) {
  static_assert(std::is_trivially_copyable_v<FixedString<16>>);
  static_assert(sizeof(FixedString<16>) == 17);
  static_assert(sizeof(FixedString<300>) == 302);
  FixedString<8> s;
  EXPECT_TRUE(s.empty());
  s.assign("abc");
  EXPECT_EQ(s.view(), "abc");
  EXPECT_EQ(s, "abc");
  std::string_view v = s;
  EXPECT_EQ(v.size(), 3u);
  FixedString<8> t = s;
  EXPECT_EQ(s, t);
  t.assign("abcdefgh");
  EXPECT_FALSE(s == t);
  EXPECT_EQ(t.size(), 8u);
  t.assign("");
  EXPECT_TRUE(t.empty());
}

TEST(NexmarkGoldenTest, Seed42FirstEvents) {
  expect_same_lines(read_lines(kDataDir + "/nexmark_seed42.jsonl"),
                    generate({.seed = 42}, 0, 3000));
}

TEST(NexmarkGoldenTest, Seed7FarIntoAFastStream) {
  GeneratorConfig config{.seed = 7, .base_time_ms = 0, .event_rate = 10'000'000};
  expect_same_lines(read_lines(kDataDir + "/nexmark_seed7_far.jsonl"),
                    generate(config, 123456789012, 500));
}

TEST(NexmarkGoldenTest, Seed0BidsAsCsv) {
  expect_same_lines(read_lines(kDataDir + "/nexmark_seed0_bid.csv"),
                    generate({.seed = 0}, 0, 1000, /*csv=*/true, EventKind::kBid));
}

// Runs the reference itself for a fresh seed and place in the stream, when it is at hand.
TEST(NexmarkReferenceTest, MatchesReferenceForARandomSeed) {
  if (std::system("python3 --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "no python3";
  if (!std::ifstream(kReference).good()) GTEST_SKIP() << "no " << kReference;
  std::mt19937_64 random(std::random_device{}());
  GeneratorConfig config{.seed = random(),
                         .base_time_ms = static_cast<int64_t>(random() % 4'000'000'000'000),
                         .event_rate = static_cast<int64_t>(1 + random() % 20'000'000)};
  uint64_t first = random() % 2 == 0 ? random() % 1000 : random() % 1'000'000'000'000;
  for (bool csv : {false, true}) {
    std::string command = "python3 " + kReference + " --seed " + std::to_string(config.seed) +
                          " --base-time-ms " + std::to_string(config.base_time_ms) +
                          " --event-rate " + std::to_string(config.event_rate) + " --first " +
                          std::to_string(first) + " --events 300" +
                          (csv ? " --format csv --kind auction" : "");
    SCOPED_TRACE(command);
    FILE* pipe = popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string output;
    char buf[65536];
    for (size_t got; (got = fread(buf, 1, sizeof(buf), pipe)) > 0;) output.append(buf, got);
    ASSERT_EQ(pclose(pipe), 0);
    std::vector<std::string> expected;
    for (size_t begin = 0, end; begin < output.size(); begin = end + 1) {
      end = output.find('\n', begin);
      if (end == std::string::npos) end = output.size();
      expected.push_back(output.substr(begin, end - begin));
    }
    expect_same_lines(expected, generate(config, first, 300, csv, EventKind::kAuction));
  }
}

TEST(NexmarkGeneratorTest, IsDeterministic) {
  EXPECT_EQ(generate({.seed = 3}, 1000, 2000), generate({.seed = 3}, 1000, 2000));
  EXPECT_NE(generate({.seed = 3}, 1000, 100), generate({.seed = 4}, 1000, 100));
}

// Instance i of p generates n ≡ i (mod p); interleaved, the slices are the whole stream.
TEST(NexmarkGeneratorTest, SlicesEqualTheWholeStream) {
  constexpr uint64_t kEvents = 5000;
  std::vector<std::string> whole = generate({.seed = 11}, 0, kEvents);
  for (uint64_t p : {2, 3, 7, 50}) {
    std::vector<std::string> merged(kEvents);
    for (uint64_t i = 0; i < p; ++i) {
      Generator gen({.seed = 11});  // a fresh instance per slice
      Event event;
      for (uint64_t n = i; n < kEvents; n += p) {
        gen.event(n, event);
        merged[n] = to_json(event);
      }
    }
    EXPECT_EQ(whole, merged) << "p = " << p;
  }
}

TEST(NexmarkGeneratorTest, KindMixIsTwoSixNinetyTwoPercent) {
  Generator gen({});
  int counts[3] = {0, 0, 0};
  Event event;
  for (uint64_t n = 0; n < 100'000; ++n) {
    gen.event(n, event);
    ASSERT_EQ(event.kind, Generator::kind_of(n));
    ++counts[static_cast<int>(event.kind)];
  }
  EXPECT_EQ(counts[0], 2'000);
  EXPECT_EQ(counts[1], 6'000);
  EXPECT_EQ(counts[2], 92'000);
}

TEST(NexmarkGeneratorTest, IdsTimesAndSizesFollowTheRules) {
  Generator gen({.seed = 5});
  int64_t next_person = 1000, next_auction = 1000;
  Timestamp last_time = gen.timestamp(0);
  std::set<std::string_view> channels;
  Event e;
  for (uint64_t n = 0; n < 200'000; ++n) {
    gen.event(n, e);
    Timestamp t = gen.timestamp(n);
    ASSERT_EQ(t, 1767225600000 + static_cast<int64_t>(n / 10));
    ASSERT_GE(t, last_time);
    last_time = t;
    switch (e.kind) {
      case EventKind::kPerson:
        ASSERT_EQ(e.person.id, next_person++);
        ASSERT_EQ(e.person.date_time, t);
        ASSERT_EQ(e.person.credit_card.size(), 19u);
        ASSERT_EQ(e.person.state.size(), 2u);
        ASSERT_NE(e.person.email_address.view().find('@'), std::string_view::npos);
        ASSERT_GT(e.person.extra.size(), 0u);
        break;
      case EventKind::kAuction:
        ASSERT_EQ(e.auction.id, next_auction++);
        ASSERT_EQ(e.auction.date_time, t);
        ASSERT_GT(e.auction.expires, t);
        ASSERT_GE(e.auction.category, 10);
        ASSERT_LE(e.auction.category, 14);
        ASSERT_GE(e.auction.initial_bid, 100);
        ASSERT_GT(e.auction.reserve, e.auction.initial_bid);
        ASSERT_LT(e.auction.seller, next_person + 10);
        break;
      case EventKind::kBid:
        ASSERT_EQ(e.bid.date_time, t);
        ASSERT_GE(e.bid.price, 100);
        ASSERT_LE(e.bid.price, 100'000'000);
        // Bids may name auctions and people up to 10 ids ahead (the leads), never further.
        ASSERT_GE(e.bid.auction, 1000);
        ASSERT_LT(e.bid.auction, next_auction + 10);
        ASSERT_GE(e.bid.auction, next_auction - 1 - 100);
        ASSERT_GE(e.bid.bidder, 1000);
        ASSERT_LT(e.bid.bidder, next_person + 10);
        ASSERT_GE(e.bid.bidder, next_person - 1000);
        // ~100 bytes: 32 of numbers and 54 to 81 of extra.
        ASSERT_GE(e.bid.extra.size(), 54u);
        ASSERT_LE(e.bid.extra.size(), 81u);
        ASSERT_EQ(e.bid.url.substr(0, 24), "https://www.nexmark.com/");
        channels.insert(e.bid.channel);
        break;
    }
  }
  EXPECT_GT(channels.size(), 5000u);  // hot channels plus many of the 10,000 others
  EXPECT_TRUE(channels.count("Google"));
}

TEST(NexmarkGeneratorTest, ChannelUrlsCarryBitReversedIds) {
  Generator gen({.seed = 9});
  Bid bid;
  int with_id = 0, without_id = 0;
  for (uint64_t n = 4; n < 50'000; n += 50) {
    gen.bid(n, bid);
    if (!bid.channel.starts_with("channel-")) continue;
    uint32_t i = static_cast<uint32_t>(std::stoul(std::string(bid.channel.substr(8))));
    uint32_t reversed = 0;
    for (int b = 0; b < 32; ++b) reversed |= ((i >> b) & 1u) << (31 - b);
    size_t at = bid.url.find("&channel_id=");
    if (at == std::string_view::npos) {
      ++without_id;
    } else {
      ++with_id;
      EXPECT_EQ(bid.url.substr(at + 12), std::to_string(reversed));
    }
  }
  EXPECT_GT(with_id, 4 * without_id);  // nine in ten
  EXPECT_GT(without_id, 0);
}

// Records outlive their generator: the strings they point to are the seed's immortal tables.
TEST(NexmarkGeneratorTest, RecordsStayValidAfterTheGeneratorIsGone) {
  std::vector<Bid> bids(100);
  {
    Generator gen({.seed = 123456});
    for (uint64_t i = 0; i < bids.size(); ++i) gen.bid(4 + i * 50, bids[i]);
  }
  Generator again({.seed = 123456});
  Bid bid;
  for (uint64_t i = 0; i < bids.size(); ++i) {
    again.bid(4 + i * 50, bid);
    EXPECT_EQ(bids[i], bid);
    EXPECT_EQ(bids[i].extra.data(), bid.extra.data());  // the same pool, built once
  }
}

TEST(NexmarkGeneratorTest, ContinuesFarIntoTheStream) {
  Generator gen({.event_rate = 10'000'000});
  uint64_t n = (uint64_t{1} << 60) + 4;
  ASSERT_EQ(Generator::kind_of(n), EventKind::kBid);
  Bid bid;
  gen.bid(n, bid);
  EXPECT_GT(bid.auction, 1000);
  EXPECT_EQ(bid.date_time,
            1767225600000 +
                static_cast<int64_t>((static_cast<unsigned __int128>(n) * 1000) / 10'000'000));
}

TEST(NexmarkFormatTest, EscapesJsonAsPython) {
  Bid bid;
  bid.channel = "q\"\\\x01\x7f\t\xc3\xa9\xf0\x9f\x98\x80\r\n\b\f";
  std::string json = to_json(bid);
  // json.dumps({"channel": "q\"\\\x01\x7f\té😀\r\n\b\f"}, separators=(",", ":"))
  EXPECT_NE(json.find(R"("channel":"q\"\\\u0001\u007f\t\u00e9\ud83d\ude00\r\n\b\f")"),
            std::string::npos)
      << json;
  EXPECT_TRUE(json.starts_with(R"({"kind":"bid","auction":0,)")) << json;
}

TEST(NexmarkFormatTest, QuotesCsvAsPython) {
  Bid bid;
  bid.channel = "a,b";
  bid.url = "c\"d";
  bid.extra = "e\nf";
  EXPECT_EQ(to_csv_row(bid), "0,0,0,\"a,b\",\"c\"\"d\",1970-01-01 00:00:00.000,\"e\nf\"");
  EXPECT_EQ(csv_header(EventKind::kBid), "auction,bidder,price,channel,url,date_time,extra");
}

}  // namespace
}  // namespace sluice::nexmark
