// SpscRing: ordering, full/empty, wrap-around of the indices, and a two-thread stress run.
#include "runtime/spsc_ring.h"

#include <cstdint>
#include <thread>

#include <gtest/gtest.h>

namespace sluice::runtime {
namespace {

TEST(SpscRingTest, EmptyRingPopsNothing) {
  SpscRing<uint64_t> ring(8);
  EXPECT_EQ(ring.capacity(), 8u);
  EXPECT_TRUE(ring.empty_for_consumer());
  EXPECT_FALSE(ring.full_for_producer());
  uint64_t v = 99;
  EXPECT_FALSE(ring.try_pop(v));
  EXPECT_EQ(v, 99u);
  EXPECT_EQ(ring.size_approx(), 0u);
}

TEST(SpscRingTest, HoldsExactlyCapacityThenRefuses) {
  SpscRing<uint64_t> ring(4);
  for (uint64_t i = 0; i < 4; ++i) EXPECT_TRUE(ring.try_push(i)) << i;
  EXPECT_TRUE(ring.full_for_producer());
  EXPECT_FALSE(ring.try_push(100));
  EXPECT_EQ(ring.size_approx(), 4u);
  uint64_t v = 0;
  ASSERT_TRUE(ring.try_pop(v));
  EXPECT_EQ(v, 0u);
  EXPECT_FALSE(ring.full_for_producer());
  EXPECT_TRUE(ring.try_push(4));
  EXPECT_FALSE(ring.try_push(5));
  for (uint64_t i = 1; i <= 4; ++i) {
    ASSERT_TRUE(ring.try_pop(v));
    EXPECT_EQ(v, i);
  }
  EXPECT_TRUE(ring.empty_for_consumer());
  EXPECT_FALSE(ring.try_pop(v));
}

TEST(SpscRingTest, CapacityOneAlternates) {
  SpscRing<int> ring(1);
  int v = 0;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(ring.try_push(i));
    ASSERT_FALSE(ring.try_push(i));
    ASSERT_TRUE(ring.try_pop(v));
    ASSERT_EQ(v, i);
    ASSERT_FALSE(ring.try_pop(v));
  }
}

// The indices run far past the capacity, at every fill level, so every slot is reused many times
// and every wrap position is crossed with the ring partly full.
TEST(SpscRingTest, WrapsAroundAtEveryFillLevel) {
  SpscRing<uint64_t> ring(8);
  uint64_t next_in = 0, next_out = 0;
  for (int round = 0; round < 200; ++round) {
    const int fill = round % 9;  // 0..8 items in flight
    for (int k = 0; k < fill; ++k) ASSERT_TRUE(ring.try_push(next_in++));
    if (fill == 8) {
      ASSERT_FALSE(ring.try_push(0));
    }
    ASSERT_EQ(ring.size_approx(), static_cast<size_t>(fill));
    for (int k = 0; k < fill; ++k) {
      uint64_t v = 0;
      ASSERT_TRUE(ring.try_pop(v));
      ASSERT_EQ(v, next_out++);
    }
    ASSERT_TRUE(ring.empty_for_consumer());
  }
  EXPECT_GT(next_in, 8u * 50);
}

struct Pair {
  uint64_t seq;
  uint64_t payload;
};

// One producer and one consumer thread; the consumer checks the order and a checksum of the
// payloads, so a lost, duplicated, reordered or torn value fails the test.
TEST(SpscRingTest, TwoThreadStressKeepsOrderAndChecksum) {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  constexpr uint64_t kCount = 200'000;
#else
  constexpr uint64_t kCount = 1'000'000;
#endif
  auto payload = [](uint64_t i) { return i * 0x9E3779B97F4A7C15ull ^ (i >> 7); };
  // Small enough to wrap thousands of times and be found full and empty often; large enough that
  // a busy machine (a yield per full or empty ring) does not make the test slow.
  SpscRing<Pair> ring(256);
  uint64_t expected_sum = 0;
  for (uint64_t i = 0; i < kCount; ++i) expected_sum += payload(i);

  std::thread producer([&] {
    for (uint64_t i = 0; i < kCount; ++i) {
      const Pair p{i, payload(i)};
      while (!ring.try_push(p)) std::this_thread::yield();
    }
  });
  uint64_t sum = 0, expected_seq = 0;
  bool in_order = true;
  while (expected_seq < kCount) {
    Pair p{};
    if (!ring.try_pop(p)) {
      std::this_thread::yield();
      continue;
    }
    if (p.seq != expected_seq || p.payload != payload(p.seq)) in_order = false;
    sum += p.payload;
    ++expected_seq;
  }
  producer.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(sum, expected_sum);
  Pair extra{};
  EXPECT_FALSE(ring.try_pop(extra));
}

}  // namespace
}  // namespace sluice::runtime
