#include <gtest/gtest.h>

#include "sluice/options.h"

namespace sluice {
namespace {

TEST(JobOptions, SetsEachKindOfValue) {
  JobOptions o;
  ASSERT_TRUE(o.set("parallelism", "4"));
  ASSERT_TRUE(o.set("batch.size = 256"));
  ASSERT_TRUE(o.set("batch.flush_delay", "2ms"));
  ASSERT_TRUE(o.set("channel.capacity", "64"));
  ASSERT_TRUE(o.set("handle_signals", "off"));
  EXPECT_EQ(o.parallelism, 4);
  EXPECT_EQ(o.batch_size, 256u);
  EXPECT_EQ(o.flush_delay_us, 2000);
  EXPECT_EQ(o.channel_capacity, 64u);
  EXPECT_FALSE(o.handle_signals);
  EXPECT_EQ(o.get("batch.flush_delay"), "2ms");
  EXPECT_EQ(o.get("parallelism"), "4");
  EXPECT_EQ(o.get("handle_signals"), "false");
  EXPECT_EQ(o.get("no.such.key"), "");
}

TEST(JobOptions, EveryKeyRoundTripsThroughGet) {
  JobOptions o;
  for (const JobOptionInfo& info : job_option_keys()) {
    std::string value = o.get(info.key);
    if (info.kind == "text" && value.empty()) continue;  // unset by default (checkpoint.dir)
    ASSERT_FALSE(value.empty()) << info.key;
    JobOptions copy;
    EXPECT_TRUE(copy.set(info.key, value)) << info.key << " = " << value;
    EXPECT_EQ(copy.get(info.key), value) << info.key;
  }
}

TEST(JobOptions, BadValuesNameTheKeyAndWhatWasExpected) {
  JobOptions o;
  Status s = o.set("parallelism", "four");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(),
            "job option 'parallelism': expected an integer from 1 to 4096, got 'four'");
  s = o.set("channel.capacity", "12");
  EXPECT_NE(s.message().find("power of two"), std::string::npos) << s.message();
  s = o.set("batch.flush_delay", "soon");
  EXPECT_NE(s.message().find("'batch.flush_delay': expected a duration"), std::string::npos)
      << s.message();
  s = o.set("handle_signals", "maybe");
  EXPECT_EQ(s.message(), "job option 'handle_signals': expected true or false, got 'maybe'");
  EXPECT_EQ(o.parallelism, 1);  // a failed set leaves the options as they were
}

TEST(JobOptions, CheckpointAndRestartKeys) {
  JobOptions o;
  EXPECT_EQ(o.get("checkpoint.interval"), "off");
  ASSERT_TRUE(o.set("checkpoint.interval", "1s"));
  ASSERT_TRUE(o.set("checkpoint.dir", "/tmp/job-7"));
  ASSERT_TRUE(o.set("checkpoint.retain", "5"));
  ASSERT_TRUE(o.set("checkpoint.timeout", "30s"));
  ASSERT_TRUE(o.set("restart.attempts", "3"));
  ASSERT_TRUE(o.set("restart.backoff", "250ms"));
  EXPECT_EQ(o.checkpoint_interval_us, 1'000'000);
  EXPECT_EQ(o.checkpoint_dir, "/tmp/job-7");
  EXPECT_EQ(o.checkpoint_retain, 5);
  EXPECT_EQ(o.checkpoint_timeout_us, 30'000'000);
  EXPECT_EQ(o.restart_attempts, 3);
  EXPECT_EQ(o.restart_backoff_us, 250'000);
  EXPECT_EQ(o.get("checkpoint.interval"), "1s");
  ASSERT_TRUE(o.set("checkpoint.interval", "off"));
  EXPECT_EQ(o.checkpoint_interval_us, 0);
  EXPECT_EQ(o.set("checkpoint.interval", "often").message(),
            "job option 'checkpoint.interval': expected a duration such as '1s' or '500ms', or "
            "'off', got 'often'");
  EXPECT_EQ(o.set("checkpoint.timeout", "0s").message(),
            "job option 'checkpoint.timeout': expected a positive duration such as '1s' or "
            "'500ms', got '0s'");
  EXPECT_EQ(o.set("checkpoint.retain", "0").message(),
            "job option 'checkpoint.retain': expected an integer from 1 to 1000, got '0'");
  EXPECT_EQ(o.set("checkpoint.dir", "").message(),
            "job option 'checkpoint.dir': expected a directory path, got ''");
}

TEST(JobOptions, UnknownKeysSuggestTheNearestOne) {
  JobOptions o;
  EXPECT_EQ(o.set("paralelism", "2").message(),
            "unknown job option 'paralelism' (did you mean 'parallelism'?)");
  Status s = o.set("zzz", "1");
  EXPECT_NE(s.message().find("unknown job option 'zzz'; known: parallelism"), std::string::npos)
      << s.message();
  EXPECT_EQ(o.set("no equals sign").message(),
            "expected a job option as key=value, got 'no equals sign'");
}

TEST(JobOptions, StateBackendAndDirectory) {
  JobOptions o;
  EXPECT_EQ(o.get("state.backend"), "memory");
  EXPECT_NE(o.get("state.dir").find("sluice-state"), std::string::npos);
  ASSERT_TRUE(o.set("state.backend", "rocksdb"));
  ASSERT_TRUE(o.set("state.dir = /var/tmp/job-state"));
  EXPECT_EQ(o.state_backend, StateBackendKind::kRocksDb);
  EXPECT_EQ(o.get("state.backend"), "rocksdb");
  EXPECT_EQ(o.state_dir, "/var/tmp/job-state");
  EXPECT_EQ(o.get("state.dir"), "/var/tmp/job-state");
  EXPECT_EQ(o.set("state.backend", "heap").message(),
            "job option 'state.backend': expected 'memory' or 'rocksdb', got 'heap'");
  EXPECT_EQ(o.state_backend, StateBackendKind::kRocksDb);
  EXPECT_EQ(o.set("state.backnd", "memory").message(),
            "unknown job option 'state.backnd' (did you mean 'state.backend'?)");
}

TEST(ParseDuration, UnitsAndBareMilliseconds) {
  EXPECT_EQ(*parse_duration_us("250us"), 250);
  EXPECT_EQ(*parse_duration_us("500ms"), 500'000);
  EXPECT_EQ(*parse_duration_us("1s"), 1'000'000);
  EXPECT_EQ(*parse_duration_us("1.5s"), 1'500'000);
  EXPECT_EQ(*parse_duration_us("2m"), 120'000'000);
  EXPECT_EQ(*parse_duration_us("1h"), 3'600'000'000);
  EXPECT_EQ(*parse_duration_us("20"), 20'000);
  EXPECT_FALSE(parse_duration_us("-1s"));
  EXPECT_FALSE(parse_duration_us("1 fortnight"));
  EXPECT_FALSE(parse_duration_us(""));
  EXPECT_FALSE(parse_duration_us("s"));
}

// Observability keys.
TEST(JobOptions, MetricsAddressAndProgress) {
  JobOptions o;
  EXPECT_EQ(o.get("metrics.address"), "127.0.0.1:9249");
  EXPECT_EQ(o.get("progress"), "auto");
  ASSERT_TRUE(o.set("metrics.address", "0.0.0.0:9300"));
  EXPECT_EQ(o.metrics_address, "0.0.0.0:9300");
  ASSERT_TRUE(o.set("metrics.address=off"));
  EXPECT_EQ(o.metrics_address, "off");
  ASSERT_TRUE(o.set("progress", "off"));
  EXPECT_EQ(o.progress, Progress::kOff);
  for (const char* bad :
       {"9249", "localhost", "localhost:0", "localhost:70000", ":9249", "a b:1"}) {
    Status s = o.set("metrics.address", bad);
    EXPECT_EQ(s.message(), std::string("job option 'metrics.address': expected host:port (such as "
                                       "'127.0.0.1:9249', port 1 to 65535) or 'off', got '") +
                               bad + "'");
  }
  EXPECT_EQ(o.metrics_address, "off");  // unchanged by the failures
  EXPECT_EQ(o.set("progress", "sometimes").message(),
            "job option 'progress': expected auto, on or off, got 'sometimes'");
}

}  // namespace
}  // namespace sluice
