// The crash tests: the job of crash_job_main.cc (and the file job of file_crash_job_main.cc) is
// killed with SIGKILL at random moments and started again each time on the same directories; its
// published output must equal, byte for byte (sorted, for the windowed job), the output of one
// uninterrupted run — no row lost, none duplicated, every window (open across a crash or not)
// fired once with the right result.
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

// How one test runs the job.
struct JobRun {
  const char* backend = "memory";       // SLUICE_CRASH_BACKEND
  std::vector<int> parallelisms = {2};  // of the keyed operators, a start after another
  const char* delivery = "exactly-once";
  const char* fault = nullptr;   // SLUICE_CRASH_FAULT
  bool source_rescales = false;  // SLUICE_CRASH_SOURCE=rescale: the source follows parallelisms
};

pid_t start(const std::string& out, const std::string& checkpoints, const JobRun& run = {},
            int parallelism = 2) {
  const std::string p = std::to_string(parallelism);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("SLUICE_CRASH_BACKEND", run.backend, 1);
    if (run.fault != nullptr) ::setenv("SLUICE_CRASH_FAULT", run.fault, 1);
    if (run.source_rescales) ::setenv("SLUICE_CRASH_SOURCE", "rescale", 1);
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

// Starts a job with `start_job(run)` (run = 0, 1, ...) on the directories `out` and `checkpoints`
// until it has been killed `kills` times, then once more to let it finish. Every run completes a
// checkpoint of its own before it may be killed, so that each restart restores; then it dies at a
// random moment of the next 250 ms. A run that finishes first is started over on fresh
// directories; one that fails fails the test.
// With `ready`, a run is killed only once it also holds: the newest checkpoint is one the test
// wants to restore from.
void kill_repeatedly(const std::function<pid_t(int)>& start_job, const std::string& out,
                     const std::string& checkpoints, int kills, uint32_t seed,
                     const std::function<bool()>& ready = {}) {
  std::mt19937 rng(seed);
  int killed = 0, exits = 0, runs = 0;
  while (killed < kills) {
    const uint64_t before = newest_checkpoint(checkpoints);
    const pid_t pid = start_job(runs++);
    int status = -1;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while ((newest_checkpoint(checkpoints) == before || (ready && !ready())) && status < 0 &&
           std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      int raw = 0;
      if (::waitpid(pid, &raw, WNOHANG) == pid) {
        status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
      }
    }
    if (status < 0) {
      EXPECT_TRUE(!ready || ready()) << "no checkpoint to restore from in 10 s";
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 250));
      ::kill(pid, SIGKILL);
      status = wait_exit(pid);
    }
    if (status == 128 + SIGKILL) {
      ++killed;
    } else {
      ASSERT_EQ(status, 0) << "the job failed (a restore it could not make?) after " << killed
                           << " kills";
      ++exits;
      // A run may end before a checkpoint the test wants exists; not run after run.
      ASSERT_TRUE(!ready || exits <= kills) << "runs end before a checkpoint to restore from";
      fs::remove_all(out);
      fs::remove_all(checkpoints);
    }
  }
  ASSERT_EQ(wait_exit(start_job(runs)), 0);
  ::testing::Test::RecordProperty("kills", killed);
  ::testing::Test::RecordProperty("finished_before_kill", exits);
}

