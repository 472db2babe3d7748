// The dashboard in a real browser: a running job serves it on loopback, and
// web/test/dashboard.test.mjs loads it in headless Chromium (playwright-core), checks that the job
// graph and the throughput chart render with live values, and saves a screenshot, kept as a test
// artifact in <build>/test/artifacts/dashboard.png.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "child_process.h"
#include "running_job.h"

namespace sluice {
namespace {

TEST(Dashboard, RendersTheGraphAndChartsWithLiveValuesInChromium) {
  const int port = test::free_port();
  test::RunningJob job("127.0.0.1:" + std::to_string(port));
  ASSERT_FALSE(
      test::poll(port, "/api/job", [](const std::string& b) { return !b.empty(); }).empty());

  const std::filesystem::path artifacts = SLUICE_TEST_ARTIFACTS;
  std::filesystem::create_directories(artifacts);
  const std::string screenshot = (artifacts / "dashboard.png").string();
  const std::string log = (artifacts / "dashboard_test.log").string();
  std::filesystem::remove(screenshot);
  test::ChildProcess browser({SLUICE_NODE, SLUICE_DASHBOARD_TEST,
                              "http://127.0.0.1:" + std::to_string(port) + "/", screenshot, "3"},
                             log);
  ASSERT_TRUE(browser.started());
  const int code = browser.wait(std::chrono::seconds(90));
  std::ifstream in(log);
  const std::string output((std::istreambuf_iterator<char>(in)), {});
  std::printf("%s", output.c_str());
  EXPECT_EQ(code, 0) << output;
  EXPECT_TRUE(std::filesystem::exists(screenshot)) << screenshot;
  EXPECT_TRUE(test::contains(output, "operators: numbers, even, discard")) << output;
  EXPECT_EQ(job.stop().code(), StatusCode::kCancelled);
}

}  // namespace
}  // namespace sluice
