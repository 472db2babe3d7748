// Savepoints: taken on request while a job runs (with and without checkpoint.dir), self-contained
// and out of reach of retention; stop-with-savepoint; and a resume from a savepoint at another
// parallelism of the keyed operators, and of whole jobs with their generator or Nexmark source
// (2 -> 3 -> 1), whose output joined with the first run's equals, as a multiset, the output of
// one uninterrupted run.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "checkpoint/checkpoint_storage.h"
#include "checkpoint/local_directory_store.h"
#include "checkpoint/readings_job.h"
#include "checkpoint/test_dir.h"
#include "sluice/connectors/file_sources.h"
#include "sluice/connectors/nexmark_source.h"
#include "sluice/sluice.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

using testing::kReadings;
using testing::published;
using testing::Reading;
using testing::reading_of;
using testing::savepoint_when_running;
using testing::Sum;

// The savepoint in directory `path`.
Result<checkpoint::LoadedCheckpoint> load_savepoint(const std::string& path) {
  return checkpoint::CheckpointStorage(std::make_unique<checkpoint::LocalDirectoryStore>(""))
      .load_location(path);
}

constexpr uint64_t kRows = kReadings;

JobOptions job_options(int parallelism) { return testing::quiet_job_options(parallelism); }

// A paced generator at `source_parallelism` (0: the job's) -> event time (chained with it:
// per-subtask watermarks, nothing late) -> per sensor, tumbling 1 s sums at the job's
// parallelism -> exactly-once part files.
void build_windowed_job(Environment& env, const std::string& out, double rate,
                        int source_parallelism) {
  GeneratorOptions gen;
  gen.rate = rate;
  gen.parallelism = source_parallelism;
  auto readings = env.generate(kRows, reading_of, gen)
                      .assign_timestamps([](const Reading& r) { return r.time; }, 10);
  if (source_parallelism > 0) readings.parallelism(source_parallelism);
  readings.key_by([](const Reading& r) { return r.sensor; })
      .window(Tumbling{1000})
      .sum([](const Reading& r) { return r.value; })
      .map([](const WindowResult<uint64_t, int64_t>& w) {
        return Sum{w.key, w.window_start, w.value};
      })
      .sink(sinks::json_part_files<Sum>(out));
}

// The windowed job with its source at parallelism 2, and with everything at the job's.
void build_job(Environment& env, const std::string& out, double rate) {
  build_windowed_job(env, out, rate, 2);
}
void build_rescaled_job(Environment& env, const std::string& out, double rate) {
  build_windowed_job(env, out, rate, 0);
}

