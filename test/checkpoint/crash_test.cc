// The crash test: the job of crash_job_main.cc is killed with SIGKILL at random moments and
// started again each time on the same directories; its published output must equal, byte for
// byte once sorted, the output of one uninterrupted run — no row lost, none duplicated, every
// window (open across a crash or not) fired once with the right result.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "checkpoint/test_dir.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRows = "40000";
constexpr const char* kRate = "25000";  // about 1.6 s of input per uninterrupted run

// How one test runs the job.
struct JobRun {
  const char* backend = "memory";       // SLUICE_CRASH_BACKEND
  std::vector<int> parallelisms = {2};  // of the keyed operators, a start after another
  const char* delivery = "exactly-once";
  const char* fault = nullptr;  // SLUICE_CRASH_FAULT
};

pid_t start(const std::string& out, const std::string& checkpoints, const JobRun& run = {},
            int parallelism = 2) {
  const std::string p = std::to_string(parallelism);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("SLUICE_CRASH_BACKEND", run.backend, 1);
    if (run.fault != nullptr) ::setenv("SLUICE_CRASH_FAULT", run.fault, 1);
    ::execl(SLUICE_CRASH_JOB, SLUICE_CRASH_JOB, out.c_str(), checkpoints.c_str(), kRows, kRate,
            p.c_str(), run.delivery, static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The id of the newest complete checkpoint under `dir`; 0 for none.
uint64_t newest_checkpoint(const std::string& dir) {
  uint64_t newest = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("chk-", 0) == 0 && fs::exists(entry.path() / "MANIFEST", ec)) {
      newest = std::max<uint64_t>(newest, std::strtoull(name.c_str() + 4, nullptr, 10));
    }
  }
  return newest;
}

// The published rows of every part file under `dir`, sorted; in-progress parts are not output.
std::vector<std::string> published(const std::string& dir) {
  std::vector<std::string> lines;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || name.rfind("part-", 0) != 0) continue;
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) {
      lines.push_back(entry.path().parent_path().filename().string() + " " + line);
    }
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

// The first row of `expected` not in `got` (sorted both), or "" for none.
std::string first_missing(const std::vector<std::string>& got,
                          const std::vector<std::string>& expected) {
  std::vector<std::string> missing;
  std::set_difference(expected.begin(), expected.end(), got.begin(), got.end(),
                      std::back_inserter(missing));
  return missing.empty() ? std::string()
                         : missing.front() + " (of " + std::to_string(missing.size()) + ")";
}

// The output of one uninterrupted run without checkpoints (memory backend, parallelism 2),
// computed once for every test of the file.
const std::vector<std::string>& reference() {
  static const std::vector<std::string> lines = [] {
    testing::TempDir dir;
    EXPECT_EQ(wait_exit(start(dir.path() + "/out", "-")), 0);
    return published(dir.path() + "/out");
  }();
  return lines;
}

// Kills the job `kills` times at random moments, restarting it each time on the same
// directories (at the next of `run.parallelisms`), then lets it finish; the published output,
// sorted, must equal the reference. Sorted because parallelism decides which sink subtask, and
// so which part file, a row goes to; the rows themselves do not depend on it.
void crash_many_times(int kills, uint32_t seed, const JobRun& config = {}) {
  const std::vector<std::string>& expected = reference();
  ASSERT_GT(expected.size(), 900u);

  testing::TempDir run;
  const std::string out = run.path() + "/out", checkpoints = run.path() + "/checkpoints";
  std::mt19937 rng(seed);
  int killed = 0, exits = 0, starts = 0;
  auto next_parallelism = [&] {
    return config.parallelisms[static_cast<size_t>(starts++) % config.parallelisms.size()];
  };
  while (killed < kills) {
    const uint64_t before = newest_checkpoint(checkpoints);
    const pid_t pid = start(out, checkpoints, config, next_parallelism());
    // Every run completes a checkpoint of its own before it may be killed, so that each restart
    // restores (at another parallelism, when the test alternates them); then it dies at a
    // random moment of the next 250 ms.
    int status = -1;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (newest_checkpoint(checkpoints) == before && status < 0 &&
           std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      int raw = 0;
      if (::waitpid(pid, &raw, WNOHANG) == pid) {
        status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
      }
    }
    if (status < 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 250));
      ::kill(pid, SIGKILL);
      status = wait_exit(pid);
    }
    if (status == 128 + SIGKILL) {
      ++killed;
    } else {
      ASSERT_EQ(status, 0) << "the job failed (a restore it could not make?) after " << killed
                           << " kills";
      ++exits;  // it finished before the kill: start over on fresh directories
      fs::remove_all(out);
      fs::remove_all(checkpoints);
    }
  }
  ASSERT_EQ(wait_exit(start(out, checkpoints, config, next_parallelism())), 0);
  const std::vector<std::string> got = published(out);
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << "output differs after " << killed
                               << " kills; first missing: " << first_missing(got, expected);
  ::testing::Test::RecordProperty("kills", killed);
  ::testing::Test::RecordProperty("finished_before_kill", exits);
}

