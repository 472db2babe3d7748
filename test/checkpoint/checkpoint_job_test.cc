// Checkpoints of running jobs: barriers injected and aligned, state written while the job runs,
// an in-process restart from the latest checkpoint after a failure, and a job started again on
// the same directory resuming by itself.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <span>

#include "checkpoint/local_directory_store.h"
#include "checkpoint/sums_job.h"
#include "checkpoint/test_dir.h"
#include "sluice/sluice.h"

namespace sluice {
namespace {

using testing::expected_sums;
using testing::kRows;
using testing::MaxSink;
using testing::Row;
using testing::row_of;

// testing::failing_input -> key_by -> running sum -> sink.
Status run_job(const JobOptions& options, MaxSink sink, std::atomic<bool>* fail_once,
               JobStats* stats) {
  Environment env(options);
  testing::failing_input(env, fail_once)
      .key_by([](const Row& r) { return r.key; })
      .aggregate(
          int64_t{0}, [](int64_t& acc, const Row& r) { acc += r.value; },
          [](uint64_t key, int64_t acc) { return std::pair(key, acc); })
      .sink(sink);
  Status s = env.execute("checkpointed sums");
  *stats = env.stats();
  return s;
}

JobOptions checkpointed(const std::string& dir) {
  JobOptions o;
  o.parallelism = 2;
  o.workers = 2;
  o.handle_signals = false;
  EXPECT_TRUE(o.set("checkpoint.interval", "50ms"));
  EXPECT_TRUE(o.set("checkpoint.dir", dir));
  return o;
}

TEST(CheckpointJob, CheckpointsCompleteWhileTheJobRuns) {
  testing::TempDir dir;
  MaxSink sink;
  JobStats stats;
  ASSERT_TRUE(run_job(checkpointed(dir.path()), sink, nullptr, &stats));
  EXPECT_EQ(sink.shared->max, expected_sums());
  EXPECT_GE(stats.checkpoints_completed, 3u);  // periodic ones and the final one
  EXPECT_EQ(stats.restored_from, 0u);
  const auto ids = checkpoint::LocalDirectoryStore(dir.path()).complete_ids();
  EXPECT_LE(ids.size(), 3u);  // checkpoint.retain
  // The newest is the final one; ids also go to checkpoints that failed, and to one triggered
  // just as the last task finished, which the final checkpoint replaces (neither completed nor
  // failed: the job ending is no failure).
  const uint64_t counted = stats.checkpoints_completed + stats.checkpoints_failed;
  EXPECT_GE(ids.back(), counted);
  EXPECT_LE(ids.back(), counted + 1);
}

TEST(CheckpointJob, AFailedJobRestartsFromTheLatestCheckpointWithoutCountingTwice) {
  testing::TempDir dir;
  MaxSink sink;
  JobStats stats;
  Status s = testing::run_with_one_failure(checkpointed(dir.path()), run_job, sink, &stats);
  ASSERT_TRUE(s) << s.to_string();
  EXPECT_EQ(stats.restarts, 1);
  EXPECT_GT(stats.restored_from, 0u);  // the failure came after checkpoints completed
  EXPECT_EQ(sink.shared->max, expected_sums());
}

TEST(CheckpointJob, WithoutRestartsTheFailureEndsTheJob) {
  testing::TempDir dir;
  MaxSink sink;
  std::atomic<bool> fail_once{true};
  JobStats stats;
  Status s = run_job(checkpointed(dir.path()), sink, &fail_once, &stats);
  EXPECT_FALSE(s);
  EXPECT_NE(s.message().find("injected failure"), std::string::npos) << s.to_string();
}

TEST(CheckpointJob, AJobStartedOnTheSameDirectoryResumesByItself) {
  testing::TempDir dir;
  JobStats stats;
  ASSERT_TRUE(run_job(checkpointed(dir.path()), MaxSink{}, nullptr, &stats));
  const uint64_t final_id = stats.checkpoints_completed + stats.checkpoints_failed;
  MaxSink again;
  ASSERT_TRUE(run_job(checkpointed(dir.path()), again, nullptr, &stats));
  EXPECT_EQ(stats.restored_from, final_id);
  EXPECT_EQ(again.shared->rows, 0u);  // the final checkpoint holds every input at its end
}

TEST(CheckpointJob, AnIntervalWithoutADirectoryIsAClearError) {
  JobOptions o;
  ASSERT_TRUE(o.set("checkpoint.interval", "1s"));
  JobStats stats;
  Status s = run_job(o, MaxSink{}, nullptr, &stats);
  EXPECT_EQ(s.message(),
            "job option 'checkpoint.interval' needs 'checkpoint.dir': where should checkpoints "
            "go?");
}

}  // namespace
}  // namespace sluice
