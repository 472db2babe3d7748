// The transactional sink contract (sluice/transactional_sink.h) in running jobs: commits that
// block run off the task's thread while it goes on, commits that say retry later are retried
// in order, a job ends only once its commits are done, abandoned checkpoints are aborted, and a
// failed commit fails the job naming the sink. Output stays exactly once and in order.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <utility>
#include <vector>

#include "checkpoint/test_dir.h"
#include "sluice/sluice.h"

namespace sluice {
namespace {

// What the sinks of a job did, and how they are told to behave.
struct Log {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<int64_t> published;                              // in commit order
  std::vector<std::pair<uint64_t, std::thread::id>> attempts;  // every commit call
  std::vector<uint64_t> prepared;
  std::vector<uint64_t> committed;  // ids whose commit returned OK
  std::vector<uint64_t> aborted;
  std::thread::id write_thread;
  std::atomic<uint64_t> written{0};
  // Behaviour.
  bool retry_first_attempt = false;  // each commit says retry later the first time it is called
  bool block_first_commit = false;   // the first commit waits until 2,000 more rows were written
  bool fail_commits = false;
  // Set by the first commit when blocking: rows were written while it waited.
  std::atomic<bool> blocked_once{false};
  std::atomic<bool> wrote_while_blocked{false};
};

// Rows are int64_t; a transaction is the rows written between two barriers. Each subtask's copy
// of the sink has transactions of its own (the copy constructor makes fresh ones).
template <bool kBlocks>
struct TestSink {
  static constexpr bool kCommitBlocks = kBlocks;

  struct Transactions {
    std::mutex mutex;  // write/prepare on the task's thread, commit/abort perhaps on another
    std::vector<int64_t> current;
    std::vector<std::pair<uint64_t, std::vector<int64_t>>> pending;
    uint64_t last_attempt = 0;
  };

  explicit TestSink(std::shared_ptr<Log> l) : log(std::move(l)) {}
  TestSink(const TestSink& o) : log(o.log) {}

  void write(std::span<const int64_t> rows) {
    {
      std::lock_guard<std::mutex> lock(txns->mutex);
      txns->current.insert(txns->current.end(), rows.begin(), rows.end());
    }
    std::lock_guard<std::mutex> lock(log->mutex);
    log->write_thread = std::this_thread::get_id();
    log->written += rows.size();
    log->cv.notify_all();
  }

  Status prepare(uint64_t id, std::vector<char>& state) {
    std::lock_guard<std::mutex> lock(txns->mutex);
    txns->pending.emplace_back(id, std::move(txns->current));
    txns->current.clear();
    state.push_back('p');  // a transaction description; these tests never resume from it
    std::lock_guard<std::mutex> log_lock(log->mutex);
    log->prepared.push_back(id);
    return Status::ok();
  }

