#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

#include "sluice/sluice.h"

namespace sluice {
namespace {

struct Event {
  uint64_t key;
  int64_t time;
  int64_t value;
};

TEST(WindowSmokeTest, TumblingCount) {
  Environment env;
  std::vector<WindowResult<uint64_t, int64_t>> out;
  env.generate(1000,
               [](uint64_t i) {
                 return Event{i % 3, static_cast<int64_t>(i), 1};
               })
      .assign_timestamps([](const Event& e) { return e.time; }, 0)
      .key_by([](const Event& e) { return e.key; })
      .window(Tumbling{100})
      .count()
      .sink(sinks::collect(&out));
  Status s = env.execute();
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(out.size(), 30u);
  int64_t total = 0;
  for (auto& r : out) total += r.value;
  EXPECT_EQ(total, 1000);
}

}  // namespace
}  // namespace sluice
