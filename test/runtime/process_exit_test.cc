// Process level: a program whose job fails exits non-zero promptly after the exception (no worker
// thread left behind, no hang in teardown). Runs the failing_job helper as a subprocess.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern char** environ;

namespace {

struct HelperRun {
  int exit_code = -1;
  std::string out;
  int64_t exited_ns = 0;  // steady_clock, comparable with the child's (CLOCK_MONOTONIC)
};

HelperRun run_helper(const std::string& mode) {
  HelperRun r;
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) {
    ADD_FAILURE() << "pipe failed";
    return r;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  std::string path = SLUICE_FAILING_JOB;
  std::vector<char*> argv{path.data(), const_cast<char*>(mode.c_str()), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, path.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (rc != 0) {
    close(pipe_fds[0]);
    ADD_FAILURE() << "posix_spawn " << path << " failed: " << rc;
    return r;
  }
  char buf[4096];
  ssize_t n;
  while ((n = read(pipe_fds[0], buf, sizeof buf)) > 0) r.out.append(buf, static_cast<size_t>(n));
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exited_ns = std::chrono::steady_clock::now().time_since_epoch().count();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

int64_t thrown_ns(const std::string& out) {
  long long ns = 0;
  const size_t at = out.find("thrown ");
  if (at == std::string::npos || std::sscanf(out.c_str() + at, "thrown %lld", &ns) != 1) return 0;
  return ns;
}

TEST(ProcessExitTest, FailingMapExitsNonZeroWithinASecond) {
  HelperRun r = run_helper("map");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const int64_t thrown = thrown_ns(r.out);
  ASSERT_GT(thrown, 0) << r.out;
  EXPECT_LT(static_cast<double>(r.exited_ns - thrown) / 1e9, 1.0);
}

TEST(ProcessExitTest, FailureUnderBackpressureExitsNonZeroWithinASecond) {
  HelperRun r = run_helper("backpressured");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const int64_t thrown = thrown_ns(r.out);
  ASSERT_GT(thrown, 0) << r.out;
  EXPECT_LT(static_cast<double>(r.exited_ns - thrown) / 1e9, 1.0);
}

// Key groups must mean the same thing in every process that runs a job: a restore from a
// checkpoint and the processes of one Kafka consumer group all rely on it (absl::Hash, seeded per
// process, would not do).
TEST(ProcessExitTest, KeyHashesAreStableAcrossProcesses) {
  HelperRun first = run_helper("hash");
  HelperRun second = run_helper("hash");
  ASSERT_EQ(first.exit_code, 0);
  ASSERT_EQ(second.exit_code, 0);
  EXPECT_EQ(first.out, second.out);
}

}  // namespace
