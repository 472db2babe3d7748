// Figures beyond records in and out: side outputs counted apart from the main output, failures
// counted by the kind of operator that failed, and the connector lag sources publish.
#include <atomic>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "observe/job_snapshot.h"
#include "runtime/job_runner.h"
#include "sluice/sluice.h"

namespace sluice {
namespace {

// Keeps the job's figures at the end, and every error reported with its kind.
class Recorder : public runtime::JobObserver {
 public:
  void job_started(const runtime::JobMetrics& m) override { metrics = &m; }
  void job_finished(const Status&) override { snapshot = observe::take_snapshot(*metrics); }
  void error(std::string_view kind, std::string_view) override { kinds.emplace_back(kind); }
  const runtime::JobMetrics* metrics = nullptr;
  observe::JobSnapshot snapshot;
  std::vector<std::string> kinds;
};

JobOptions quiet_options() {
  JobOptions options;
  options.handle_signals = false;
  EXPECT_TRUE(options.set("metrics.address", "off"));
  return options;
}

inline constexpr OutputTag<int64_t> kEven{"even", 1};

struct Split {
  void process(const int64_t& v, ProcessContext<int64_t>& ctx, Collector<int64_t>& out) {
    if (v % 2 == 0) {
      ctx.output(kEven, v);
    } else {
      out.emit(v);
    }
  }
};

TEST(JobFigures, SideOutputsAreCountedApartFromTheMainOutput) {
  for (int parallelism : {1, 2}) {
    JobOptions options = quiet_options();
    options.parallelism = parallelism;
    Environment env(options);
    std::atomic<uint64_t> odd{0};
    std::atomic<uint64_t> even{0};
    auto split = env.generate(1000, [](uint64_t i) { return static_cast<int64_t>(i); })
                     .key_by([](const int64_t& v) { return v % 7; })
                     .process(Split{})
                     .name("split");
    split.sink(sinks::count<int64_t>(&odd)).name("odd");
    split.side_output(kEven).sink(sinks::count<int64_t>(&even)).name("even");
    Recorder recorder;
    runtime::JobRunner runner(env.graph(), options, &recorder, "sides");
    ASSERT_TRUE(runner.run());
    ASSERT_EQ(recorder.metrics->operators[1].name, "split");
    const observe::OperatorFigures& f = recorder.snapshot.operators[1];
    EXPECT_EQ(f.records_in, 1000u);
    EXPECT_EQ(f.records_out, 500u) << "parallelism " << parallelism;
    EXPECT_EQ(f.side_records_out, 500u) << "parallelism " << parallelism;
    EXPECT_EQ(recorder.snapshot.operators[3].records_in, 500u);  // the side output's sink
    EXPECT_EQ(recorder.snapshot.operators[0].side_records_out, 0u);
  }
}

struct MaybeThrowingSink {
  bool throws;
  void write(std::span<const int64_t> rows) {
    for (int64_t v : rows) {
      if (throws && v == 500) throw std::runtime_error("sink refuses 500");
    }
  }
  void finish() {}
};

// Runs a three-operator job where exactly one operator throws; returns the error kinds reported.
std::vector<std::string> kinds_when_failing(const std::string& where) {
  JobOptions options = quiet_options();
  Environment env(options);
  env.generate(1000,
               [where](uint64_t i) {
                 if (where == "source" && i == 500) throw std::runtime_error("no row 500");
                 return static_cast<int64_t>(i);
               })
      .map([where](const int64_t& v) {
        if (where == "operator" && v == 500) throw std::runtime_error("cannot map 500");
        return v;
      })
      .sink(MaybeThrowingSink{where == "sink"});
  Recorder recorder;
  runtime::JobRunner runner(env.graph(), options, &recorder, "failing");
  EXPECT_FALSE(runner.run());
  return recorder.kinds;
}

TEST(JobFigures, FailuresAreCountedByTheKindOfOperatorThatFailed) {
  EXPECT_EQ(kinds_when_failing("source"), std::vector<std::string>{"source"});
  EXPECT_EQ(kinds_when_failing("operator"), std::vector<std::string>{"operator"});
  EXPECT_EQ(kinds_when_failing("sink"), std::vector<std::string>{"sink"});
}

// Reads the source's published lag when the first batch arrives.
struct LagProbe {
  const Recorder* recorder;
  int64_t* lag_seen;
  void write(std::span<const int64_t>) {
    if (*lag_seen == -2)
      *lag_seen = recorder->metrics->operators[0].subtasks[0]->connector_lag.get();
  }
  void finish() {}
};

TEST(JobFigures, GeneratorsPublishTheRowsTheyHaveYetToMake) {
  JobOptions options = quiet_options();
  options.batch_size = 100;
  Environment env(options);
  Recorder recorder;
  int64_t lag_seen = -2;
  env.generate(10'000, [](uint64_t i) { return static_cast<int64_t>(i); })
      .sink(LagProbe{&recorder, &lag_seen});
  runtime::JobRunner runner(env.graph(), options, &recorder, "lag");
  ASSERT_TRUE(runner.run());
  EXPECT_EQ(lag_seen, 10'000 - 100);  // published before the first batch went out
  EXPECT_EQ(recorder.snapshot.operators[0].connector_lag, 0);   // all made
  EXPECT_EQ(recorder.snapshot.operators[1].connector_lag, -1);  // a sink publishes none
}

}  // namespace
}  // namespace sluice
