// Job lifecycle: bounded jobs end, cancellation and SIGINT stop unbounded jobs promptly, and an
// exception anywhere fails the job with the operator's name, also while other subtasks are
// backpressured. The time limits are liveness bounds, not performance claims.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <future>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "sluice/sluice.h"

namespace sluice {
namespace {

// Concatenates with a stream (GCC 12 at -O3 warns falsely, -Wrestrict, on "literal" + std::string).
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Runs env.execute() on another thread; a job still running after `limit` is cancelled and the
// test fails, so a hang shows up as a failure rather than a stuck test binary.
Status execute_within(Environment& env, std::chrono::seconds limit = 20s) {
  auto done = std::async(std::launch::async, [&env] { return env.execute(); });
  if (done.wait_for(limit) == std::future_status::timeout) {
    ADD_FAILURE() << "the job did not finish within " << limit.count() << " s; cancelling";
    env.cancel();
    if (done.wait_for(10s) == std::future_status::timeout) {
      std::fprintf(stderr, "the job ignored cancel(); aborting\n");
      std::abort();
    }
  }
  return done.get();
}

JobOptions options(int parallelism, bool handle_signals = false) {
  JobOptions o;
  o.parallelism = parallelism;
  o.handle_signals = handle_signals;
  return o;
}

struct Event {
  uint64_t key;
  int64_t value;
};

TEST(LifecycleTest, BoundedMultiStageJobTerminates) {
  Environment env(options(4));
  std::atomic<uint64_t> count{0};
  constexpr uint64_t kRows = 300'000;
  env.generate(kRows,
               [](uint64_t i) {
                 return Event{i % 101, static_cast<int64_t>(i)};
               })
      .map([](const Event& e) {
        return Event{e.key, e.value * 2};
      })
      .key_by([](const Event& e) { return e.key; })
      .aggregate(
          int64_t{0}, [](int64_t& n, const Event&) { ++n; },
          [](uint64_t key, int64_t n) {
            return Event{key, n};
          })
      .rebalance()
      .filter([](const Event& e) { return e.value > 0; })
      .map([](const Event& e) { return e.key; })
      .disable_chaining()
      .parallelism(2)
      .sink(sinks::count<uint64_t>(&count));
  Status s = execute_within(env);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(count.load(), kRows);
}

// A bounded job whose source ends long before the sink drains its backlog still ends cleanly.
TEST(LifecycleTest, BoundedJobWithSlowSinkTerminates) {
  JobOptions o = options(2);
  o.channel_capacity = 2;
  o.batch_size = 64;
  Environment env(o);
  std::atomic<uint64_t> count{0};
  env.generate(20'000, [](uint64_t i) { return i; })
      .rebalance()
      .map([](const uint64_t& x) {
        if (x % 512 == 0) std::this_thread::sleep_for(100us);
        return x;
      })
      .sink(sinks::count<uint64_t>(&count));
  Status s = execute_within(env);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(count.load(), 20'000u);
}

void expect_cancelled_promptly(Environment& env, std::atomic<bool>* started) {
  Clock::time_point cancelled_at;
  std::thread canceller([&] {
    while (started != nullptr && !started->load()) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(200ms);
    cancelled_at = Clock::now();
    env.cancel();
  });
  Status s = execute_within(env, 10s);
  const Clock::time_point returned = Clock::now();
  canceller.join();
  EXPECT_EQ(s.code(), StatusCode::kCancelled) << s.to_string();
  EXPECT_LT(std::chrono::duration<double>(returned - cancelled_at).count(), 1.0);
}

TEST(LifecycleTest, CancelStopsAnUnboundedJob) {
  Environment env(options(2));
  std::atomic<bool> started{false};
  env.generate(UINT64_MAX, [](uint64_t i) { return i; })
      .map([](const uint64_t& x) { return x ^ 0x5555; })
      .key_by([](const uint64_t& x) { return x % 17; })
      .reduce([](const uint64_t& a, const uint64_t& b) { return a + b; })
      .sink([&started](const uint64_t&) { started.store(true, std::memory_order_relaxed); });
  expect_cancelled_promptly(env, &started);
}

TEST(LifecycleTest, CancelStopsABackpressuredJob) {
  Environment env(options(2));
  std::atomic<bool> started{false};
  env.generate(UINT64_MAX, [](uint64_t i) { return i; })
      .rebalance()
      .sink([&started](const uint64_t& x) {
        started.store(true, std::memory_order_relaxed);
        if (x % 1024 == 0) std::this_thread::sleep_for(1ms);
      });
  expect_cancelled_promptly(env, &started);
}

// A rate-limited source leaves every worker asleep most of the time; cancel() must wake them.
TEST(LifecycleTest, CancelStopsAnIdleJob) {
  Environment env(options(2));
  GeneratorOptions slow;
  slow.rate = 20;  // rows per second
  env.generate(
         UINT64_MAX, [](uint64_t i) { return i; }, slow)
      .rebalance()
      .sink([](const uint64_t&) {});
  expect_cancelled_promptly(env, nullptr);
}

TEST(LifecycleTest, CancelBeforeExecuteCancelsTheJob) {
  Environment env(options(1));
  env.generate(UINT64_MAX, [](uint64_t i) { return i; }).sink([](const uint64_t&) {});
  env.cancel();
  Status s = execute_within(env, 5s);
  EXPECT_EQ(s.code(), StatusCode::kCancelled) << s.to_string();
}

// A cancel request belongs to one execute(): the next one runs to its end.
TEST(LifecycleTest, EnvironmentRunsAgainAfterACancelledJob) {
  Environment env(options(2));
  std::atomic<uint64_t> count{0};
  GeneratorOptions paced;
  paced.rate = 500'000;  // about 100 ms: long enough that the first run sees its cancel
  env.generate(
         50'000, [](uint64_t i) { return i; }, paced)
      .sink(sinks::count<uint64_t>(&count));
  env.cancel();
  EXPECT_EQ(execute_within(env, 5s).code(), StatusCode::kCancelled);
  count = 0;
  Status s = execute_within(env, 10s);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(count.load(), 50'000u);
}

// cancel() from another thread may land at any point of execute(), including while it returns;
// each job ends either complete or cancelled, and nothing touches a finished runner.
TEST(LifecycleTest, CancelRacingTheEndOfJobsIsSafe) {
  Environment env(options(1));
  std::atomic<uint64_t> count{0};
  env.generate(200, [](uint64_t i) { return i; }).sink(sinks::count<uint64_t>(&count));
  std::atomic<bool> stop{false};
  std::thread canceller([&] {
    while (!stop.load()) {
      env.cancel();
      std::this_thread::yield();
    }
  });
  int ok = 0, cancelled = 0;
  for (int i = 0; i < 300; ++i) {
    Status s = env.execute();
    if (s.is_ok()) {
      ++ok;
    } else {
      EXPECT_EQ(s.code(), StatusCode::kCancelled) << s.to_string();
      ++cancelled;
    }
  }
  stop = true;
  canceller.join();
  EXPECT_EQ(ok + cancelled, 300);
}

TEST(LifecycleTest, SigintCancelsAJobThatHandlesSignals) {
  Environment env(options(2, /*handle_signals=*/true));
  std::atomic<bool> started{false};
  env.generate(UINT64_MAX, [](uint64_t i) { return i; })
      .map([](const uint64_t& x) { return x + 1; })
      .rebalance()
      .sink([&started](const uint64_t&) { started.store(true, std::memory_order_relaxed); });
  Clock::time_point raised_at;
  std::thread raiser([&] {
    // A row reached the sink, so the job is running and its signal handler is installed.
    while (!started.load()) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(100ms);
    raised_at = Clock::now();
    std::raise(SIGINT);
  });
  Status s = execute_within(env, 10s);
  const Clock::time_point returned = Clock::now();
  raiser.join();
  EXPECT_EQ(s.code(), StatusCode::kCancelled) << s.to_string();
  EXPECT_LT(std::chrono::duration<double>(returned - raised_at).count(), 1.0);
}

// ---- failures ----

enum class Where { kMap, kFilter, kKeyFunction, kSink, kGenerator, kFlatMap };

struct FailureCase {
  Where where;
  int parallelism;
  const char* name;
};

class FailureTest : public ::testing::TestWithParam<FailureCase> {};

constexpr uint64_t kFailAt = 20'000;

TEST_P(FailureTest, ExceptionFailsTheJobWithTheOperatorsName) {
  const FailureCase c = GetParam();
  Environment env(options(c.parallelism));
  std::atomic<int64_t> thrown_ns{0};
  const std::string message = cat("boom in ", c.name);
  auto maybe_throw = [&thrown_ns, message](uint64_t x) {
    if (x == kFailAt) {
      thrown_ns.store(Clock::now().time_since_epoch().count());
      throw std::runtime_error(message);
    }
  };
  GeneratorOptions gen;
  if (c.where == Where::kGenerator) gen.name = c.name;
  auto s = env.generate(
      UINT64_MAX,
      [&](uint64_t i) {
        if (c.where == Where::kGenerator) maybe_throw(i);
        return i;
      },
      gen);
  switch (c.where) {
    case Where::kMap:
      s = s.map([&](const uint64_t& x) {
             maybe_throw(x);
             return x;
           }).name(c.name);
      break;
    case Where::kFilter:
      s = s.filter([&](const uint64_t& x) {
             maybe_throw(x);
             return true;
           }).name(c.name);
      break;
    case Where::kFlatMap:
      s = s.flat_map<uint64_t>([&](const uint64_t& x, Collector<uint64_t>& out) {
             maybe_throw(x);
             out.emit(x);
           }).name(c.name);
      break;
    case Where::kKeyFunction:
      s = s.key_by([&](const uint64_t& x) {
             maybe_throw(x);
             return x % 13;
           })
              .reduce([](const uint64_t& a, const uint64_t& b) { return a + b; })
              .name(c.name);
      break;
    default:
      break;
  }
  if (c.where == Where::kSink) {
    s.sink([&](const uint64_t& x) { maybe_throw(x); }).name(c.name);
  } else {
    s.sink([](const uint64_t&) {});
  }
  Status st = execute_within(env, 10s);
  const int64_t returned_ns = Clock::now().time_since_epoch().count();
  ASSERT_EQ(st.code(), StatusCode::kFailed) << st.to_string();
  EXPECT_NE(st.message().find(cat("'", c.name, "'")), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(message), std::string::npos) << st.message();
  ASSERT_NE(thrown_ns.load(), 0);
  EXPECT_LT(static_cast<double>(returned_ns - thrown_ns.load()) / 1e9, 1.0);
}

INSTANTIATE_TEST_SUITE_P(All, FailureTest,
                         ::testing::Values(FailureCase{Where::kMap, 1, "bad map"},
                                           FailureCase{Where::kMap, 2, "bad map"},
                                           FailureCase{Where::kFilter, 1, "bad filter"},
                                           FailureCase{Where::kFilter, 2, "bad filter"},
                                           FailureCase{Where::kFlatMap, 2, "bad flat_map"},
                                           FailureCase{Where::kKeyFunction, 1, "bad keyed"},
                                           FailureCase{Where::kKeyFunction, 2, "bad keyed"},
                                           FailureCase{Where::kSink, 1, "bad sink"},
                                           FailureCase{Where::kSink, 2, "bad sink"},
                                           FailureCase{Where::kGenerator, 1, "bad source"},
                                           FailureCase{Where::kGenerator, 2, "bad source"}),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           for (char& ch : n) {
                             if (ch == ' ') ch = '_';
                           }
                           return cat(n, "_p", info.param.parallelism);
                         });

TEST(LifecycleTest, NonStandardExceptionFailsTheJob) {
  Environment env(options(2));
  env.generate(UINT64_MAX, [](uint64_t i) { return i; })
      .map([](const uint64_t& x) {
        if (x == 1000) throw 42;
        return x;
      })
      .name("throws an int")
      .sink([](const uint64_t&) {});
  Status s = execute_within(env, 10s);
  ASSERT_EQ(s.code(), StatusCode::kFailed) << s.to_string();
  EXPECT_NE(s.message().find("'throws an int'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("unknown exception"), std::string::npos) << s.message();
}

struct FailingOpenSink {
  void open(int, int) { throw std::runtime_error("cannot open"); }
  void write(std::span<const uint64_t>) {}
};

TEST(LifecycleTest, ExceptionInOpenFailsTheJob) {
  Environment env(options(2));
  env.generate(1000, [](uint64_t i) { return i; }).sink(FailingOpenSink{}).name("unopenable");
  Status s = execute_within(env, 10s);
  ASSERT_EQ(s.code(), StatusCode::kFailed) << s.to_string();
  EXPECT_NE(s.message().find("'unopenable'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("cannot open"), std::string::npos) << s.message();
}

// A slow sink: every subtask sleeps per batch so that the whole job is backpressured; the
// subtask `fail_subtask` throws after `fail_after` batches.
class SlowSink {
 public:
  SlowSink(int fail_subtask, int fail_after, std::atomic<int64_t>* thrown_ns)
      : fail_subtask_(fail_subtask), fail_after_(fail_after), thrown_ns_(thrown_ns) {}
  void open(int subtask, int) { subtask_ = subtask; }
  void write(std::span<const uint64_t>) {
    std::this_thread::sleep_for(200us);
    if (subtask_ == fail_subtask_ && ++batches_ == fail_after_) {
      thrown_ns_->store(Clock::now().time_since_epoch().count());
      throw std::runtime_error("sink subtask gave up");
    }
  }

 private:
  int fail_subtask_, fail_after_;
  std::atomic<int64_t>* thrown_ns_;
  int subtask_ = -1, batches_ = 0;
};

TEST(LifecycleTest, FailureInOneSubtaskStopsABackpressuredJob) {
  JobOptions o = options(4);
  o.channel_capacity = 4;
  Environment env(o);
  std::atomic<int64_t> thrown_ns{0};
  env.generate(UINT64_MAX,
               [](uint64_t i) {
                 return Event{i % 1000, static_cast<int64_t>(i)};
               })
      .key_by([](const Event& e) { return e.key; })
      .reduce([](const Event& a, const Event& b) {
        return Event{a.key, a.value + b.value};
      })
      .map([](const Event& e) { return static_cast<uint64_t>(e.value); })
      .sink(SlowSink(2, 300, &thrown_ns))
      .name("slow sink");
  Status s = execute_within(env, 15s);
  const int64_t returned_ns = Clock::now().time_since_epoch().count();
  ASSERT_EQ(s.code(), StatusCode::kFailed) << s.to_string();
  EXPECT_NE(s.message().find("'slow sink' (subtask 3/4)"), std::string::npos) << s.message();
  ASSERT_NE(thrown_ns.load(), 0);
  EXPECT_LT(static_cast<double>(returned_ns - thrown_ns.load()) / 1e9, 1.0);
}

// The failing operator sits upstream; its task spends most of its time blocked on the slow sink.
TEST(LifecycleTest, FailureUpstreamOfABackpressuredSinkStopsTheJob) {
  JobOptions o = options(2);
  o.channel_capacity = 2;
  Environment env(o);
  std::atomic<int64_t> thrown_ns{0};
  env.generate(UINT64_MAX, [](uint64_t i) { return i; })
      .map([&thrown_ns](const uint64_t& x) {
        if (x == 200'001) {
          thrown_ns.store(Clock::now().time_since_epoch().count());
          throw std::runtime_error("upstream broke");
        }
        return x;
      })
      .name("fragile map")
      .rebalance()
      .sink(SlowSink(-1, 0, &thrown_ns));
  Status s = execute_within(env, 15s);
  const int64_t returned_ns = Clock::now().time_since_epoch().count();
  ASSERT_EQ(s.code(), StatusCode::kFailed) << s.to_string();
  EXPECT_NE(s.message().find("'fragile map' (subtask 2/2)"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("upstream broke"), std::string::npos) << s.message();
  ASSERT_NE(thrown_ns.load(), 0);
  EXPECT_LT(static_cast<double>(returned_ns - thrown_ns.load()) / 1e9, 1.0);
}

// Options that the runtime's data structures cannot work with are refused up front.
TEST(LifecycleTest, InvalidOptionsAreRejected) {
  auto run_with = [](JobOptions o) {
    o.handle_signals = false;
    Environment env(o);
    std::atomic<uint64_t> count{0};
    env.generate(10'000, [](uint64_t i) { return i; })
        .rebalance()
        .sink(sinks::count<uint64_t>(&count));
    return execute_within(env, 10s);
  };
  JobOptions o;
  o.channel_capacity = 12;  // not a power of two
  EXPECT_EQ(run_with(o).code(), StatusCode::kInvalidArgument);
  o = JobOptions{};
  o.channel_capacity = 0;
  EXPECT_EQ(run_with(o).code(), StatusCode::kInvalidArgument);
  o = JobOptions{};
  o.batch_size = 0;
  EXPECT_EQ(run_with(o).code(), StatusCode::kInvalidArgument);
  o = JobOptions{};
  o.max_parallelism = 0;
  EXPECT_EQ(run_with(o).code(), StatusCode::kInvalidArgument);
  o = JobOptions{};
  o.flush_delay_us = -1;
  EXPECT_EQ(run_with(o).code(), StatusCode::kInvalidArgument);
  o = JobOptions{};
  o.channel_capacity = 1;  // the smallest valid ring
  o.parallelism = 2;
  EXPECT_TRUE(run_with(o).is_ok());
}

}  // namespace
}  // namespace sluice
