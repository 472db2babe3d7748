// RocksDB state in the job's checkpoints: a keyed process function on `state.backend=rocksdb`
// checkpoints its database as files, incrementally, and a restart — in-process, or a new job on
// the same directory at the same or another parallelism — restores them.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <sstream>

#include "checkpoint/checkpoint_storage.h"
#include "checkpoint/local_directory_store.h"
#include "checkpoint/sums_job.h"
#include "checkpoint/test_dir.h"
#include "sluice/sluice.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

using testing::expected_sums;
using testing::kRows;
using testing::MaxSink;
using testing::Row;
using testing::row_of;
using Sum = std::pair<uint64_t, int64_t>;

struct RunningSum {
  ValueState<int64_t> sum;
  void open(RuntimeContext& ctx) { sum = ctx.state<ValueState<int64_t>>("sum"); }
  void process(const Row& r, ProcessContext<uint64_t>& ctx, Collector<Sum>& out) {
    const int64_t s = sum.value_or(0) + r.value;
    sum.update(s);
    out.emit({ctx.key(), s});
  }
};

// testing::failing_input -> key_by -> running sum in a process
// function (the options' parallelism) -> sink.
Status run_job(const JobOptions& options, MaxSink sink, std::atomic<bool>* fail_once,
               JobStats* stats) {
  Environment env(options);
  testing::failing_input(env, fail_once)
      .key_by([](const Row& r) { return r.key; })
      .process(RunningSum{})
      .sink(sink);
  Status s = env.execute("rocksdb sums");
  *stats = env.stats();
  return s;
}

JobOptions on_rocksdb(const testing::TempDir& dir, int parallelism = 2) {
  JobOptions o;
  o.parallelism = parallelism;
  o.workers = 2;
  o.handle_signals = false;
  EXPECT_TRUE(o.set("checkpoint.interval", "50ms"));
  EXPECT_TRUE(o.set("checkpoint.dir", dir.path() + "/checkpoints"));
  EXPECT_TRUE(o.set("checkpoint.retain", "4"));
  EXPECT_TRUE(o.set("state.backend", "rocksdb"));
  EXPECT_TRUE(o.set("state.dir", dir.path() + "/state"));
  return o;
}

// The manifest's file lines of checkpoint directory `dir`: name -> kind.
std::map<std::string, char> manifest_files(const std::string& dir) {
  std::ifstream in(dir + "/MANIFEST");
  std::map<std::string, char> files;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string word, name;
    int node = 0;
    char kind = 0;
    if (words >> word >> name >> node >> kind && word == "file") files[name] = kind;
  }
  return files;
}

TEST(RocksDbCheckpointJob, StateIsCheckpointedAsIncrementalFilesAndRestoredInProcess) {
  testing::TempDir dir;
  MaxSink sink;
  JobStats stats;
  Status s = testing::run_with_one_failure(on_rocksdb(dir), run_job, sink, &stats);
  ASSERT_TRUE(s) << s.to_string();
  EXPECT_EQ(stats.restarts, 1);
  EXPECT_GT(stats.restored_from, 0u);
  EXPECT_EQ(sink.shared->max, expected_sums());

  // Every retained checkpoint names the process function's state as RocksDB files of both
  // subtasks, never as key-group streams; an SST file is shared (hard-linked) between
  // checkpoints rather than copied again.
  checkpoint::LocalDirectoryStore store(dir.path() + "/checkpoints");
  const std::vector<uint64_t> ids = store.complete_ids();
  ASSERT_GE(ids.size(), 2u);
  std::map<ino_t, int> sst_inodes;  // -> how many retained checkpoints hold it
  for (uint64_t id : ids) {
    int ssts = 0;
    std::set<std::string> subtasks;
    for (const auto& [name, kind] : manifest_files(store.path_of(id))) {
      EXPECT_NE(kind, 'g') << name;
      if (kind != 'f') continue;
      subtasks.insert(fs::path(name).parent_path().filename().string());
      if (fs::path(name).extension() != ".sst") continue;
      struct stat st {};
      ASSERT_EQ(::stat((store.path_of(id) + "/" + name).c_str(), &st), 0) << name;
      ++sst_inodes[st.st_ino];
      ++ssts;
    }
    EXPECT_EQ(subtasks, (std::set<std::string>{"s0", "s1"})) << "checkpoint " << id;
    EXPECT_GT(ssts, 0) << "checkpoint " << id;
  }
  int shared = 0;
  for (const auto& [inode, count] : sst_inodes) shared += count > 1;
  EXPECT_GT(shared, 0) << "no SST file is shared between checkpoints";
  // Retention deleted older checkpoints whose files the retained ones share: the newest still
  // loads, every file present and matching its checksum.
  EXPECT_GT(ids.front(), 1u);
  std::vector<std::string> warnings;
  checkpoint::CheckpointStorage storage(
      std::make_unique<checkpoint::LocalDirectoryStore>(dir.path() + "/checkpoints"));
  EXPECT_TRUE(storage.load_latest(&warnings).has_value());
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  // The staging directories are gone with the job.
  std::error_code ec;
  EXPECT_TRUE(fs::is_empty(dir.path() + "/state", ec) || !fs::exists(dir.path() + "/state"));
}

// A job fails (no restarts) after checkpoints completed; a new job on the same directory at
// another parallelism of the process function resumes: key groups split (3) or merge (1).
class RocksDbRescale : public ::testing::TestWithParam<int> {};

TEST_P(RocksDbRescale, ANewJobResumesAtAnotherParallelism) {
  testing::TempDir dir;
  std::atomic<bool> fail_once{true};
  JobStats stats;
  Status s = run_job(on_rocksdb(dir, 2), MaxSink{}, &fail_once, &stats);
  ASSERT_FALSE(s);
  ASSERT_GT(stats.checkpoints_completed, 0u);
  MaxSink sink;
  s = run_job(on_rocksdb(dir, GetParam()), sink, nullptr, &stats);
  ASSERT_TRUE(s) << s.to_string();
  EXPECT_GT(stats.restored_from, 0u);
  EXPECT_EQ(sink.shared->max, expected_sums());
}

INSTANTIATE_TEST_SUITE_P(Parallelism, RocksDbRescale, ::testing::Values(1, 3));

TEST(RocksDbCheckpointJob, RocksDbFilesNeedTheRocksDbBackendToRestore) {
  testing::TempDir dir;
  std::atomic<bool> fail_once{true};
  JobStats stats;
  ASSERT_FALSE(run_job(on_rocksdb(dir), MaxSink{}, &fail_once, &stats));
  ASSERT_GT(stats.checkpoints_completed, 0u);
  JobOptions memory = on_rocksdb(dir);
  ASSERT_TRUE(memory.set("state.backend", "memory"));
  Status s = run_job(memory, MaxSink{}, nullptr, &stats);
  EXPECT_FALSE(s);
  EXPECT_NE(s.message().find("restore it with state.backend=rocksdb"), std::string::npos)
      << s.to_string();
}

}  // namespace
}  // namespace sluice
