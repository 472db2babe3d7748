#include "sluice/connectors/nexmark_source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sluice/sinks.h"

namespace sluice::nexmark {
namespace {

constexpr uint64_t kSeed = 42;

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// The events [first, first + count) straight from the generator, as JSON lines.
std::vector<std::string> expected_events(uint64_t first, uint64_t count, bool bids_only,
                                         GeneratorConfig config = {.seed = kSeed}) {
  Generator gen(config);
  std::vector<std::string> out;
  Event e;
  for (uint64_t n = first; n < first + count; ++n) {
    gen.event(n, e);
    if (bids_only && e.kind != EventKind::kBid) continue;
    out.push_back(to_json(e));
  }
  return sorted(std::move(out));
}

JobOptions with_parallelism(int p) {
  JobOptions options;
  options.parallelism = p;
  options.batch_size = 100;  // several batches per subtask
  options.handle_signals = false;
  return options;
}

class NexmarkSourceTest : public ::testing::TestWithParam<int> {};

TEST_P(NexmarkSourceTest, EventsEqualTheGeneratorAtAnyParallelism) {
  Environment env(with_parallelism(GetParam()));
  NexmarkOptions opts;
  opts.seed = kSeed;
  opts.events = 5000;
  opts.first_event = 123;
  std::vector<Event> out;
  source(env, opts).sink(sinks::collect(&out));
  Status s = env.execute();
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  std::vector<std::string> got;
  for (const Event& e : out) got.push_back(to_json(e));
  EXPECT_EQ(sorted(got), expected_events(123, 5000, false));
}

TEST_P(NexmarkSourceTest, BidsAreTheBidsOfTheFullStream) {
  Environment env(with_parallelism(GetParam()));
  NexmarkOptions opts;
  opts.seed = kSeed;
  opts.events = 5000;
  std::vector<Bid> out;
  bids(env, opts).sink(sinks::collect(&out));
  Status s = env.execute();
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  std::vector<std::string> got;
  for (const Bid& b : out) got.push_back(to_json(b));
  std::vector<std::string> expected = expected_events(0, 5000, true);
  EXPECT_EQ(got.size(), 4600u);  // 46 of every 50
  EXPECT_EQ(sorted(got), expected);
}

INSTANTIATE_TEST_SUITE_P(Parallelism, NexmarkSourceTest, ::testing::Values(1, 2, 3));

TEST(NexmarkSourceTest, PersonsAndAuctionsHaveTheirShareOfNumbers) {
  Environment env(with_parallelism(2));
  NexmarkOptions opts;
  opts.events = 1000;
  std::vector<Person> people;
  std::vector<Auction> auctions_out;
  persons(env, opts).sink(sinks::collect(&people));
  auctions(env, opts).sink(sinks::collect(&auctions_out));
  ASSERT_TRUE(env.execute().is_ok());
  EXPECT_EQ(people.size(), 20u);
  EXPECT_EQ(auctions_out.size(), 60u);
}

TEST(NexmarkSourceTest, ThrottledSourceFollowsTheClock) {
  Environment env(with_parallelism(2));
  NexmarkOptions opts;
  opts.events = 400;
  opts.rate = 4000;  // about 0.1 s
  const Timestamp before = wall_clock_millis();
  std::vector<Bid> out;
  bids(env, opts).sink(sinks::collect(&out));
  ASSERT_TRUE(env.execute().is_ok());
  EXPECT_GE(env.stats().seconds, 0.08);
  ASSERT_FALSE(out.empty());
  // base_time is the start and event_rate the rate: event n is at start + n / 4 ms.
  Timestamp first = out.front().date_time;
  for (const Bid& b : out) first = std::min(first, b.date_time);
  EXPECT_GE(first, before);
  EXPECT_LE(first, before + 1000);
  Generator gen({.seed = 0, .base_time_ms = 0, .event_rate = 4000});
  for (const Bid& b : out) EXPECT_LE(b.date_time - first, gen.timestamp(399) + 1);
}

TEST(NexmarkSourceTest, InvalidOptionsFailTheJobNamingTheSource) {
  Environment env(with_parallelism(1));
  NexmarkOptions opts;
  opts.events = 10;
  opts.event_rate = 0;
  opts.name = "auction feed";
  std::vector<Bid> out;
  bids(env, opts).sink(sinks::collect(&out));
  Status s = env.execute();
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("auction feed"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("event_rate"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace sluice::nexmark
