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

pid_t start(const std::string& out, const std::string& checkpoints) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(SLUICE_CRASH_JOB, SLUICE_CRASH_JOB, out.c_str(), checkpoints.c_str(), kRows, kRate,
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
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

void crash_many_times(int kills, uint32_t seed) {
  testing::TempDir reference;
  ASSERT_EQ(wait_exit(start(reference.path() + "/out", "-")), 0);
  const std::vector<std::string> expected = published(reference.path() + "/out");
  ASSERT_GT(expected.size(), 900u);

  testing::TempDir run;
  const std::string out = run.path() + "/out", checkpoints = run.path() + "/checkpoints";
  std::mt19937 rng(seed);
  int killed = 0, exits = 0;
  while (killed < kills) {
    const pid_t pid = start(out, checkpoints);
    std::this_thread::sleep_for(std::chrono::milliseconds(60 + rng() % 400));
    if (::kill(pid, SIGKILL) == 0 && wait_exit(pid) == 128 + SIGKILL) {
      ++killed;
    } else {
      ++exits;  // it finished before the kill: start over on fresh directories
      fs::remove_all(out);
      fs::remove_all(checkpoints);
    }
  }
  ASSERT_EQ(wait_exit(start(out, checkpoints)), 0);
  const std::vector<std::string> got = published(out);
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << "output differs after " << killed << " kills";
  ::testing::Test::RecordProperty("kills", killed);
  ::testing::Test::RecordProperty("finished_before_kill", exits);
}

// 20 kills in the default suite; crash_test_slow (label slow) builds this file with 100.
#ifndef SLUICE_CRASH_KILLS
#define SLUICE_CRASH_KILLS 20
#endif

TEST(CrashTest, OutputIsExactlyOnceAcrossKills) { crash_many_times(SLUICE_CRASH_KILLS, 7); }

}  // namespace
}  // namespace sluice
