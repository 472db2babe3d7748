// Checks "no per-record allocation on the data path": a job's heap allocations must not grow with
// the number of rows. Global operator new is replaced in this test binary to count them.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>

#include <gtest/gtest.h>

#include "sluice/sluice.h"

// GCC pairs the replaced operator delete with the inlined new-expression and warns that free()
// does not match; both are the replacements below, which use malloc/free consistently.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<int64_t> g_allocations{0};
}  // namespace

void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace sluice {
namespace {

struct Row {
  uint64_t key;
  int64_t value;
  double price;
  uint32_t a, b;
};

struct Allocations {
  int64_t total = 0;
  int64_t batches = 0;  // exchange batches the job allocated (bounded by the channels, not rows)
};

Allocations allocations_for_job(uint64_t rows, int parallelism, uint64_t keys) {
  JobOptions options;
  options.parallelism = parallelism;
  options.handle_signals = false;
  // The data path alone: the metrics endpoint's threads allocate once a second whatever the rows.
  EXPECT_TRUE(options.set("metrics.address", "off"));
  EXPECT_TRUE(options.set("progress", "off"));
  Environment env(options);
  std::atomic<uint64_t> count{0};
  env.generate(rows,
               [keys](uint64_t i) {
                 return Row{i % keys, static_cast<int64_t>(i), 1.5, 1, 2};
               })
      .map([](const Row& r) {
        return Row{r.key, r.value * 2, r.price, r.a, r.b};
      })
      .filter([](const Row& r) { return r.value % 3 != 0; })
      .key_by([](const Row& r) { return r.key; })
      .aggregate(
          int64_t{0}, [](int64_t& c, const Row&) { ++c; },
          [](uint64_t k, int64_t c) { return std::make_pair(k, c); })
      .rebalance()
      .sink(sinks::count<std::pair<uint64_t, int64_t>>(&count));
  int64_t before = g_allocations.load();
  Status s = env.execute();
  int64_t after = g_allocations.load();
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  return {after - before, env.stats().batches_allocated};
}

TEST(AllocationTest, AllocationsDoNotGrowWithRows) {
  for (int parallelism : {1, 2}) {
    // Same key count, so keyed state reaches the same size; only the number of rows differs.
    Allocations small = allocations_for_job(200'000, parallelism, 1000);
    Allocations large = allocations_for_job(4'000'000, parallelism, 1000);
    std::printf(
        "parallelism %d: %lld allocations (%lld batches) for 200k rows, %lld (%lld) for "
        "4M rows\n",
        parallelism, static_cast<long long>(small.total), static_cast<long long>(small.batches),
        static_cast<long long>(large.total), static_cast<long long>(large.batches));
    // Scheduling decides how many batches are in flight at the peak (bounded by the channels'
    // capacity, whatever the rows): a longer run may reach a higher peak, and each batch costs a
    // few allocations (the batch, its rows, a queue block). Nothing may grow per row.
    const int64_t more_batches = std::max<int64_t>(0, large.batches - small.batches);
    EXPECT_LT(large.total, small.total + 200 + 4 * more_batches)
        << "parallelism " << parallelism << ": " << small.total << " vs " << large.total;
    EXPECT_LT(large.total, 4'000'000 / 100);
  }
}

}  // namespace
}  // namespace sluice
