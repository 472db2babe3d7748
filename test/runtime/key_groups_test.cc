// Key groups: every key group belongs to exactly one subtask, ranges are contiguous and balanced,
// and routing by key is a pure function of the key.
#include "sluice/detail/key_groups.h"

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sluice/detail/exchange.h"

namespace sluice::detail {
namespace {

TEST(KeyGroupsTest, EveryKeyGroupHasOneSubtaskInContiguousBalancedRanges) {
  for (int max_p : {1, 2, 7, 128, 1000}) {
    for (int p = 1; p <= max_p && p <= 130; ++p) {
      std::vector<int> size(p, 0);
      int prev = 0;
      for (int kg = 0; kg < max_p; ++kg) {
        const int s = subtask_of_key_group(kg, max_p, p);
        ASSERT_GE(s, 0) << max_p << " " << p << " " << kg;
        ASSERT_LT(s, p) << max_p << " " << p << " " << kg;
        // Non-decreasing in the key group, never skipping a subtask: contiguous ranges.
        ASSERT_TRUE(s == prev || s == prev + 1) << max_p << " " << p << " " << kg;
        prev = s;
        ++size[s];
      }
      EXPECT_EQ(prev, p - 1);
      int lo = max_p, hi = 0;
      for (int n : size) {
        lo = std::min(lo, n);
        hi = std::max(hi, n);
      }
      EXPECT_GE(lo, 1) << "every subtask owns a key group: " << max_p << " " << p;
      EXPECT_LE(hi - lo, 1) << "ranges are balanced: " << max_p << " " << p;
    }
  }
}

TEST(KeyGroupsTest, KeyGroupIsInRangeAndIndependentOfParallelism) {
  for (uint64_t h : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, ~uint64_t{0},
                     uint64_t{0x8000000000000000ull}}) {
    const int kg = key_group_of(h, 128);
    EXPECT_GE(kg, 0);
    EXPECT_LT(kg, 128);
    EXPECT_EQ(kg, static_cast<int>(((h >> 32) * 128) >> 32));
  }
}

// Routing never splits a key group: at any parallelism, all keys of one key group reach the same
// subtask, so state kept per key group can move as a whole when the parallelism changes.
TEST(KeyGroupsTest, RoutingNeverSplitsAKeyGroup) {
  auto key = [](uint64_t k) { return k; };
  for (int p = 1; p <= 16; ++p) {
    HashRouter<decltype(key)> router{key, 128, p, nullptr};
    router.prepare();
    std::vector<int> owner(128, -1);
    for (uint64_t k = 0; k < 5000; ++k) {
      const int kg = key_group_of(hash_key(k), 128);
      const int s = router(k);
      if (owner[kg] == -1) owner[kg] = s;
      ASSERT_EQ(owner[kg], s) << "key group " << kg << " split at parallelism " << p;
    }
  }
}

TEST(KeyGroupsTest, HashRoutingIsStableAndSpreads) {
  auto key = [](const std::string& s) { return s; };
  HashRouter<decltype(key)> router{key, 128, 4, nullptr};
  router.prepare();
  std::set<int> used;
  for (int i = 0; i < 1000; ++i) {
    std::string row = "key-";
    row += std::to_string(i);
    const int first = router(row);
    ASSERT_GE(first, 0);
    ASSERT_LT(first, 4);
    // The same key always lands on the same subtask, through a copy of the router too.
    HashRouter<decltype(key)> copy = router;
    EXPECT_EQ(router(row), first);
    EXPECT_EQ(copy(std::string(row)), first);
    EXPECT_EQ(first, subtask_of_key_group(key_group_of(hash_key(row), 128), 128, 4));
    used.insert(first);
  }
  EXPECT_EQ(used.size(), 4u);  // 1000 keys reach every subtask
}

}  // namespace
}  // namespace sluice::detail
