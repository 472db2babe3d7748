// A real Prometheus server (Debian's) scrapes a running job on loopback, and its HTTP API answers
// a rate query over the job's records. Everything lives in a temporary directory and on free
// loopback ports; Prometheus is stopped at the end.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "child_process.h"
#include "running_job.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

TEST(Prometheus, ScrapesARunningJobAndAnswersARateQuery) {
  char dir_template[] = "/tmp/sluice-prometheus-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const fs::path dir = dir_template;

  const int job_port = test::free_port();
  test::RunningJob job("127.0.0.1:" + std::to_string(job_port), 50'000);
  // The job answers before Prometheus starts scraping. (The endpoint may answer before the job
  // is attached to it, with an empty name: wait for the name.)
  ASSERT_TRUE(test::contains(
      test::poll(job_port, "/api/job",
                 [](const std::string& b) { return test::contains(b, "endpoint-test"); }),
      "endpoint-test"));

  {
    std::ofstream config(dir / "prometheus.yml");
    config << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
           << "scrape_configs:\n  - job_name: sluice\n    static_configs:\n"
           << "      - targets: ['127.0.0.1:" << job_port << "']\n";
  }
  const int prometheus_port = test::free_port();
  test::ChildProcess prometheus(
      {SLUICE_PROMETHEUS, "--config.file=" + (dir / "prometheus.yml").string(),
       "--storage.tsdb.path=" + (dir / "data").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port), "--log.level=warn"},
      (dir / "prometheus.log").string());
  ASSERT_TRUE(prometheus.started());

  // Records per second emitted by the source, over the last 5 s of scrapes.
  const std::string query =
      "/api/v1/query?query=sum(rate(sluice_operator_records_out_total%7Boperator%3D%22numbers%22%7D"
      "%5B5s%5D))";
  std::string answer;
  double rate = 0;
  for (int attempt = 0; attempt < 60 && rate <= 0; ++attempt) {
    answer = test::poll(prometheus_port, query, [](const std::string& b) {
      return test::contains(b, R"("status":"success")") && test::contains(b, R"("value":[)");
    });
    const size_t at = answer.find(R"("value":[)");
    if (at != std::string::npos) {
      const size_t quote = answer.find(",\"", at);
      if (quote != std::string::npos) rate = std::atof(answer.c_str() + quote + 2);
    }
    if (rate <= 0) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  std::ifstream log(dir / "prometheus.log");
  const std::string log_text((std::istreambuf_iterator<char>(log)), {});
  EXPECT_GT(rate, 0) << "last answer: " << answer << "\nprometheus log:\n" << log_text;
  // The generator is limited to 50k rows per second.
  EXPECT_LT(rate, 100'000) << answer;
  std::printf("prometheus: rate of source records = %.0f/s\n", rate);

  // The scrape target is up.
  const std::string up =
      test::poll(prometheus_port, "/api/v1/query?query=up", [](auto&) { return true; });
  EXPECT_TRUE(test::contains(up, R"("job":"sluice")")) << up;

  prometheus.stop();
  EXPECT_EQ(job.stop().code(), StatusCode::kCancelled);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sluice
