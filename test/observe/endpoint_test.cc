// The HTTP endpoint of a running job on loopback: /metrics, /api/job and the dashboard's files;
// the next free port when the configured one is taken; `off`; a clear message when it cannot
// listen at all.
#include <atomic>
#include <string>

#include <gtest/gtest.h>

#include "running_job.h"
#include "sluice/sluice.h"

namespace sluice {
namespace {

using test::contains;
using test::free_port;
using test::poll;
using test::PortHolder;
using test::RunningJob;

TEST(Endpoint, ServesMetricsApiAndDashboard) {
  const int port = free_port();
  RunningJob job("127.0.0.1:" + std::to_string(port));
  const std::string api = poll(port, "/api/job", [](const std::string& b) {
    return contains(b, R"("in_per_s":)") && !contains(b, R"("in_per_s":0.0)");
  });
  EXPECT_TRUE(contains(api, R"("job":"endpoint-test","state":"running")")) << api;
  EXPECT_TRUE(contains(api, R"("name":"numbers","parallelism":1,"chain":0,"source":true)")) << api;
  EXPECT_TRUE(contains(api, R"("partitioning":"forward","chained":true)")) << api;
  EXPECT_FALSE(contains(api, R"("in_per_s":0.0)")) << api;

  const std::string metrics = poll(port, "/metrics", [](const std::string& b) {
    return contains(
        b, R"(sluice_operator_records_in_total{sluice_job="endpoint-test",operator="even")");
  });
  EXPECT_TRUE(contains(metrics, "# TYPE sluice_end_to_end_latency_seconds histogram")) << metrics;
  EXPECT_TRUE(contains(metrics, R"(sluice_task_busy_seconds_total{sluice_job="endpoint-test")"));

  const std::string page = poll(port, "/", [](const std::string&) { return true; });
  EXPECT_TRUE(contains(page, "<svg id=\"graph\"")) << page.substr(0, 200);
  EXPECT_TRUE(
      contains(poll(port, "/uPlot.iife.min.js", [](const std::string&) { return true; }), "uPlot"));
  EXPECT_TRUE(
      contains(poll(port, "/dashboard.js", [](const std::string&) { return true; }), "/api/job"));
  EXPECT_EQ(job.stop().code(), StatusCode::kCancelled);
}

TEST(Endpoint, MovesToTheNextFreePortWhenTaken) {
  PortHolder taken;
  RunningJob job("127.0.0.1:" + std::to_string(taken.port()));
  // The job is on one of the next ports; find it by its name.
  bool found = false;
  for (int p = taken.port() + 1; p <= taken.port() + 5 && !found; ++p) {
    found = contains(
        poll(p, "/api/job", [](const std::string& b) { return contains(b, "endpoint-test"); }),
        "endpoint-test");
  }
  EXPECT_TRUE(found);
}

TEST(Endpoint, OffServesNothingAndBadAddressesFailClearly) {
  JobOptions o;
  o.metrics_address = "off";
  o.progress = Progress::kOff;
  Environment env(o);
  std::atomic<uint64_t> n{0};
  env.generate(1000, [](uint64_t i) { return i; }).sink(sinks::count<uint64_t>(&n));
  ASSERT_TRUE(env.execute());
  EXPECT_EQ(n.load(), 1000u);

  JobOptions bad;
  bad.metrics_address = "192.0.2.1:9249";  // not an address of this machine
  bad.progress = Progress::kOff;
  Environment env2(bad);
  env2.generate(10, [](uint64_t i) { return i; }).sink(sinks::count<uint64_t>(&n));
  Status s = env2.execute();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      contains(s.message(), "job option 'metrics.address': cannot listen on 192.0.2.1:9249"))
      << s.message();
}

}  // namespace
}  // namespace sluice
