#include <algorithm>
#include <map>
#include <stdexcept>

#include <gtest/gtest.h>

#include "sluice/sluice.h"

namespace sluice {
namespace {

struct Event {
  uint64_t key;
  int64_t value;
};

TEST(PipelineTest, MapFilterCollect) {
  Environment env;
  std::vector<int64_t> out;
  env.generate(1000, [](uint64_t i) { return static_cast<int64_t>(i); })
      .map([](const int64_t& x) { return x * 2; })
      .filter([](const int64_t& x) { return x % 3 == 0; })
      .sink(sinks::collect(&out));
  ASSERT_TRUE(env.execute().is_ok());
  std::sort(out.begin(), out.end());
  std::vector<int64_t> expected;
  for (int64_t i = 0; i < 1000; ++i) {
    if ((i * 2) % 3 == 0) expected.push_back(i * 2);
  }
  EXPECT_EQ(out, expected);
}

class ParallelismTest : public ::testing::TestWithParam<std::tuple<int, size_t>> {};

TEST_P(ParallelismTest, KeyedCountIsIndependentOfParallelismAndBatchSize) {
  auto [parallelism, batch_size] = GetParam();
  JobOptions options;
  options.parallelism = parallelism;
  options.batch_size = batch_size;
  Environment env(options);
  std::vector<std::pair<uint64_t, int64_t>> out;
  env.generate(5000,
               [](uint64_t i) {
                 return Event{(i * 7919) % 37, static_cast<int64_t>(i)};
               })
      .key_by([](const Event& e) { return e.key; })
      .aggregate(
          int64_t{0}, [](int64_t& sum, const Event& e) { sum += e.value; },
          [](uint64_t key, int64_t sum) { return std::make_pair(key, sum); })
      .sink(sinks::collect(&out));
  Status s = env.execute();
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  ASSERT_EQ(out.size(), 5000u);
  std::map<uint64_t, int64_t> final_sum;
  for (auto& [k, v] : out) final_sum[k] = std::max(final_sum[k], v);
  std::map<uint64_t, int64_t> expected;
  for (uint64_t i = 0; i < 5000; ++i) expected[(i * 7919) % 37] += static_cast<int64_t>(i);
  EXPECT_EQ(final_sum, expected);
}

INSTANTIATE_TEST_SUITE_P(All, ParallelismTest,
                         ::testing::Combine(::testing::Values(1, 2, 4),
                                            ::testing::Values(size_t{1}, size_t{7}, size_t{1024})));

TEST(PipelineTest, ExceptionFailsJobWithOperatorName) {
  JobOptions options;
  options.parallelism = 2;
  Environment env(options);
  env.generate(UINT64_MAX, [](uint64_t i) { return i; })
      .map([](const uint64_t& x) {
        if (x == 5000) throw std::runtime_error("boom at 5000");
        return x;
      })
      .name("exploding map")
      .sink([](const uint64_t&) {});
  Status s = env.execute();
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), StatusCode::kFailed);
  EXPECT_NE(s.message().find("'exploding map'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("boom at 5000"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace sluice
