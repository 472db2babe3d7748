// Channel and ChannelSetImpl: batch recycling, overflow (backpressure) and envelope order.
#include "runtime/channel.h"

#include <atomic>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/channel_set_impl.h"
#include "runtime/task.h"
#include "runtime/worker_pool.h"

namespace sluice::runtime {
namespace {

using detail::Batch;
using detail::BatchBase;

struct NopOperator final : detail::Operator {
  void process(int, BatchBase&) override {}
};

// A channel needs tasks at both ends to wake; these never run.
class ChannelFixture : public ::testing::Test {
 protected:
  ChannelFixture() : worker_(nullptr, 0) {
    std::vector<std::unique_ptr<detail::Operator>> ops;
    ops.push_back(std::make_unique<NopOperator>());
    ops.front()->set_output(&null_output_);
    task_ = std::make_unique<Task>(std::move(ops), std::vector<std::unique_ptr<detail::Output>>{},
                                   std::vector<detail::Output*>{});
    task_->set_worker(&worker_);
  }
  std::unique_ptr<Channel> make_channel(size_t capacity) {
    auto c = std::make_unique<Channel>(capacity);
    c->producer = task_.get();
    c->consumer = task_.get();
    return c;
  }
  static Batch<int>* batch_of(std::vector<int> rows) {
    auto* b = new Batch<int>();
    b->rows.assign(rows.begin(), rows.end());
    return b;
  }

  NullOutput null_output_;
  Worker worker_;
  std::unique_ptr<Task> task_;
};

TEST_F(ChannelFixture, ReturnedBatchesComeBackClearedAndAreReused) {
  auto ch = make_channel(4);
  EXPECT_EQ(ch->take_returned(), nullptr);
  Batch<int>* b = batch_of({1, 2, 3});
  b->rows.reserve(100);
  ASSERT_TRUE(ch->try_push(Envelope{Envelope::Kind::kData, 0, b}));
  Envelope e;
  ASSERT_TRUE(ch->try_pop(e));
  ASSERT_EQ(e.batch, b);
  {
    const auto& got = detail::batch_cast<int>(*e.batch).rows;
    EXPECT_EQ(std::vector<int>(got.begin(), got.end()), (std::vector<int>{1, 2, 3}));
  }
  ch->give_back(e.batch);
  BatchBase* back = ch->take_returned();
  ASSERT_EQ(back, b);  // the same buffer, not a new allocation
  EXPECT_EQ(back->size(), 0u);
  EXPECT_GE(b->rows.capacity(), 100u);  // its memory is kept for reuse
  EXPECT_EQ(ch->take_returned(), nullptr);
  delete back;
}

TEST_F(ChannelFixture, DepthAndCapacity) {
  auto ch = make_channel(2);
  EXPECT_EQ(ch->capacity(), 2u);
  ASSERT_TRUE(ch->try_push(Envelope{Envelope::Kind::kWatermark, 5, nullptr}));
  ASSERT_TRUE(ch->try_push(Envelope{Envelope::Kind::kEnd, 0, nullptr}));
  EXPECT_EQ(ch->depth(), 2u);
  EXPECT_TRUE(ch->full());
  EXPECT_FALSE(ch->try_push(Envelope{Envelope::Kind::kEnd, 0, nullptr}));
  Envelope e;
  ASSERT_TRUE(ch->try_pop(e));
  EXPECT_EQ(e.kind, Envelope::Kind::kWatermark);
  EXPECT_EQ(e.value, 5);
  EXPECT_FALSE(ch->full());
  EXPECT_EQ(ch->depth(), 1u);
}

// Batches left in either ring, and returns that do not fit, are freed (checked under ASan).
TEST_F(ChannelFixture, FreesBatchesInFlightAndExcessReturns) {
  auto ch = make_channel(2);
  ASSERT_TRUE(ch->try_push(Envelope{Envelope::Kind::kData, 0, batch_of({1})}));
  const int slots = static_cast<int>(Channel::kMinReturnSlots);
  for (int i = 0; i < slots + 6; ++i) ch->give_back(batch_of({i}));  // the last 6 are deleted
  int returned = 0;
  while (BatchBase* b = ch->take_returned()) {
    ++returned;
    delete b;
  }
  EXPECT_EQ(returned, slots);
  ch->give_back(batch_of({7}));
  ch.reset();  // one data batch and one returned batch still inside
}

TEST_F(ChannelFixture, ChannelSetOverflowKeepsOrderAndReportsBlocked) {
  auto ch = make_channel(2);
  std::atomic<int64_t> allocated{0};
  ChannelSetImpl set({ch.get()}, &allocated);
  BatchBase* fresh = set.acquire(0);
  EXPECT_EQ(fresh, nullptr);
  EXPECT_EQ(allocated.load(), 1);
  for (int i = 0; i < 5; ++i) set.push(0, batch_of({i}));
  set.push_watermark(77);
  set.push_end();
  EXPECT_TRUE(set.blocked());  // 2 in the ring, 5 in the overflow
  std::vector<int> rows;
  std::vector<Envelope::Kind> kinds;
  Envelope e;
  for (int round = 0; round < 20 && (kinds.empty() || kinds.back() != Envelope::Kind::kEnd);
       ++round) {
    while (ch->try_pop(e)) {
      kinds.push_back(e.kind);
      if (e.kind == Envelope::Kind::kData) {
        rows.push_back(detail::batch_cast<int>(*e.batch).rows.at(0));
        ch->give_back(e.batch);
      }
      if (e.kind == Envelope::Kind::kWatermark) {
        EXPECT_EQ(e.value, 77);
      }
    }
    set.blocked();  // moves overflow into the ring
  }
  EXPECT_FALSE(set.blocked());
  EXPECT_EQ(rows, (std::vector<int>{0, 1, 2, 3, 4}));
  ASSERT_EQ(kinds.size(), 7u);
  EXPECT_EQ(kinds[5], Envelope::Kind::kWatermark);
  EXPECT_EQ(kinds[6], Envelope::Kind::kEnd);
  // Recycled batches are handed out again without counting an allocation.
  BatchBase* again = set.acquire(0);
  EXPECT_NE(again, nullptr);
  EXPECT_EQ(allocated.load(), 1);
  delete again;
}

TEST_F(ChannelFixture, ChannelSetFreesOverflowOnDestruction) {
  auto ch = make_channel(1);
  std::atomic<int64_t> allocated{0};
  {
    ChannelSetImpl set({ch.get()}, &allocated);
    for (int i = 0; i < 4; ++i) set.push(0, batch_of({i}));
    EXPECT_TRUE(set.blocked());
  }  // three batches in the overflow are deleted here; one stays in the ring
}

}  // namespace
}  // namespace sluice::runtime