TEST(Savepoint, TakenOnRequestWithoutCheckpointDir) {
  testing::TempDir tmp;
  Environment env(job_options(2));
  build_job(env, tmp.path() + "/out", 40'000);
  Status status;
  std::thread job([&] { status = env.execute("savepoint"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Result<std::string> path = savepoint_when_running(env, tmp.path() + "/savepoints", false);
  env.cancel();
  job.join();
  ASSERT_TRUE(path) << path.status().to_string();
  EXPECT_EQ(fs::path(*path).parent_path(), fs::path(tmp.path() + "/savepoints"));
  Result<checkpoint::LoadedCheckpoint> loaded = load_savepoint(*path);
  ASSERT_TRUE(loaded) << loaded.status().to_string();
  EXPECT_GE(loaded->id, 1u);
  EXPECT_FALSE(loaded->nodes.empty());
  // (Sinks commit it as they learn of it; a job cancelled at once may leave that to a resume.)
}

TEST(Savepoint, SelfContainedAndNeverRetainedAway) {
  testing::TempDir tmp;
  JobOptions o = job_options(2);
  ASSERT_TRUE(o.set("checkpoint.dir", tmp.path() + "/checkpoints"));
  ASSERT_TRUE(o.set("checkpoint.interval", "20ms"));
  ASSERT_TRUE(o.set("checkpoint.retain", "1"));
  Environment env(o);
  build_job(env, tmp.path() + "/out", 60'000);
  Status status;
  std::thread job([&] { status = env.execute("savepoint"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  Result<std::string> path = savepoint_when_running(env, tmp.path() + "/savepoints", false);
  job.join();  // runs to its end: many checkpoints after the savepoint, one retained
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  ASSERT_TRUE(path) << path.status().to_string();
  EXPECT_GT(env.stats().checkpoints_completed, 3u);
  // Nothing of it lives in the checkpoint directory: it loads with that directory gone.
  fs::remove_all(tmp.path() + "/checkpoints");
  Result<checkpoint::LoadedCheckpoint> loaded = load_savepoint(*path);
  ASSERT_TRUE(loaded) << loaded.status().to_string();
}

TEST(Savepoint, RequestAfterTheJobIsNotFound) {
  Environment env(job_options(1));
  Result<std::string> r = env.trigger_savepoint("/tmp/nowhere");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST(Savepoint, BadSavepointPathNamesTheOption) {
  testing::TempDir tmp;
  JobOptions o = job_options(1);
  ASSERT_TRUE(o.set("savepoint.path", tmp.path() + "/missing"));
  Environment env(o);
  build_job(env, tmp.path() + "/out", 0);
  Status s = env.execute("bad");
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("savepoint.path"), std::string::npos) << s.message();
}

// Exactly-once part files whose subtask 0, when `slow`, takes 50 µs a row: the source subtask
// chained to it falls behind its pace and the others, so a savepoint cuts the source at a wide
// ragged edge.
template <typename T>
struct SlowFirstSubtask {
  decltype(sinks::json_part_files<T>("")) files;
  bool slow = false;

  void open(int subtask, int parallelism, bool checkpointing) {
    slow = slow && subtask == 0;
    files.open(subtask, parallelism, checkpointing);
  }
  void write(std::span<const T> rows) {
    if (slow) std::this_thread::sleep_for(std::chrono::microseconds(50 * rows.size()));
    files.write(rows);
  }
  void finish() { files.finish(); }
  Status prepare(uint64_t id, std::vector<char>& state) { return files.prepare(id, state); }
  Status commit(uint64_t id) { return files.commit(id); }
  Status abort(uint64_t id) { return files.abort(id); }
  Status recover(const std::vector<std::vector<char>>& states, int old_parallelism) {
    return files.recover(states, old_parallelism);
  }
};

// Nexmark bids at the job's parallelism, every field, into exactly-once part files; the paced
// runs with one slow sink subtask.
void build_nexmark_job(Environment& env, const std::string& out, double rate) {
  nexmark::NexmarkOptions opts;
  opts.events = kRows;
  opts.rate = rate;
  opts.base_time = 1'767'225'600'000;  // event time independent of when a run starts
  opts.event_rate = 10'000;
  nexmark::bids(env, opts).sink(
      SlowFirstSubtask<nexmark::Bid>{sinks::json_part_files<nexmark::Bid>(out), rate > 0});
}

// Seven CSV files of readings (60,000 rows in all, of unequal lengths) in a directory made once.
const std::string& reading_files() {
  static testing::TempDir* dir = [] {
    auto* d = new testing::TempDir();
    uint64_t i = 0;
    for (int f = 0; f < 7; ++f) {
      std::ofstream out(d->path() + "/readings-" + std::to_string(f) + ".csv");
      const uint64_t rows = f < 6 ? 6'000 + 1'000 * static_cast<uint64_t>(f) : kRows - 51'000;
      for (uint64_t k = 0; k < rows; ++k, ++i) {
        const Reading r = reading_of(i);
        out << r.sensor << "," << r.time << "," << r.value << "\n";
      }
    }
    return d;
  }();
  return dir->path();
}

// The CSV files at the job's parallelism -> (paced runs: a map slowed down) -> exactly-once part
// files.
void build_file_job(Environment& env, const std::string& out, double rate) {
  read_csv(env, reading_files(),
           [](const CsvRow& r) {
             return Reading{static_cast<uint64_t>(r.int64(0)), r.int64(1), r.int64(2)};
           })
      .map([slow = rate > 0](const Reading& r) {
        // About 2 s for all rows on two workers: each run is stopped while reading.
        if (slow && r.time % 80 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return Sum{r.sensor, r.time, r.value};
      })
      .sink(sinks::json_part_files<Sum>(out));
}

using JobBuilder = void (*)(Environment&, const std::string&, double);

// Runs `build`'s job at parallelisms[0], stops it with a savepoint midway, resumes it from there
// at the next parallelism, and so on; the last run goes to the end. Everything published must
// equal one uninterrupted run's output.
void resume_at(JobBuilder build, const std::vector<int>& parallelisms) {
  testing::TempDir tmp;
  std::vector<std::string> expected;
  {
    Environment env(job_options(1));
    build(env, tmp.path() + "/reference", 0);
    ASSERT_TRUE(env.execute("reference").is_ok());
    expected = published(tmp.path() + "/reference");
    ASSERT_GT(expected.size(), 1000u);
  }
  const std::string out = tmp.path() + "/out";
  std::string savepoint;
  for (size_t run = 0; run < parallelisms.size(); ++run) {
    JobOptions o = job_options(parallelisms[run]);
    if (!savepoint.empty()) {
      ASSERT_TRUE(o.set("savepoint.path", savepoint));
    }
    Environment env(o);
    if (run + 1 == parallelisms.size()) {
      build(env, out, 0);
      Status status = env.execute("last");
      ASSERT_TRUE(status.is_ok()) << status.to_string();
      EXPECT_GT(env.stats().restored_from, 0u);
      break;
    }
    build(env, out, 60'000);  // 1 s of input; each run stops after about a third of it
    Status status;
    std::thread job([&] { status = env.execute("stopped"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    Result<std::string> path = savepoint_when_running(env, tmp.path() + "/savepoints", true);
    job.join();
    ASSERT_TRUE(path) << path.status().to_string();
    ASSERT_TRUE(status.is_ok()) << status.to_string();
    EXPECT_EQ(env.stats().stopped_with_savepoint, *path);
    savepoint = *path;
    // Sources stopped at the savepoint's barrier: the sinks received nothing after it.
    uintmax_t after_barrier = 0;
    for (const auto& entry : fs::directory_iterator(out)) {
      if (entry.path().extension() == ".inprogress") after_barrier += entry.file_size();
    }
    EXPECT_EQ(after_barrier, 0u) << "rows reached a sink after the stopping savepoint's barrier";
    const size_t so_far = published(out).size();
    EXPECT_GT(so_far, 0u);
    EXPECT_LT(so_far, expected.size()) << "run " << run << " stopped after the input ended";
  }
  const std::vector<std::string> got = published(out);
  EXPECT_EQ(got.size(), expected.size());
  for (size_t i = 0, shown = 0; i < got.size() && i < expected.size() && shown < 6; ++i) {
    if (got[i] != expected[i]) {
      ADD_FAILURE() << got[i] << " vs " << expected[i];
      ++shown;
    }
  }
  EXPECT_TRUE(got == expected) << "rows lost or duplicated across the stops";
}

// The keyed operators rescale; the source keeps parallelism 2.
TEST(Savepoint, StopAndResumeAtParallelism1To2) { resume_at(build_job, {1, 2}); }
TEST(Savepoint, StopAndResumeAtParallelism1To1) { resume_at(build_job, {1, 1}); }
TEST(Savepoint, StopAndResumeAtParallelism2To1) { resume_at(build_job, {2, 1}); }
TEST(Savepoint, StopAndResumeAtParallelism4To2) { resume_at(build_job, {4, 2}); }

// The whole job rescales, its generator or Nexmark source too.
TEST(Savepoint, GeneratorJobResumesAtParallelism2To3To1) {
  resume_at(build_rescaled_job, {2, 3, 1});
}
TEST(Savepoint, NexmarkJobResumesAtParallelism2To3To1) { resume_at(build_nexmark_job, {2, 3, 1}); }
// File sources: every file a split, its position restored wherever it goes.
TEST(Savepoint, FileJobResumesAtParallelism2To3To1) { resume_at(build_file_job, {2, 3, 1}); }

}  // namespace
}  // namespace sluice