// The job aborts right after a sink subtask pre-committed a part with rows, a checkpoint of the
// run being complete (SLUICE_CRASH_FAULT), then resumes from it and runs to its end; the
// published output, sorted. An at-least-once sink published that part at the pre-commit; the
// replay writes its rows again.
std::vector<std::string> crash_after_pre_commit(const char* delivery) {
  testing::TempDir run;
  const std::string out = run.path() + "/out", checkpoints = run.path() + "/checkpoints";
  JobRun faulty;
  faulty.delivery = delivery;
  faulty.fault = "after-pre-commit";
  EXPECT_EQ(wait_exit(start(out, checkpoints, faulty, 2)), 128 + SIGABRT);
  faulty.fault = nullptr;
  EXPECT_EQ(wait_exit(start(out, checkpoints, faulty, 2)), 0);
  return published(out);
}

// Kills per test in the default suite; crash_test_slow (label slow) builds this file with 5
// times as many.
#ifndef SLUICE_CRASH_KILLS
#define SLUICE_CRASH_KILLS 10
#endif
// The slow build's tests need names of their own: ctest sets a label by test name, so the slow
// label would otherwise also fall on the default build's tests of the same name.
#ifndef SLUICE_CRASH_SUITE
#define SLUICE_CRASH_SUITE CrashTest
#endif
constexpr int kKills = SLUICE_CRASH_KILLS;

TEST(SLUICE_CRASH_SUITE, OutputIsExactlyOnceAcrossKills) { crash_many_times(kKills, 7); }

TEST(SLUICE_CRASH_SUITE, OutputIsExactlyOnceAcrossKillsWithRocksDb) {
  JobRun run;
  run.backend = "rocksdb";
  crash_many_times(kKills, 11, run);
}

// Each restart restores the keyed operators at another parallelism (2 -> 1 -> 3 -> 2 ...): key
// groups move between subtasks, merge and split.
TEST(SLUICE_CRASH_SUITE, OutputIsExactlyOnceAcrossRescalingRestarts) {
  JobRun run;
  run.parallelisms = {2, 1, 3};
  crash_many_times(kKills / 2, 13, run);
}

TEST(SLUICE_CRASH_SUITE, OutputIsExactlyOnceAcrossRescalingRestartsWithRocksDb) {
  JobRun run;
  run.backend = "rocksdb";
  run.parallelisms = {2, 1, 3};
  crash_many_times(kKills / 2, 17, run);
}

// The harness tells at-least-once from exactly-once: a crash between pre-commit and commit
// duplicates rows with the first and not with the second.
TEST(SLUICE_CRASH_SUITE, CrashBetweenPreCommitAndCommitDuplicatesAtLeastOnceOutput) {
  const std::vector<std::string> got = crash_after_pre_commit("at-least-once");
  const std::vector<std::string>& expected = reference();
  EXPECT_GT(got.size(), expected.size());
  EXPECT_TRUE(std::adjacent_find(got.begin(), got.end()) != got.end()) << "no duplicate row";
  std::vector<std::string> unique = got;
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  EXPECT_TRUE(unique == expected) << "rows lost or changed, not only duplicated";
}

TEST(SLUICE_CRASH_SUITE, CrashBetweenPreCommitAndCommitKeepsExactlyOnceOutput) {
  const std::vector<std::string> got = crash_after_pre_commit("exactly-once");
  EXPECT_EQ(got.size(), reference().size());
  EXPECT_TRUE(got == reference());
}

}  // namespace
}  // namespace sluice