  Status commit(uint64_t id) {
    {
      std::lock_guard<std::mutex> lock(log->mutex);
      log->attempts.emplace_back(id, std::this_thread::get_id());
    }
    if (log->block_first_commit && !log->blocked_once.exchange(true)) {
      std::unique_lock<std::mutex> lock(log->mutex);
      const uint64_t start = log->written;
      log->wrote_while_blocked = log->cv.wait_for(lock, std::chrono::seconds(5),
                                                  [&] { return log->written >= start + 2'000; });
    }
    if (log->fail_commits) return Status::io_error("the database went away");
    std::vector<int64_t> rows;
    {
      std::lock_guard<std::mutex> lock(txns->mutex);
      if (log->retry_first_attempt && txns->last_attempt != id) {
        txns->last_attempt = id;
        return Status::unavailable("the database is busy");
      }
      auto it = txns->pending.begin();
      for (; it != txns->pending.end() && it->first <= id; ++it) {
        rows.insert(rows.end(), it->second.begin(), it->second.end());
      }
      txns->pending.erase(txns->pending.begin(), it);
    }
    std::lock_guard<std::mutex> lock(log->mutex);
    log->published.insert(log->published.end(), rows.begin(), rows.end());
    log->committed.push_back(id);
    return Status::ok();
  }

  // The transaction stays pending: the next commit publishes it.
  Status abort(uint64_t id) {
    std::lock_guard<std::mutex> lock(log->mutex);
    log->aborted.push_back(id);
    return Status::ok();
  }

  Status recover(const std::vector<std::vector<char>>&, int) { return Status::ok(); }

  std::shared_ptr<Log> log;
  std::shared_ptr<Transactions> txns = std::make_shared<Transactions>();
};

static_assert(TransactionalSink<TestSink<true>>);
static_assert(commit_blocks<TestSink<true>>() && !commit_blocks<TestSink<false>>());

JobOptions options(const std::string& checkpoint_dir) {
  JobOptions o;
  o.parallelism = 1;
  o.workers = 1;  // one worker: a commit that blocked the task's thread would stop the job
  o.handle_signals = false;
  if (!checkpoint_dir.empty()) {
    EXPECT_TRUE(o.set("checkpoint.dir", checkpoint_dir));
    EXPECT_TRUE(o.set("checkpoint.interval", "50ms"));
  }
  return o;
}

// generate(rows) at `rate` -> the test sink (chained: one task).
template <bool kBlocks>
void build(Environment& env, uint64_t rows, double rate, std::shared_ptr<Log> log) {
  GeneratorOptions gen;
  gen.rate = rate;
  env.generate(
         rows, [](uint64_t i) { return static_cast<int64_t>(i); }, gen)
      .sink(TestSink<kBlocks>(std::move(log)));
}

// Every row once, in order.
void expect_exactly_once_in_order(const Log& log, uint64_t rows) {
  ASSERT_EQ(log.published.size(), rows);
  for (uint64_t i = 0; i < rows; ++i) {
    ASSERT_EQ(log.published[i], static_cast<int64_t>(i)) << "at " << i;
  }
}

// Each commit was first told to retry later, then called again, in checkpoint order.
void expect_each_commit_retried_in_order(const Log& log) {
  ASSERT_EQ(log.attempts.size(), 2 * log.committed.size());
  for (size_t i = 0; i < log.committed.size(); ++i) {
    EXPECT_EQ(log.attempts[2 * i].first, log.committed[i]);
    EXPECT_EQ(log.attempts[2 * i + 1].first, log.committed[i]);
    if (i > 0) {
      EXPECT_GT(log.committed[i], log.committed[i - 1]);
    }
  }
}

TEST(SinkCommit, BlockingCommitsRunOffTheTaskThreadWhileItGoesOn) {
  testing::TempDir dir;
  auto log = std::make_shared<Log>();
  log->block_first_commit = true;
  log->retry_first_attempt = true;
  constexpr uint64_t kRows = 30'000;
  Environment env(options(dir.path() + "/checkpoints"));
  build<true>(env, kRows, 30'000, log);
  Status s = env.execute("blocking commits");
  ASSERT_TRUE(s) << s.to_string();
  EXPECT_TRUE(log->wrote_while_blocked) << "the task stopped while a commit blocked";
  for (const auto& [id, thread] : log->attempts) {
    EXPECT_NE(thread, log->write_thread) << "commit of checkpoint " << id;
  }
  EXPECT_GE(log->committed.size(), 3u);
  expect_each_commit_retried_in_order(*log);
  // The job ended once the final checkpoint's commit was done (after its retry).
  expect_exactly_once_in_order(*log, kRows);
  EXPECT_TRUE(log->aborted.empty());
}

TEST(SinkCommit, QuickCommitsRetryOnTheTaskThread) {
  testing::TempDir dir;
  auto log = std::make_shared<Log>();
  log->retry_first_attempt = true;
  constexpr uint64_t kRows = 20'000;
  Environment env(options(dir.path() + "/checkpoints"));
  build<false>(env, kRows, 40'000, log);
  Status s = env.execute("quick commits");
  ASSERT_TRUE(s) << s.to_string();
  ASSERT_GE(log->committed.size(), 3u);
  expect_each_commit_retried_in_order(*log);
  // While the job ran, commits were made between batches on the task's thread, their retries
  // too. After the tasks stopped the runner's and the committer's threads take over: the final
  // checkpoint's commit, and a retry still due then.
  ASSERT_EQ(log->attempts.size(), 2 * log->committed.size());
  size_t retries_on_task_thread = 0;
  for (size_t i = 0; i + 1 < log->committed.size(); ++i) {
    EXPECT_EQ(log->attempts[2 * i].second, log->write_thread) << log->committed[i];
    retries_on_task_thread += log->attempts[2 * i + 1].second == log->write_thread;
  }
  EXPECT_GE(retries_on_task_thread, 1u);
  expect_exactly_once_in_order(*log, kRows);
}

TEST(SinkCommit, StopWithSavepointEndsOnceItsCommitIsDone) {
  testing::TempDir dir;
  auto log = std::make_shared<Log>();
  log->retry_first_attempt = true;
  Environment env(options(""));
  build<true>(env, 100'000'000, 20'000, log);
  Status status;
  std::thread job([&] { status = env.execute("stopped"); });
  Result<std::string> path = Status::failed("not asked");
  for (int i = 0; i < 500; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (log->written < 2'000) continue;
    path = env.stop_with_savepoint(dir.path() + "/savepoints");
    if (path || path.status().code() != StatusCode::kNotFound) break;
  }
  job.join();
  ASSERT_TRUE(path) << path.status().to_string();
  ASSERT_TRUE(status) << status.to_string();
  ASSERT_EQ(log->committed.size(), 1u);
  expect_each_commit_retried_in_order(*log);
  // Nothing came after the savepoint's barrier, and its commit published everything before.
  expect_exactly_once_in_order(*log, log->written);
}

TEST(SinkCommit, AnAbandonedCheckpointIsAbortedAndItsRowsGoWithTheNextCommit) {
  testing::TempDir dir;
  {
    std::ofstream file(dir.path() + "/file");  // a savepoint under a file cannot be written
  }
  auto log = std::make_shared<Log>();
  constexpr uint64_t kRows = 30'000;
  Environment env(options(dir.path() + "/checkpoints"));
  build<true>(env, kRows, 30'000, log);
  Status status;
  std::thread job([&] { status = env.execute("abandoned"); });
  Result<std::string> path = Status::failed("not asked");
  for (int i = 0; i < 500; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (log->written < 3'000) continue;
    path = env.trigger_savepoint(dir.path() + "/file/savepoints");
    if (path || path.status().code() != StatusCode::kNotFound) break;
  }
  job.join();
  ASSERT_TRUE(status) << status.to_string();
  ASSERT_FALSE(path);
  EXPECT_NE(path.status().message().find("not written"), std::string::npos)
      << path.status().to_string();
  ASSERT_EQ(log->aborted.size(), 1u);
  const uint64_t aborted = log->aborted[0];
  EXPECT_NE(std::find(log->prepared.begin(), log->prepared.end(), aborted), log->prepared.end());
  EXPECT_EQ(std::find(log->committed.begin(), log->committed.end(), aborted), log->committed.end());
  EXPECT_GT(log->committed.back(), aborted);
  expect_exactly_once_in_order(*log, kRows);
}

template <bool kBlocks>
void expect_failed_commit_fails_the_job() {
  testing::TempDir dir;
  auto log = std::make_shared<Log>();
  log->fail_commits = true;
  Environment env(options(dir.path() + "/checkpoints"));
  build<kBlocks>(env, 100'000'000, 20'000, log);
  Status s = env.execute("failing commits");
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("operator 'sink' (subtask 1/1) failed: commit of checkpoint"),
            std::string::npos)
      << s.to_string();
  EXPECT_NE(s.message().find("the database went away"), std::string::npos) << s.to_string();
  EXPECT_TRUE(log->published.empty());
}

TEST(SinkCommit, AFailedBlockingCommitFailsTheJobNamingTheSink) {
  expect_failed_commit_fails_the_job<true>();
}

TEST(SinkCommit, AFailedQuickCommitFailsTheJobNamingTheSink) {
  expect_failed_commit_fails_the_job<false>();
}

}  // namespace
}  // namespace sluice
