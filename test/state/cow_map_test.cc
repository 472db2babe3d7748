// CowMap: a hash map whose frozen views keep the state of the moment they were taken while the
// map goes on changing (the copy-on-write cut of checkpoints).
#include "sluice/detail/cow_map.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace sluice::detail {
namespace {

template <typename Key, typename Value>
std::map<Key, Value> contents(const typename CowMap<Key, Value>::Frozen& frozen) {
  std::map<Key, Value> m;
  frozen.for_each([&](const Key& k, const Value& v) { EXPECT_TRUE(m.emplace(k, v).second); });
  return m;
}

template <typename Key, typename Value>
std::map<Key, Value> contents(const CowMap<Key, Value>& map) {
  std::map<Key, Value> m;
  for (const auto& [k, v] : map) EXPECT_TRUE(m.emplace(k, v).second);
  EXPECT_EQ(m.size(), map.size());
  return m;
}

std::string key_text(uint64_t i) {
  std::string s = "key-";
  s += std::to_string(i);
  s.append(i % 7, 'x');
  return s;
}

TEST(CowMap, ViewsKeepTheirMomentWhileTheMapChanges) {
  // Random updates and inserts, the map growing all along, views taken and dropped on the way.
  std::mt19937_64 rng(7);
  CowMap<uint64_t, int64_t> map;
  std::map<uint64_t, int64_t> oracle;
  std::vector<std::pair<CowMap<uint64_t, int64_t>::Frozen, std::map<uint64_t, int64_t>>> views;
  for (int step = 0; step < 200'000; ++step) {
    const uint64_t k = rng() % (1 + static_cast<uint64_t>(step) / 4);
    const int64_t d = static_cast<int64_t>(rng() % 100);
    map.try_emplace(k, 5).first->second += d;
    auto [it, inserted] = oracle.try_emplace(k, 5);
    it->second += d;
    if (step % 9'973 == 0) views.emplace_back(map.freeze(), oracle);
    if (step % 31'337 == 0 && !views.empty()) views.erase(views.begin());  // a view let go early
  }
  EXPECT_EQ(contents(map), oracle);
  ASSERT_GE(views.size(), 10u);
  for (const auto& [view, then] : views) EXPECT_EQ((contents<uint64_t, int64_t>(view)), then);
  for (const auto& [k, v] : oracle) ASSERT_EQ(*map.find(k), v);
  EXPECT_EQ(map.find(uint64_t{1} << 60), nullptr);
}

TEST(CowMap, StringKeysAreCopiedNotShared) {
  CowMap<std::string, std::string> map;
  std::map<std::string, std::string> oracle;
  std::vector<std::pair<CowMap<std::string, std::string>::Frozen, decltype(oracle)>> views;
  for (uint64_t i = 0; i < 30'000; ++i) {
    const std::string k = key_text(i % 7'919);
    const std::string v(1, static_cast<char>('a' + i % 10));
    map[k] += v;
    oracle[k] += v;
    if (i % 4'999 == 0) views.emplace_back(map.freeze(), oracle);
  }
  EXPECT_EQ(contents(map), oracle);
  for (const auto& [view, then] : views)
    EXPECT_EQ((contents<std::string, std::string>(view)), then);
}

// Erasing leaves tombstones or empty slots; every remaining key stays reachable, views keep the
// erased entries of their moment, and a table full of tombstones is rebuilt rather than grown.
TEST(CowMap, EraseKeepsEveryOtherKeyReachable) {
  std::mt19937_64 rng(11);
  CowMap<uint64_t, int64_t> map;
  std::map<uint64_t, int64_t> oracle;
  std::vector<std::pair<CowMap<uint64_t, int64_t>::Frozen, std::map<uint64_t, int64_t>>> views;
  for (int step = 0; step < 300'000; ++step) {
    const uint64_t k = rng() % 3'000;
    if (rng() % 3 == 0) {
      map.erase(k);
      oracle.erase(k);
    } else {
      map[k] += 1;
      oracle[k] += 1;
    }
    if (step % 29'989 == 0) views.emplace_back(map.freeze(), oracle);
  }
  EXPECT_EQ(contents(map), oracle);
  for (uint64_t k = 0; k < 3'000; ++k) {
    const int64_t* v = map.find(k);
    ASSERT_EQ(v != nullptr, oracle.count(k) == 1) << k;
    if (v != nullptr) {
      ASSERT_EQ(*v, oracle.at(k));
    }
  }
  EXPECT_LE(map.capacity(), 8'192u);  // 3,000 keys at most: tombstones did not double it
  for (const auto& [view, then] : views) EXPECT_EQ((contents<uint64_t, int64_t>(view)), then);
}

// The iterator steps a group of 16 control bytes at a time: a sparse table (most groups empty,
// tombstones in the others), from empty to full, yields every entry once.
TEST(CowMap, IterationVisitsEveryEntryOfASparseTable) {
  CowMap<uint64_t, int64_t> map;
  EXPECT_TRUE(map.begin() == map.end());
  map.reserve(1 << 16);
  std::map<uint64_t, int64_t> oracle;
  for (uint64_t n : {1u, 2u, 15u, 16u, 17u, 100u, 3'000u}) {
    for (uint64_t k = oracle.size(); k < n; ++k) {
      map[k * 7'919] = static_cast<int64_t>(k);
      oracle[k * 7'919] = static_cast<int64_t>(k);
    }
    EXPECT_EQ(contents(map), oracle) << n;
  }
  for (uint64_t k = 0; k < 3'000; k += 2) {
    map.erase(k * 7'919);
    oracle.erase(k * 7'919);
  }
  EXPECT_EQ(contents(map), oracle);
}

TEST(CowMap, CopiesAndMovesAreIndependent) {
  CowMap<uint64_t, int64_t> a;
  for (uint64_t i = 0; i < 5'000; ++i) a[i] = static_cast<int64_t>(i);
  auto view = a.freeze();
  CowMap<uint64_t, int64_t> b = a;
  b[1] = -1;
  a[2] = -2;
  EXPECT_EQ(*a.find(1), 1);
  EXPECT_EQ(*b.find(2), 2);
  CowMap<uint64_t, int64_t> c = std::move(b);
  EXPECT_EQ(*c.find(1), -1);
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ((contents<uint64_t, int64_t>(view)).at(2), 2);
  a.reserve(100'000);
  EXPECT_GE(a.capacity(), 100'000u);
  EXPECT_EQ(*a.find(2), -2);
}

// The checkpoint writer reads a view on its own thread while the task updates every key: the
// writer sees exactly the values of the cut (ThreadSanitizer checks the handover).
TEST(CowMap, AWriterThreadReadsTheCutWhileTheTaskWrites) {
  constexpr uint64_t kKeys = 200'000;
  CowMap<uint64_t, int64_t> map;
  for (uint64_t k = 0; k < kKeys; ++k) map[k] = 1;
  for (int round = 0; round < 5; ++round) {
    auto view = std::make_shared<CowMap<uint64_t, int64_t>::Frozen>(map.freeze());
    std::atomic<int64_t> seen{0};
    std::thread writer([view, &seen] {
      int64_t sum = 0;
      view->for_each([&](uint64_t, int64_t v) { sum += v; });
      view->reset();
      seen = sum;
    });
    view.reset();
    for (uint64_t k = 0; k < kKeys; ++k) map.try_emplace(k, 0).first->second += 1;
    for (uint64_t k = kKeys; k < kKeys + 1'000; ++k) map[k] = 0;  // and it grows meanwhile
    writer.join();
    EXPECT_EQ(seen.load(), static_cast<int64_t>(kKeys) * (round + 1));
  }
}

}  // namespace
}  // namespace sluice::detail
