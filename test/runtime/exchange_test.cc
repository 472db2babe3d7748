// ExchangeOutput driven directly over a recording ChannelSet: batching, the flush delay (with
// explicit clock values), partitioners, and control events that flush partial batches first.
#include "sluice/detail/exchange.h"

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sluice::detail {
namespace {

// One entry per envelope pushed, in push order.
struct Sent {
  int channel;
  enum Kind { kData, kWatermark, kIdle, kBarrier, kEnd } kind;
  std::vector<int> rows;
  int64_t value = 0;
  std::vector<uint64_t> hashes = {};  // the key hashes the batch carried
};

// A ChannelSet that records what it is given, never blocks, and recycles nothing.
class RecordingChannelSet final : public ChannelSet {
 public:
  RecordingChannelSet(int channels, std::vector<Sent>* log) : channels_(channels), log_(log) {}
  int size() const override { return channels_; }
  BatchBase* acquire(int) override { return nullptr; }
  void push(int c, BatchBase* batch) override {
    std::unique_ptr<BatchBase> owned(batch);
    const auto& rows = batch_cast<int>(*batch).rows;
    log_->push_back(Sent{c, Sent::kData, std::vector<int>(rows.begin(), rows.end()), 0,
                         std::vector<uint64_t>(batch->hashes.begin(), batch->hashes.end())});
  }
  void push_watermark(Timestamp w) override {
    for (int c = 0; c < channels_; ++c) log_->push_back(Sent{c, Sent::kWatermark, {}, w});
  }
  void push_idle(bool idle) override {
    for (int c = 0; c < channels_; ++c) log_->push_back(Sent{c, Sent::kIdle, {}, idle ? 1 : 0});
  }
  void push_barrier(uint64_t id) override {
    for (int c = 0; c < channels_; ++c)
      log_->push_back(Sent{c, Sent::kBarrier, {}, static_cast<int64_t>(id)});
  }
  void push_end() override {
    for (int c = 0; c < channels_; ++c) log_->push_back(Sent{c, Sent::kEnd, {}});
  }
  bool blocked() override { return false; }

 private:
  int channels_;
  std::vector<Sent>* log_;
};

// Routes by row mod channels, with the row itself as its key's hash.
struct ModRouter {
  int channels;
  uint64_t hash(const int& row) const { return static_cast<uint64_t>(row); }
  int channel_of(uint64_t hash) const { return static_cast<int>(hash % channels); }
};

template <typename Router = NoRouter>
std::unique_ptr<ExchangeOutput<int, Router>> make_exchange(std::vector<Sent>* log, int channels,
                                                           Partitioning partitioning,
                                                           size_t batch_size, int64_t delay_us,
                                                           Router router = {}) {
  return std::make_unique<ExchangeOutput<int, Router>>(
      std::make_unique<RecordingChannelSet>(channels, log), partitioning, router, batch_size,
      delay_us);
}

void emit_rows(Output& out, std::vector<int> rows) {
  Batch<int> b;
  b.rows.assign(rows.begin(), rows.end());
  out.emit(b);
}

std::vector<int> range(int from, int to) {
  std::vector<int> v;
  for (int i = from; i < to; ++i) v.push_back(i);
  return v;
}

TEST(ExchangeTest, PartialBatchWaitsForTheFlushDelay) {
  std::vector<Sent> log;
  auto ex = make_exchange(&log, 1, Partitioning::kForward, 10, 1000);
  EXPECT_EQ(ex->flush_deadline(), INT64_MAX);  // nothing pending
  EXPECT_FALSE(ex->flush_due(1'000'000));
  ex->set_now(5000);
  emit_rows(*ex, {1, 2, 3});
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(ex->flush_deadline(), 6000);
  ex->set_now(5500);  // later rows do not postpone the deadline of the first ones
  emit_rows(*ex, {4});
  EXPECT_EQ(ex->flush_deadline(), 6000);
  EXPECT_FALSE(ex->flush_due(5999));
  EXPECT_TRUE(ex->flush_due(6000));
  ex->flush();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].rows, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(ex->flush_deadline(), INT64_MAX);
  EXPECT_FALSE(ex->flush_due(INT64_MAX - 1));
  ex->flush();  // nothing pending: nothing sent
  EXPECT_EQ(log.size(), 1u);
}

TEST(ExchangeTest, FullBatchesGoAtOnceAndOnlyTheRemainderWaits) {
  std::vector<Sent> log;
  auto ex = make_exchange(&log, 1, Partitioning::kForward, 10, 1000);
  ex->set_now(0);
  emit_rows(*ex, range(0, 25));
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].rows, range(0, 10));
  EXPECT_EQ(log[1].rows, range(10, 20));
  EXPECT_EQ(ex->flush_deadline(), 1000);
  ex->flush();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[2].rows, range(20, 25));
}

// A deadline belongs to rows that are waiting; once a full batch took them all, none is left.
TEST(ExchangeTest, NoDeadlineWhenFullBatchesLeftNothingPending) {
  std::vector<Sent> log;
  auto ex = make_exchange(&log, 1, Partitioning::kForward, 10, 1000);
  ex->set_now(0);
  emit_rows(*ex, range(0, 3));
  ex->set_now(500);
  emit_rows(*ex, range(3, 10));  // completes the batch: pushed, nothing pending
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(ex->flush_deadline(), INT64_MAX);
  ex->set_now(900);
  emit_rows(*ex, {10});
  EXPECT_EQ(ex->flush_deadline(), 1900);  // measured from the row now waiting
}

