// End to end: every pipeline shape gives the same multiset of results at parallelism 1, 2 and 4
// and batch sizes 1, 7 and 1024, equal to what a plain loop computes.
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "sluice/detail/key_groups.h"
#include "sluice/sluice.h"

namespace sluice {
namespace {

// Concatenates with a stream (GCC 12 at -O3 warns falsely, -Wrestrict, on "literal" + std::string).
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

constexpr uint64_t kRows = 20'000;

struct Event {
  uint64_t key;
  int64_t value;
  bool operator==(const Event&) const = default;
  bool operator<(const Event& o) const { return std::tie(key, value) < std::tie(o.key, o.value); }
};

Event event_of(uint64_t i) { return Event{(i * 7919) % 53, static_cast<int64_t>(i % 1000) + 1}; }

// A sink that keeps the rows of each subtask apart: rows[subtask] holds what it received.
template <typename T>
class PerSubtaskSink {
 public:
  struct Shared {
    std::mutex mutex;
    std::map<int, std::vector<T>> rows;
    int parallelism = 0;
  };
  explicit PerSubtaskSink(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
  void open(int subtask, int parallelism) {
    subtask_ = subtask;
    std::lock_guard<std::mutex> lock(shared_->mutex);
    shared_->parallelism = parallelism;
    shared_->rows[subtask];  // a subtask that receives nothing still shows up
  }
  void write(std::span<const T> rows) { local_.insert(local_.end(), rows.begin(), rows.end()); }
  void finish() {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    auto& out = shared_->rows[subtask_];
    out.insert(out.end(), local_.begin(), local_.end());
  }

 private:
  std::shared_ptr<Shared> shared_;
  int subtask_ = -1;
  std::vector<T> local_;
};

template <typename T>
std::vector<T> sorted(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v;
}

class ResultsTest : public ::testing::TestWithParam<std::tuple<int, size_t>> {
 protected:
  JobOptions options() const {
    JobOptions o;
    o.parallelism = std::get<0>(GetParam());
    o.batch_size = std::get<1>(GetParam());
    o.handle_signals = false;
    return o;
  }
  int parallelism() const { return std::get<0>(GetParam()); }
  static void run(Environment& env) {
    Status s = env.execute();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
  }
};

TEST_P(ResultsTest, MapFilterFlatMapChain) {
  Environment env(options());
  std::vector<int64_t> out;
  env.generate(kRows, [](uint64_t i) { return static_cast<int64_t>(i); })
      .map([](const int64_t& x) { return x * 3 + 1; })
      .filter([](const int64_t& x) { return x % 2 == 0; })
      .flat_map<int64_t>([](const int64_t& x, Collector<int64_t>& c) {
        for (int64_t k = 0; k < x % 4; ++k) c.emit(x * 10 + k);  // 0..3 outputs per row
      })
      .map([](const int64_t& x) { return x - 5; })
      .sink(sinks::collect(&out));
  run(env);
  std::vector<int64_t> expected;
  for (uint64_t i = 0; i < kRows; ++i) {
    const int64_t x = static_cast<int64_t>(i) * 3 + 1;
    if (x % 2 != 0) continue;
    for (int64_t k = 0; k < x % 4; ++k) expected.push_back(x * 10 + k - 5);
  }
  EXPECT_EQ(sorted(out), sorted(expected));
}

// With one source subtask the rows of each key arrive in order, so even the running values of
// reduce are exactly those of a loop.
TEST_P(ResultsTest, KeyedReduceFromOneSourceMatchesLoopExactly) {
  Environment env(options());
  std::vector<Event> out;
  GeneratorOptions gen;
  gen.parallelism = 1;
  env.generate(kRows, event_of, gen)
      .key_by([](const Event& e) { return e.key; })
      .reduce([](const Event& acc, const Event& e) {
        return Event{e.key, acc.value + e.value};
      })
      .sink(sinks::collect(&out));
  run(env);
  std::map<uint64_t, int64_t> sum;
  std::vector<Event> expected;
  for (uint64_t i = 0; i < kRows; ++i) {
    Event e = event_of(i);
    sum[e.key] += e.value;
    expected.push_back(Event{e.key, sum[e.key]});
  }
  EXPECT_EQ(sorted(out), sorted(expected));
}

// Every row updates its key once, on the one subtask that owns it: per key, the row count and
// the final value match the loop whatever the arrival order.
TEST_P(ResultsTest, KeyedReduceFromParallelSources) {
  Environment env(options());
  auto shared = std::make_shared<PerSubtaskSink<Event>::Shared>();
  env.generate(kRows, event_of)
      .key_by([](const Event& e) { return e.key; })
      .reduce([](const Event& acc, const Event& e) {
        return Event{e.key, acc.value + e.value};
      })
      .sink(PerSubtaskSink<Event>(shared));
  run(env);
  std::map<uint64_t, int64_t> expected_sum, expected_count;
  for (uint64_t i = 0; i < kRows; ++i) {
    expected_sum[event_of(i).key] += event_of(i).value;
    ++expected_count[event_of(i).key];
  }
  std::map<uint64_t, int64_t> max_seen, count;
  std::map<uint64_t, int> owner;
  for (auto& [subtask, rows] : shared->rows) {
    for (const Event& e : rows) {
      max_seen[e.key] = std::max(max_seen[e.key], e.value);
      ++count[e.key];
      auto [it, fresh] = owner.emplace(e.key, subtask);
      EXPECT_EQ(it->second, subtask) << "key " << e.key << " reduced on two subtasks";
    }
  }
  EXPECT_EQ(max_seen, expected_sum);
  EXPECT_EQ(count, expected_count);
}

// Rows routed by one key reach a task whose chained keyed operator groups them by another: the
// key hashes the first exchange sent are not that operator's, and it must not use them.
TEST_P(ResultsTest, AChainedKeyedOperatorHashesItsOwnKey) {
  Environment env(options());
  std::vector<std::pair<uint64_t, int64_t>> out;
  env.generate(kRows, event_of)
      .partition_by([](const Event& e) { return e.key; })
      .map([](const Event& e) {
        return Event{e.key % 7, e.value};
      })
      .parallelism(1)
      .key_by([](const Event& e) { return e.key; })
      .aggregate(
          int64_t{0}, [](int64_t& n, const Event&) { ++n; },
          [](uint64_t key, int64_t n) { return std::pair(key, n); })
      .parallelism(1)
      .sink(sinks::collect(&out));
  run(env);
  std::map<uint64_t, int64_t> last;
  for (const auto& [key, n] : out) last[key] = std::max(last[key], n);
  std::map<uint64_t, int64_t> expected;
  for (uint64_t i = 0; i < kRows; ++i) ++expected[event_of(i).key % 7];
  EXPECT_EQ(last, expected);
}

TEST_P(ResultsTest, RebalanceKeepsEveryRow) {
  Environment env(options());
  std::vector<uint64_t> out;
  GeneratorOptions gen;
  gen.parallelism = 1;
  env.generate(
         kRows, [](uint64_t i) { return i; }, gen)
      .rebalance()
      .map([](const uint64_t& x) { return x * 2; })
      .sink(sinks::collect(&out));
  run(env);
  std::vector<uint64_t> expected;
  for (uint64_t i = 0; i < kRows; ++i) expected.push_back(i * 2);
  EXPECT_EQ(sorted(out), expected);
}

TEST_P(ResultsTest, BroadcastDeliversEveryRowToEverySubtask) {
  Environment env(options());
  auto shared = std::make_shared<PerSubtaskSink<uint64_t>::Shared>();
  env.generate(kRows, [](uint64_t i) { return i; })
      .broadcast()
      .sink(PerSubtaskSink<uint64_t>(shared));
  run(env);
  std::vector<uint64_t> all;
  for (uint64_t i = 0; i < kRows; ++i) all.push_back(i);
  ASSERT_EQ(static_cast<int>(shared->rows.size()), parallelism());
  for (auto& [subtask, rows] : shared->rows) EXPECT_EQ(sorted(rows), all) << "subtask " << subtask;
}

TEST_P(ResultsTest, UnionOfThreeStreams) {
  Environment env(options());
  std::vector<int64_t> out;
  auto a = env.generate(kRows, [](uint64_t i) { return static_cast<int64_t>(i); });
  auto b = env.generate(kRows / 2, [](uint64_t i) { return static_cast<int64_t>(i); })
               .map([](const int64_t& x) { return x + 1'000'000; });
  GeneratorOptions one;
  one.parallelism = 1;
  auto c = env.generate(
      kRows / 3, [](uint64_t i) { return -static_cast<int64_t>(i) - 1; }, one);
  a.union_with(b, c).map([](const int64_t& x) { return x * 2; }).sink(sinks::collect(&out));
  run(env);
  std::vector<int64_t> expected;
  for (uint64_t i = 0; i < kRows; ++i) expected.push_back(static_cast<int64_t>(i) * 2);
  for (uint64_t i = 0; i < kRows / 2; ++i)
    expected.push_back((static_cast<int64_t>(i) + 1'000'000) * 2);
  for (uint64_t i = 0; i < kRows / 3; ++i) expected.push_back((-static_cast<int64_t>(i) - 1) * 2);
  EXPECT_EQ(sorted(out), sorted(expected));
}

TEST_P(ResultsTest, PartitionByRoutesEachKeyToItsKeyGroupOwner) {
  Environment env(options());
  auto shared = std::make_shared<PerSubtaskSink<Event>::Shared>();
  env.generate(kRows, event_of)
      .partition_by([](const Event& e) { return e.key; })
      .sink(PerSubtaskSink<Event>(shared));
  run(env);
  std::vector<Event> all, expected;
  for (auto& [subtask, rows] : shared->rows) {
    for (const Event& e : rows) {
      const int owner = detail::subtask_of_key_group(
          detail::key_group_of(detail::hash_key(e.key), 128), 128, parallelism());
      EXPECT_EQ(subtask, owner) << "key " << e.key;
      all.push_back(e);
    }
  }
  for (uint64_t i = 0; i < kRows; ++i) expected.push_back(event_of(i));
  EXPECT_EQ(sorted(all), sorted(expected));
}

// disable_chaining puts each operator in a task of its own, joined by channels even at
// parallelism 1.
TEST_P(ResultsTest, UnchainedOperatorsGoThroughChannels) {
  Environment env(options());
  std::vector<uint64_t> out;
  env.generate(kRows, [](uint64_t i) { return i; })
      .map([](const uint64_t& x) { return x + 7; })
      .disable_chaining()
      .filter([](const uint64_t& x) { return x % 3 != 0; })
      .disable_chaining()
      .map([](const uint64_t& x) { return x * 5; })
      .disable_chaining()
      .sink(sinks::collect(&out));
  run(env);
  EXPECT_EQ(env.stats().tasks, 4 * parallelism());  // the sink chains to the last map
  EXPECT_EQ(env.stats().channels, 3 * parallelism());
  std::vector<uint64_t> expected;
  for (uint64_t i = 0; i < kRows; ++i) {
    if ((i + 7) % 3 != 0) expected.push_back((i + 7) * 5);
  }
  EXPECT_EQ(sorted(out), expected);
}

// A node with two consumers: each gets every row, and in-place operators downstream of one
// consumer do not disturb the other.
TEST_P(ResultsTest, FanOutToTwoConsumers) {
  Environment env(options());
  std::vector<int64_t> doubled, odd, keyed;
  auto base = env.generate(kRows, [](uint64_t i) { return static_cast<int64_t>(i); })
                  .map([](const int64_t& x) { return x + 1; });
  base.map([](const int64_t& x) { return x * 2; }).sink(sinks::collect(&doubled));
  base.filter([](const int64_t& x) { return x % 2 == 1; }).sink(sinks::collect(&odd));
  base.key_by([](const int64_t& x) { return x % 10; })
      .aggregate(
          int64_t{0}, [](int64_t& n, const int64_t&) { ++n; }, [](int64_t, int64_t n) { return n; })
      .sink(sinks::collect(&keyed));
  run(env);
  std::vector<int64_t> e_doubled, e_odd, e_keyed;
  for (uint64_t i = 0; i < kRows; ++i) {
    const int64_t x = static_cast<int64_t>(i) + 1;
    e_doubled.push_back(x * 2);
    if (x % 2 == 1) e_odd.push_back(x);
  }
  for (uint64_t k = 0; k < 10; ++k) {
    for (int64_t n = 1; n <= static_cast<int64_t>(kRows / 10); ++n) e_keyed.push_back(n);
  }
  EXPECT_EQ(sorted(doubled), e_doubled);
  EXPECT_EQ(sorted(odd), e_odd);
  EXPECT_EQ(sorted(keyed), sorted(e_keyed));
}

INSTANTIATE_TEST_SUITE_P(All, ResultsTest,
                         ::testing::Combine(::testing::Values(1, 2, 4),
                                            ::testing::Values(size_t{1}, size_t{7}, size_t{1024})),
                         [](const auto& info) {
                           return cat("p", std::get<0>(info.param), "_batch",
                                      std::get<1>(info.param));
                         });

}  // namespace
}  // namespace sluice
