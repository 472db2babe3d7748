// CommitLane: a sink subtask's commits and aborts in checkpoint order, retries after a backoff
// that hold back the steps behind them, aborts only of checkpoints the sink prepared (also when
// the abandonment is heard before the barrier), and a failure that names the step.
#include "runtime/commit_lane.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::runtime {
namespace {

// Records the calls; says retry later `retries` times, or fails, when told to.
class RecordingSink final : public detail::Operator {
 public:
  void process(int, detail::BatchBase&) override {}
  bool commits() const override { return true; }
  Status commit_checkpoint(uint64_t id) override { return answer("commit " + std::to_string(id)); }
  Status abort_checkpoint(uint64_t id) override { return answer("abort " + std::to_string(id)); }

  std::vector<std::string> calls;
  int retries = 0;
  bool fail = false;

 private:
  Status answer(std::string call) {
    calls.push_back(std::move(call));
    if (fail) return Status::io_error("gone");
    if (retries > 0) {
      --retries;
      return Status::unavailable("busy");
    }
    return Status::ok();
  }
};

using Calls = std::vector<std::string>;

TEST(CommitLane, CommitsAndAbortsInCheckpointOrder) {
  RecordingSink sink;
  CommitLane lane(&sink, false, nullptr);
  EXPECT_TRUE(lane.idle());
  lane.prepared(1);
  lane.prepared(2);
  lane.abandoned(2);
  lane.prepared(3);
  lane.completed(3);
  ASSERT_TRUE(lane.run(0));
  EXPECT_EQ(sink.calls, (Calls{"abort 2", "commit 3"}));
  EXPECT_TRUE(lane.idle());
  EXPECT_EQ(lane.due_us(), INT64_MAX);
}

TEST(CommitLane, AbortsOnlyWhatTheSinkPrepared) {
  RecordingSink sink;
  CommitLane lane(&sink, false, nullptr);
  lane.prepared(1);
  lane.abandoned(5);  // heard before the barrier of 5 reached the task
  lane.prepared(5);   // the sink prepares it all the same: it hears of the abort at once
  lane.abandoned(4);  // the task went past 4 without preparing it
  lane.completed(1);  // below 5: does not cover it
  lane.abandoned(6);
  lane.completed(7);  // 6 was never prepared and 7 covers it
  lane.prepared(8);
  ASSERT_TRUE(lane.run(0));
  EXPECT_EQ(sink.calls, (Calls{"abort 5", "commit 1", "commit 7"}));
}

TEST(CommitLane, RetryLaterHoldsBackTheStepsBehindIt) {
  RecordingSink sink;
  sink.retries = 2;
  CommitLane lane(&sink, false, nullptr);
  lane.prepared(1);
  lane.completed(1);
  lane.prepared(2);
  lane.completed(2);
  ASSERT_TRUE(lane.run(0));
  EXPECT_EQ(sink.calls, (Calls{"commit 1"}));
  const int64_t first_retry = lane.due_us();
  EXPECT_GT(first_retry, 0);
  ASSERT_TRUE(lane.run(first_retry - 1));  // not yet
  EXPECT_EQ(sink.calls.size(), 1u);
  ASSERT_TRUE(lane.run(first_retry));
  EXPECT_EQ(sink.calls, (Calls{"commit 1", "commit 1"}));
  // The backoff doubles.
  EXPECT_GE(lane.due_us() - first_retry, 2 * CommitLane::kFirstBackoffUs - 1'000);
  ASSERT_TRUE(lane.run(lane.due_us()));
  EXPECT_EQ(sink.calls, (Calls{"commit 1", "commit 1", "commit 1", "commit 2"}));
  EXPECT_TRUE(lane.idle());
}

TEST(CommitLane, AFailureNamesTheStepAndEmptiesTheLane) {
  RecordingSink sink;
  sink.fail = true;
  CommitLane lane(&sink, true, nullptr);
  lane.prepared(4);
  lane.completed(4);
  lane.prepared(5);
  lane.completed(5);
  Status s = lane.run(0);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "commit of checkpoint 4: gone");
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_TRUE(lane.idle());
  EXPECT_EQ(lane.failure().message(), s.message());
  lane.completed(6);  // nothing more is queued
  EXPECT_TRUE(lane.idle());
  EXPECT_EQ(sink.calls, (Calls{"commit 4"}));
}

}  // namespace
}  // namespace sluice::runtime