TEST(ExchangeTest, WatermarkIdlenessBarrierAndEndFlushPartialBatchesFirst) {
  std::vector<Sent> log;
  auto ex = make_exchange(&log, 2, Partitioning::kHash, 100, 1000, ModRouter{2});
  ex->set_now(0);
  emit_rows(*ex, {0, 1, 2, 3, 4});
  ex->emit_watermark(42);
  emit_rows(*ex, {5, 6});
  ex->emit_barrier(7);
  emit_rows(*ex, {8, 9, 11});
  ex->emit_idle(true);
  ex->emit_idle(false);
  emit_rows(*ex, {12});
  ex->emit_end();
  std::vector<std::string> per_channel[2];
  for (const Sent& s : log) {
    std::ostringstream e;  // (ostringstream: GCC 12 -O3 warns falsely on "x" + std::string)
    switch (s.kind) {
      case Sent::kData:
        e << "d";
        for (int r : s.rows) e << ":" << r;
        break;
      case Sent::kWatermark:
        e << "w" << s.value;
        break;
      case Sent::kIdle:
        e << (s.value != 0 ? "idle" : "active");
        break;
      case Sent::kBarrier:
        e << "b" << s.value;
        break;
      case Sent::kEnd:
        e << "end";
        break;
    }
    per_channel[s.channel].push_back(e.str());
  }
  EXPECT_EQ(per_channel[0], (std::vector<std::string>{"d:0:2:4", "w42", "d:6", "b7", "d:8", "idle",
                                                      "active", "d:12", "end"}));
  EXPECT_EQ(per_channel[1], (std::vector<std::string>{"d:1:3", "w42", "d:5", "b7", "d:9:11", "idle",
                                                      "active", "end"}));
  EXPECT_EQ(ex->flush_deadline(), INT64_MAX);
}

TEST(ExchangeTest, RebalanceSendsWholeBatchesRoundRobin) {
  std::vector<Sent> log;
  auto ex = make_exchange(&log, 3, Partitioning::kRebalance, 4, 1000);
  for (int b = 0; b < 6; ++b) emit_rows(*ex, range(b * 4, b * 4 + 4));
  ASSERT_EQ(log.size(), 6u);
  for (int b = 0; b < 6; ++b) {
    EXPECT_EQ(log[b].channel, b % 3);
    EXPECT_EQ(log[b].rows, range(b * 4, b * 4 + 4));
  }
}

TEST(ExchangeTest, BroadcastCopiesEveryRowToEveryChannel) {
  std::vector<Sent> log;
  auto ex = make_exchange(&log, 3, Partitioning::kBroadcast, 4, 1000);
  emit_rows(*ex, range(0, 6));
  ex->emit_end();
  std::vector<int> rows[3];
  for (const Sent& s : log)
    rows[s.channel].insert(rows[s.channel].end(), s.rows.begin(), s.rows.end());
  for (int c = 0; c < 3; ++c) EXPECT_EQ(rows[c], range(0, 6)) << c;
}

TEST(ExchangeTest, FanoutFeedsEveryExchangeAndReportsTheEarliestDeadline) {
  std::vector<Sent> log_a, log_b;
  FanoutOutput fan;
  fan.add(make_exchange(&log_a, 1, Partitioning::kForward, 10, 1000));
  fan.add(make_exchange(&log_b, 1, Partitioning::kForward, 10, 300));
  fan.set_now(100);
  emit_rows(fan, {1, 2});
  EXPECT_EQ(fan.flush_deadline(), 400);
  EXPECT_FALSE(fan.flush_due(399));
  EXPECT_TRUE(fan.flush_due(400));
  fan.emit_watermark(9);
  ASSERT_EQ(log_a.size(), 2u);
  ASSERT_EQ(log_b.size(), 2u);
  EXPECT_EQ(log_a[0].rows, (std::vector<int>{1, 2}));
  EXPECT_EQ(log_b[0].rows, (std::vector<int>{1, 2}));
  EXPECT_EQ(log_a[1].kind, Sent::kWatermark);
  EXPECT_EQ(fan.flush_deadline(), INT64_MAX);
}

// A hash exchange hands each row's key hash on with it, aligned with the rows, so the keyed
// operator it feeds does not hash again; other partitionings send none.
TEST(ExchangeTest, HashExchangeSendsEachRowsKeyHash) {
  std::vector<Sent> log;
  auto ex = make_exchange(&log, 2, Partitioning::kHash, 3, 1000, ModRouter{2});
  emit_rows(*ex, {0, 1, 2, 3, 4, 5, 6, 7});
  ex->flush();
  size_t rows = 0;
  for (const Sent& s : log) {
    ASSERT_EQ(s.hashes.size(), s.rows.size());
    for (size_t i = 0; i < s.rows.size(); ++i) {
      EXPECT_EQ(s.hashes[i], static_cast<uint64_t>(s.rows[i]));
      EXPECT_EQ(s.rows[i] % 2, s.channel);
    }
    rows += s.rows.size();
  }
  EXPECT_EQ(rows, 8u);

  std::vector<Sent> forward;
  auto fx = make_exchange(&forward, 1, Partitioning::kForward, 3, 1000);
  emit_rows(*fx, {0, 1, 2, 3});
  fx->flush();
  for (const Sent& s : forward) EXPECT_TRUE(s.hashes.empty());
}

}  // namespace
}  // namespace sluice::detail
