// Savepoints through a running job's HTTP endpoint: POST /api/savepoint and /api/stop, and the
// `sluice savepoint` / `sluice stop` commands that call them. Everything on loopback.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "checkpoint/test_dir.h"
#include "running_job.h"
#include "sluice/sluice.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

CommandResult run_cli(const std::string& args) {
  CommandResult r;
  const std::string command = std::string(SLUICE_CLI) + " " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) r.out += buffer;
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r;
}

bool is_savepoint(const std::string& path) { return fs::exists(path + "/MANIFEST"); }

class SavepointRestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = test::free_port();
    JobOptions o;
    o.parallelism = 2;
    o.metrics_address = "127.0.0.1:" + std::to_string(port_);
    o.progress = Progress::kOff;
    o.handle_signals = false;
    env_ = std::make_unique<Environment>(o);
    GeneratorOptions gen;
    gen.rate = 20'000;
    env_->generate(
            UINT64_MAX, [](uint64_t i) { return i; }, gen)
        .key_by([](uint64_t i) { return i % 17; })
        .reduce([](uint64_t a, uint64_t b) { return a + b; })
        .sink([](uint64_t) {});
    job_ = std::thread([this] { status_ = env_->execute("savepoint-rest"); });
    test::poll(port_, "/api/job", [](const std::string& body) { return !body.empty(); });
  }
  void TearDown() override {
    env_->cancel();
    if (job_.joinable()) job_.join();
  }
  std::string job() const { return "127.0.0.1:" + std::to_string(port_); }

  int port_ = 0;
  std::unique_ptr<Environment> env_;
  Status status_;
  std::thread job_;
  testing::TempDir tmp_;
};

TEST_F(SavepointRestTest, PostSavepointWithParameterOrJsonBody) {
  httplib::Client client("127.0.0.1", port_);
  const std::string dir = tmp_.path() + "/by-param";
  auto res = client.Post("/api/savepoint", httplib::Params{{"dir", dir}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_TRUE(test::contains(res->body, "\"savepoint\":\"" + dir + "/savepoint-")) << res->body;

  res = client.Post("/api/savepoint", "{\"dir\": \"" + tmp_.path() + "/by-json\"}",
                    "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_TRUE(test::contains(res->body, "/by-json/savepoint-")) << res->body;
  EXPECT_FALSE(fs::is_empty(tmp_.path() + "/by-json"));

  res = client.Post("/api/savepoint", "", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_TRUE(test::contains(res->body, "\"error\":")) << res->body;
}

TEST_F(SavepointRestTest, CliSavepointThenStop) {
  const CommandResult taken = run_cli("savepoint --job " + job() + " --dir " + tmp_.path() + "/a");
  ASSERT_EQ(taken.exit_code, 0) << taken.out;
  EXPECT_EQ(fs::path(taken.out).parent_path(), fs::path(tmp_.path() + "/a"));
  EXPECT_TRUE(is_savepoint(taken.out)) << taken.out;

  const CommandResult stopped =
      run_cli("stop --job " + job() + " --savepoint " + tmp_.path() + "/b");
  ASSERT_EQ(stopped.exit_code, 0) << stopped.out;
  EXPECT_TRUE(is_savepoint(stopped.out)) << stopped.out;
  job_.join();
  EXPECT_TRUE(status_.is_ok()) << status_.to_string();
  EXPECT_EQ(env_->stats().stopped_with_savepoint, stopped.out);
}

TEST_F(SavepointRestTest, CliWithoutAJobSaysSo) {
  const CommandResult r = run_cli("savepoint --job 127.0.0.1:" + std::to_string(test::free_port()) +
                                  " --dir " + tmp_.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(test::contains(r.out, "no job answers at")) << r.out;
}

}  // namespace
}  // namespace sluice
