// Key groups: every key group belongs to exactly one subtask, ranges are contiguous and balanced,
// and routing by key is a pure function of the key.
#include "sluice/detail/key_groups.h"

#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "sluice/detail/exchange.h"
#include "sluice/fixed_string.h"

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

// The hash that picks a key's group is part of every checkpoint and of what processes sharing a
// job agree on: these values must never change (a change would scatter restored keyed state over
// the wrong subtasks). A new key type adds a line; an existing line never changes.
TEST(KeyGroupsTest, KeyHashesAreFixedValues) {
  EXPECT_EQ(hash_key(uint64_t{0}), 0x0ull);
  EXPECT_EQ(hash_key(int64_t{-1}), 0xb4d055fcf2cbbd7bull);
  EXPECT_EQ(hash_key(int32_t{1000}), 0xc1936642eba4ead7ull);
  EXPECT_EQ(hash_key(uint16_t{1000}), 0xc1936642eba4ead7ull);  // the value, not the width
  EXPECT_EQ(hash_key(2.5), 0xf53d8805b0b9e2b1ull);
  EXPECT_EQ(hash_key(2.5f), 0xf53d8805b0b9e2b1ull);
  EXPECT_EQ(hash_key(-0.0), hash_key(0.0));
  EXPECT_EQ(hash_key(std::string("")), 0xe220a8397b1dcdafull);
  EXPECT_EQ(hash_key(std::string("auction")), 0x9005dbcf003d69d2ull);
  EXPECT_EQ(hash_key(std::string_view("auction")), 0x9005dbcf003d69d2ull);
  FixedString<16> fixed;
  fixed.assign("auction");
  EXPECT_EQ(hash_key(fixed), 0x9005dbcf003d69d2ull);
  EXPECT_EQ(hash_key(std::string("a key longer than eight bytes")), 0x48d39127240694aaull);
  EXPECT_EQ(hash_key(std::pair<int64_t, std::string>(7, "x")), 0xc3ab30c9055ec1deull);
  EXPECT_EQ(hash_key(std::tuple<int, double, std::string>(1, 0.5, "y")), 0x3da5a8bfda03971cull);
}

struct Station {
  int64_t id;
  std::string region;
};
uint64_t sluice_hash(const Station& s) { return mix64(hash_key(s.id) * 31 + hash_key(s.region)); }
struct NoHash {
  int x;
};

// A user key type hashes through its own sluice_hash, found by argument-dependent lookup; a type
// without one has no hash (key_by and partition_by refuse it at compile time).
TEST(KeyGroupsTest, AUserKeyTypeHashesThroughItsSluiceHash) {
  static_assert(kHashableKey<Station>);
  static_assert(!kHashableKey<NoHash>);
  static_assert(kHashableKey<std::pair<Station, int>>);
  EXPECT_EQ(hash_key(Station{4, "north"}), mix64(hash_key(int64_t{4}) * 31 + hash_key("north")));
}

}  // namespace
}  // namespace sluice::detail
