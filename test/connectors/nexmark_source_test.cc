#include "sluice/connectors/nexmark_source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "connectors/striped_source_runs.h"
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

// The operators of a source node, made as the runtime makes them for each subtask.
template <typename Row>
std::function<std::unique_ptr<detail::Operator>()> operators_of(Stream<Row> stream) {
  return [graph = &stream.environment()->graph(), node = stream.node()] {
    return graph->node(node).make_operator();
  };
}

template <typename Row>
std::vector<std::string> json_of(const std::vector<Row>& rows) {
  std::vector<std::string> out;
  for (const Row& r : rows) out.push_back(to_json(r));
  return sorted(std::move(out));
}

// Cut at a ragged edge and restored at another parallelism, once or twice: the rows of all runs
// are the stream's, each once.
TEST(NexmarkSourceTest, RestoresAtAnyParallelism) {
  NexmarkOptions opts;
  opts.seed = kSeed;
  opts.events = 3000;
  opts.first_event = 123;
  const std::vector<std::string> all = expected_events(123, 3000, false);
  const std::vector<std::string> only_bids = expected_events(0, 3000, true);
  const auto polls = [](size_t run, int s) { return run == 0 ? (s * 3) % 7 : s % 2; };
  for (const std::vector<int>& ps : std::vector<std::vector<int>>{
           {1, 4}, {2, 3}, {3, 1}, {4, 2}, {4, 2, 3}, {2, 3, 1}, {3, 5, 2}}) {
    SCOPED_TRACE(::testing::Message() << "parallelism " << ps[0] << " -> " << ps[1]
                                      << (ps.size() > 2 ? " -> " + std::to_string(ps[2]) : ""));
    Environment env(with_parallelism(1));
    auto events =
        testing::run_through_rescales<Event>(operators_of(source(env, opts)), ps, 8, polls);
    EXPECT_EQ(json_of(events.rows), all);
    NexmarkOptions from_zero = opts;
    from_zero.first_event = 0;
    auto bid_runs =
        testing::run_through_rescales<Bid>(operators_of(bids(env, from_zero)), ps, 8, polls);
    EXPECT_EQ(json_of(bid_runs.rows), only_bids);
    bool inside = false;
    for (const std::string& o : events.offsets.back()) {
      inside |= o.find("skipping") != std::string::npos;
    }
    EXPECT_TRUE(ps.size() < 3 || inside) << "the last cut was not inside the ragged region";
  }
}

// Pacing after a restore covers the numbers still to make at `rate`, from the restore on; the
// numbers the old run made are skipped without being waited for.
TEST(NexmarkSourceTest, PacesTheRestAfterARestore) {
  NexmarkOptions opts;
  opts.events = 100'000;
  opts.base_time = 0;
  Environment env(with_parallelism(1));
  const auto make = operators_of(source(env, opts));
  // Subtask 0 of 2 made 0, 2, ..., 46; subtask 1 made 1, 3, ..., 207.
  const auto old = testing::run_through_rescales<Event>(
      make, {2}, 8, [](size_t, int s) { return 10 * s + 3; }, true);
  NexmarkOptions paced = opts;
  paced.rate = 300;           // 100 numbers per second for each of 3 subtasks
  paced.event_rate = 10'000;  // event time as in the cut run
  testing::RowsOutput<Event> out;
  auto subtask = testing::open_subtask(operators_of(source(env, paced)), 1, 3, 8, out, old.cut);
  ASSERT_NE(subtask, nullptr);
  const int64_t t0 = 7'000'000;
  EXPECT_EQ(subtask->poll(t0), detail::SourceState::kMore);
  EXPECT_EQ(subtask->poll(t0), detail::SourceState::kIdle);
  EXPECT_EQ(subtask->next_poll_us(), t0 + 10'000);
  while (subtask->poll(t0 + 1'000'000) == detail::SourceState::kMore) {
  }
  ASSERT_EQ(out.rows.size(), 101u);  // one at the start, then 100 per second
  Generator gen({.seed = 0, .base_time_ms = 0, .event_rate = 10'000});
  std::vector<std::string> made;
  for (uint64_t n = 52; made.size() < 101; n += 3) {
    if (n < 209 && n % 2 == 1) continue;  // made before the cut
    Event e;
    gen.event(n, e);
    made.push_back(to_json(e));
  }
  EXPECT_EQ(json_of(out.rows), sorted(made));
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
