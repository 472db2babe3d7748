// Backpressure: a source far faster than its sink is held back by full channels, so batches in
// flight, queue depth and memory stay bounded by the channels, whatever the number of rows.
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

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

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr uint64_t kScaleDown = 8;  // sanitizers make every row several times dearer
#else
constexpr uint64_t kScaleDown = 1;
#endif

// Peak resident set of this process (VmHWM), in KiB.
int64_t peak_rss_kib() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  char line[256];
  int64_t kib = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "VmHWM:", 6) == 0) kib = std::strtoll(line + 6, nullptr, 10);
  }
  std::fclose(f);
  return kib;
}

// Sleeps per batch: at least a hundred times slower than the source makes a batch.
template <typename T>
class SleepySink {
 public:
  SleepySink(std::chrono::microseconds per_batch, std::atomic<uint64_t>* rows)
      : per_batch_(per_batch), rows_(rows) {}
  SleepySink(const SleepySink& o) : per_batch_(o.per_batch_), rows_(o.rows_) {}
  void write(std::span<const T> rows) {
    std::this_thread::sleep_for(per_batch_);
    local_ += rows.size();
  }
  void finish() { rows_->fetch_add(local_); }

 private:
  std::chrono::microseconds per_batch_;
  std::atomic<uint64_t>* rows_;
  uint64_t local_ = 0;
};

struct Row64 {
  std::array<uint64_t, 8> v;
};

struct BoundCase {
  int parallelism;
  size_t capacity;
};

class BackpressureTest : public ::testing::TestWithParam<BoundCase> {};

// A bound on batches in flight per channel: the ring, one overflowing batch, the partial batch
// being filled, the batch the consumer holds, one in the return ring, and one of slack.
int64_t batch_bound(const JobStats& stats, size_t capacity) {
  return static_cast<int64_t>(stats.channels) * static_cast<int64_t>(capacity + 5);
}

TEST_P(BackpressureTest, SlowSinkBoundsBatchesAndQueueDepth) {
  const BoundCase c = GetParam();
  JobOptions o;
  o.parallelism = c.parallelism;
  o.channel_capacity = c.capacity;
  o.batch_size = 256;
  o.handle_signals = false;
  // A thread per task: the sleeping sink must not hold up the source on a shared worker, or the
  // source could never get ahead of it.
  o.workers = 3 * c.parallelism;
  Environment env(o);
  const uint64_t rows = 256 * 3000 / kScaleDown;
  std::atomic<uint64_t> received{0};
  env.generate(rows,
               [](uint64_t i) {
                 return Row64{{i, i + 1, i + 2, i + 3, i, i, i, i}};
               })
      .rebalance()
      .map([](const Row64& r) { return r; })
      .disable_chaining()
      .sink(SleepySink<Row64>(std::chrono::microseconds(400), &received))
      .disable_chaining();
  Status s = env.execute();
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(received.load(), rows);
  const JobStats& st = env.stats();
  EXPECT_LE(st.batches_allocated, batch_bound(st, c.capacity))
      << "channels " << st.channels << ", capacity " << c.capacity;
  EXPECT_LE(st.max_queue_depth, c.capacity);
  EXPECT_EQ(st.max_queue_depth, c.capacity) << "the slow sink should have filled its channel";
}

INSTANTIATE_TEST_SUITE_P(All, BackpressureTest,
                         ::testing::Values(BoundCase{1, 4}, BoundCase{2, 16}, BoundCase{2, 1}),
                         [](const auto& info) {
                           return cat("p", info.param.parallelism, "_capacity",
                                      info.param.capacity);
                         });

// A flat_map that turns each row into eight leaves up to eight batches per input batch waiting
// in a channel's overflow; those batches are recycled too, however small the channel.
TEST(BackpressureFanOutTest, ExplodingFlatMapRecyclesItsBatches) {
  JobOptions o;
  o.channel_capacity = 2;
  o.batch_size = 128;
  o.workers = 2;
  o.handle_signals = false;
  Environment env(o);
  const uint64_t rows = 128 * 2000 / kScaleDown;
  std::atomic<uint64_t> received{0};
  env.generate(rows, [](uint64_t i) { return i; })
      .flat_map<uint64_t>([](const uint64_t& x, Collector<uint64_t>& out) {
        for (uint64_t k = 0; k < 8; ++k) out.emit(x * 8 + k);
      })
      .sink(SleepySink<uint64_t>(std::chrono::microseconds(50), &received))
      .disable_chaining();
  Status s = env.execute();
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(received.load(), rows * 8);
  const JobStats& st = env.stats();
  // Per channel: the ring, the eight batches of one input batch, the partial batch, the one the
  // consumer holds, and a little slack.
  EXPECT_LE(st.batches_allocated, static_cast<int64_t>(st.channels) * (2 + 8 + 4))
      << "batches are deleted and allocated again instead of recycled";
  EXPECT_LE(st.max_queue_depth, o.channel_capacity);
}

struct Row256 {
  std::array<uint64_t, 32> v;
};

// Sums every word it receives, then sleeps: the sink is the bottleneck, so the pipeline runs
// under backpressure for its whole length.
class ChecksumSink {
 public:
  explicit ChecksumSink(std::atomic<uint64_t>* sum) : sum_(sum) {}
  ChecksumSink(const ChecksumSink& o) : sum_(o.sum_) {}
  void write(std::span<const Row256> rows) {
    for (const Row256& r : rows) {
      for (uint64_t w : r.v) local_ += w;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  void finish() { sum_->fetch_add(local_); }

 private:
  std::atomic<uint64_t>* sum_;
  uint64_t local_ = 0;
};

// More than a gibibyte crosses two exchanges; peak memory grows by a few megabytes of batches.
TEST(BackpressureMemoryTest, GigabyteThroughThePipelineKeepsPeakRssSmall) {
  JobOptions o;
  o.parallelism = 2;
  o.handle_signals = false;
  Environment env(o);
  const uint64_t rows = (uint64_t{1} << 30) / sizeof(Row256) / kScaleDown;  // 1 GiB of rows
  std::atomic<uint64_t> sum{0};
  env.generate(rows,
               [](uint64_t i) {
                 Row256 r;
                 for (uint64_t k = 0; k < r.v.size(); ++k) r.v[k] = i ^ k;
                 return r;
               })
      .rebalance()
      .map([](const Row256& r) { return r; })
      .rebalance()
      .sink(ChecksumSink(&sum))
      .disable_chaining();
  const int64_t before = peak_rss_kib();
  ASSERT_GT(before, 0);
  Status s = env.execute();
  const int64_t after = peak_rss_kib();
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  uint64_t expected = 0;
  for (uint64_t i = 0; i < rows; ++i) {
    for (uint64_t k = 0; k < 32; ++k) expected += i ^ k;
  }
  EXPECT_EQ(sum.load(), expected);
  const JobStats& st = env.stats();
  EXPECT_LE(st.batches_allocated, batch_bound(st, o.channel_capacity));
  EXPECT_LE(st.max_queue_depth, o.channel_capacity);
  EXPECT_LT(after - before, 64 * 1024) << "peak RSS grew from " << before << " KiB to " << after
                                       << " KiB; " << st.batches_allocated << " batches";
  std::printf(
      "moved %.2f GiB through 2 exchanges in %.2f s; %lld batches allocated; peak RSS "
      "+%lld KiB\n",
      static_cast<double>(rows * sizeof(Row256)) / (1 << 30), st.seconds,
      static_cast<long long>(st.batches_allocated), static_cast<long long>(after - before));
}

}  // namespace
}  // namespace sluice
