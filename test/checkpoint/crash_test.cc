// The crash tests: a job is killed with SIGKILL at random moments and started again each time on
// the same directories; its published output must equal, byte for byte, the output of one
// uninterrupted run — no row lost, none duplicated.
//   - the windowed job of crash_job_main.cc (output compared once sorted): every window, open
//     across a crash or not, fired once with the right result;
//   - the file-source job of file_crash_job_main.cc: CSV files resumed from their checkpointed
//     positions; each subtask's parts, concatenated in order, are compared unsorted.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
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

// Runs `program` with `args` in a child process.
pid_t spawn(const char* program, std::vector<std::string> args) {
  std::vector<char*> argv{const_cast<char*>(program)};
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execv(program, argv.data());
    ::_exit(127);
  }
  return pid;
}

pid_t start(const std::string& out, const std::string& checkpoints) {
  return spawn(SLUICE_CRASH_JOB, {out, checkpoints, kRows, kRate});
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

// Starts the job on (output, checkpoints) until it has been killed `kills` times, then lets it
// finish; the number of runs that finished before their kill (started over on fresh directories).
int kill_repeatedly(const std::function<pid_t(const std::string&, const std::string&)>& start_job,
                    const std::string& out, const std::string& checkpoints, int kills,
                    uint32_t seed) {
  std::mt19937 rng(seed);
  int killed = 0, exits = 0;
  while (killed < kills) {
    const pid_t pid = start_job(out, checkpoints);
    std::this_thread::sleep_for(std::chrono::milliseconds(60 + rng() % 400));
    if (::kill(pid, SIGKILL) == 0 && wait_exit(pid) == 128 + SIGKILL) {
      ++killed;
    } else {
      ++exits;  // it finished before the kill: start over on fresh directories
      fs::remove_all(out);
      fs::remove_all(checkpoints);
    }
  }
  EXPECT_EQ(wait_exit(start_job(out, checkpoints)), 0);
  ::testing::Test::RecordProperty("kills", killed);
  ::testing::Test::RecordProperty("finished_before_kill", exits);
  return exits;
}

void crash_many_times(int kills, uint32_t seed) {
  testing::TempDir reference;
  ASSERT_EQ(wait_exit(start(reference.path() + "/out", "-")), 0);
  const std::vector<std::string> expected = published(reference.path() + "/out");
  ASSERT_GT(expected.size(), 900u);

  testing::TempDir run;
  const std::string out = run.path() + "/out";
  kill_repeatedly(start, out, run.path() + "/checkpoints", kills, seed);
  const std::vector<std::string> got = published(out);
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << "output differs after " << kills << " kills";
}

// Each subtask's published parts concatenated in sequence order, the subtasks one after another.
std::string concatenated_parts(const std::string& dir) {
  std::vector<std::pair<std::pair<int, uint64_t>, fs::path>> parts;
  for (const auto& entry : fs::directory_iterator(dir)) {
    int subtask = 0;
    unsigned long long seq = 0;
    const std::string name = entry.path().filename().string();
    if (std::sscanf(name.c_str(), "part-%d-%llu.", &subtask, &seq) == 2) {
      parts.push_back({{subtask, seq}, entry.path()});
    }
  }
  std::sort(parts.begin(), parts.end());
  std::string all;
  for (const auto& [key, path] : parts) {
    std::ifstream in(path, std::ios::binary);
    all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return all;
}

// Three CSV files of 20,000 rows under `dir`, the last one without a final newline.
void write_orders(const std::string& dir) {
  fs::create_directories(dir);
  for (int f = 0; f < 3; ++f) {
    std::ofstream out(dir + "/orders-" + std::to_string(f) + ".csv", std::ios::binary);
    for (int i = 0; i < 20'000; ++i) {
      const int id = f * 20'000 + i;
      out << id << ",item " << (id * 7) % 113 << "," << (id * 31) % 1000;
      if (f < 2 || i + 1 < 20'000) out << (i % 3 == 0 ? "\r\n" : "\n");
    }
  }
}

void crash_file_job(int kills, uint32_t seed) {
  testing::TempDir tmp;
  const std::string input = tmp.path() + "/input";
  write_orders(input);
  auto start_job = [&](const std::string& out, const std::string& checkpoints) {
    return spawn(SLUICE_FILE_CRASH_JOB, {input, out, checkpoints, "2"});
  };
  ASSERT_EQ(wait_exit(start_job(tmp.path() + "/reference", "-")), 0);
  const std::string expected = concatenated_parts(tmp.path() + "/reference");
  ASSERT_GT(expected.size(), 1'000'000u);

  const std::string out = tmp.path() + "/out";
  kill_repeatedly(start_job, out, tmp.path() + "/checkpoints", kills, seed);
  const std::string got = concatenated_parts(out);
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << "file-source output differs after " << kills << " kills";
}

// 20 kills in the default suite; crash_test_slow (label slow) builds this file with 100.
#ifndef SLUICE_CRASH_KILLS
#define SLUICE_CRASH_KILLS 20
#endif

TEST(CrashTest, OutputIsExactlyOnceAcrossKills) { crash_many_times(SLUICE_CRASH_KILLS, 7); }

// 5 kills in the default suite, 25 under the slow label.
TEST(CrashTest, FileSourceOutputIsByteIdenticalAcrossKills) {
  crash_file_job(SLUICE_CRASH_KILLS / 4, 11);
}

}  // namespace
}  // namespace sluice