// Kills the crash job `kills` times, restarting it each time on the same directories (at the
// next of `run.parallelisms`); the published output, sorted, must equal the reference. Sorted
// because parallelism decides which sink subtask, and so which part file, a row goes to; the rows
// themselves do not depend on it.
void crash_many_times(int kills, uint32_t seed, const JobRun& config = {}) {
  const std::vector<std::string>& expected = reference();
  ASSERT_GT(expected.size(), 900u);

  testing::TempDir run;
  const std::string out = run.path() + "/out", checkpoints = run.path() + "/checkpoints";
  kill_repeatedly(
      [&](int n) {
        const auto p = config.parallelisms[static_cast<size_t>(n) % config.parallelisms.size()];
        return start(out, checkpoints, config, p);
      },
      out, checkpoints, kills, seed);
  const std::vector<std::string> got = published(out);
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << "output differs after " << kills
                               << " kills; first missing: " << first_missing(got, expected);
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

// The CSV file job of file_crash_job_main.cc, killed `kills` times: each subtask's parts,
// concatenated in order and not sorted, must equal an uninterrupted run's byte for byte.
void crash_file_job(int kills, uint32_t seed) {
  testing::TempDir tmp;
  const std::string input = tmp.path() + "/input";
  write_orders(input);
  auto start_job = [&](const std::string& out, const std::string& checkpoints) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::execl(SLUICE_FILE_CRASH_JOB, SLUICE_FILE_CRASH_JOB, input.c_str(), out.c_str(),
              checkpoints.c_str(), "2", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return pid;
  };
  ASSERT_EQ(wait_exit(start_job(tmp.path() + "/reference", "-")), 0);
  const std::string expected = concatenated_parts(tmp.path() + "/reference");
  ASSERT_GT(expected.size(), 1'000'000u);

  const std::string out = tmp.path() + "/out", checkpoints = tmp.path() + "/checkpoints";
  kill_repeatedly([&](int) { return start_job(out, checkpoints); }, out, checkpoints, kills, seed);
  const std::string got = concatenated_parts(out);
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << "file-source output differs after " << kills << " kills";
}

constexpr const char* kShortRows = "4000";
constexpr const char* kLongRows = "40000";  // with kRate, about 1.6 s

pid_t start_ended_source_job(const std::string& out, const std::string& checkpoints) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(SLUICE_ENDED_SOURCE_JOB, SLUICE_ENDED_SOURCE_JOB, out.c_str(), checkpoints.c_str(),
            kShortRows, kLongRows, kRate, static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// Whether the newest complete checkpoint under `dir` holds the ended-source job's short source
// (node 0, one subtask) at its end and its long one (node 1) still running: a restore from it
// resumes one source ended and the other mid-way.
bool only_the_short_source_ended(const std::string& dir) {
  const uint64_t id = newest_checkpoint(dir);
  if (id == 0) return false;
  char name[32];
  std::snprintf(name, sizeof name, "chk-%020llu", static_cast<unsigned long long>(id));
  std::ifstream manifest(fs::path(dir) / name / "MANIFEST");
  const std::string short_ended = std::string("offset 0 0 next index ") + kShortRows;
  const uint64_t long_rows = std::strtoull(kLongRows, nullptr, 10);
  bool short_at_end = false, long_running = false;
  for (std::string line; std::getline(manifest, line);) {
    short_at_end |= line == short_ended;
    unsigned subtask = 0;
    unsigned long long next = 0;
    if (std::sscanf(line.c_str(), "offset 1 %u next index %llu", &subtask, &next) == 2) {
      long_running |= next < long_rows;
    }
  }
  return short_at_end && long_running;
}

// The job of ended_source_job_main.cc killed `kills` times, each time after a checkpoint taken
// once its short source had ended and before its long one did, so that every restart restores
// that source at its end and the rest of the job mid-way. The output, sorted (the union interleaves
// the two sources differently in every run), must equal an uninterrupted run's.
void crash_after_a_source_ended(int kills, uint32_t seed) {
  testing::TempDir tmp;
  ASSERT_EQ(wait_exit(start_ended_source_job(tmp.path() + "/reference", "-")), 0);
  const std::vector<std::string> expected = published(tmp.path() + "/reference");
  ASSERT_EQ(expected.size(), 4'000u + 40'000u + 520u);  // counts, and 40 windows of 13 keys

  const std::string out = tmp.path() + "/out", checkpoints = tmp.path() + "/checkpoints";
  kill_repeatedly([&](int) { return start_ended_source_job(out, checkpoints); }, out, checkpoints,
                  kills, seed, [&] { return only_the_short_source_ended(checkpoints); });
  const std::vector<std::string> got = published(out);
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << "output differs after " << kills
                               << " kills; first missing: " << first_missing(got, expected);
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

// The generator rescales with the rest (2 -> 1 -> 3 -> 2 ...): each restart resumes its position
// at the ragged edge the killed run's checkpoint left, and again before that edge is passed when
// a run is killed soon after its first checkpoint.
TEST(SLUICE_CRASH_SUITE, OutputIsExactlyOnceAcrossRestartsRescalingTheSource) {
  JobRun run;
  run.parallelisms = {2, 1, 3};
  run.source_rescales = true;
  crash_many_times(kKills / 2, 23, run);
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

// File sources resume at their byte offsets: the output is the same bytes in the same order.
TEST(SLUICE_CRASH_SUITE, FileSourceOutputIsByteIdenticalAcrossKills) {
  crash_file_job(kKills / 2, 19);
}

// Checkpoints go on after a bounded source ended, and restore it at its end.
TEST(SLUICE_CRASH_SUITE, OutputIsExactlyOnceAcrossKillsAfterABoundedSourceEnded) {
  crash_after_a_source_ended(kKills / 2, 23);
}

TEST(SLUICE_CRASH_SUITE, CrashBetweenPreCommitAndCommitKeepsExactlyOnceOutput) {
  const std::vector<std::string> got = crash_after_pre_commit("exactly-once");
  EXPECT_EQ(got.size(), reference().size());
  EXPECT_TRUE(got == reference());
}

}  // namespace
}  // namespace sluice
