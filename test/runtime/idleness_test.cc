// Idleness: a quiet source partition stops holding windows back once it is idle, counts again
// when it sends rows, and the merged watermark never goes back. The sources are scripted by the
// test while the job runs; waits are generous and nothing asserts how long anything takes.
#include <algorithm>
#include <map>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/scripted_source.h"
#include "sluice/sluice.h"

namespace sluice {
namespace {

using testing::eventually;
using testing::has_fired;
using testing::JobThread;
using testing::Script;
using testing::Tick;
using testing::TickTime;
using testing::WatermarkTrace;
using Count = WindowResult<uint64_t, int64_t>;
using Strategy = WatermarkStrategy<BoundedOutOfOrderness>;

constexpr Duration kWindow = 1000;

void expect_increasing(WatermarkTrace& trace) {
  std::lock_guard<std::mutex> lock(trace.mutex);
  for (const auto& w : trace.by_subtask) {
    for (size_t i = 1; i < w.size(); ++i) {
      ASSERT_LT(w[i - 1], w[i]) << "watermark went from " << w[i - 1] << " to " << w[i];
    }
  }
}

// Two scripted sources (rows of key 1 from a, key 2 from b), their union counted per 1-second
// tumbling window into a live sink; the union's watermarks are traced.
struct TwoSources {
  TwoSources(Strategy for_a, Strategy for_b) : env(testing::test_options()) {
    auto ta = testing::scripted(env, a, "a").assign_timestamps(TickTime{}, for_a);
    auto tb = testing::scripted(env, b, "b").assign_timestamps(TickTime{}, for_b);
    auto counts = testing::probe(ta.union_with(tb), trace)
                      .key_by([](const Tick& t) { return t.key; })
                      .window(Tumbling{kWindow})
                      .count();
    stats = counts.stats();
    counts.sink(testing::LiveSink<Count>{live});
  }

  // Rows per (key, window start) once the job has ended; every result must be on time.
  std::map<std::pair<uint64_t, Timestamp>, int64_t> windows() {
    std::map<std::pair<uint64_t, Timestamp>, int64_t> m;
    for (const Count& c : live->snapshot()) {
      EXPECT_EQ(c.firing, Firing::kOnTime) << c;
      m[{c.key, c.window_start}] += c.value;
    }
    EXPECT_EQ(stats->totals().late_dropped, 0u);
    return m;
  }

  Environment env;
  std::shared_ptr<Script> a = std::make_shared<Script>();
  std::shared_ptr<Script> b = std::make_shared<Script>();
  std::shared_ptr<WatermarkTrace> trace = std::make_shared<WatermarkTrace>();
  std::shared_ptr<testing::LiveRows<Count>> live = std::make_shared<testing::LiveRows<Count>>();
  std::shared_ptr<const WindowStats> stats;
};

TEST(IdlenessTest, WithoutIdlenessAQuietSourceHoldsWindowsBack) {
  TwoSources job(bounded_out_of_orderness(0), bounded_out_of_orderness(0));
  job.a->push(1, 0, 5000);  // rows at 0, 100, ..., 4900
  job.b->push(2, 0, 500);
  JobThread run(job.env);
  // The union's watermark is b's (400 - 1) for as long as b stays open and quiet.
  ASSERT_TRUE(eventually([&] { return job.trace->latest() == 399; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(job.live->snapshot().empty());
  EXPECT_EQ(job.trace->latest(), 399);
  job.a->end();
  job.b->end();
  ASSERT_TRUE(run.join().is_ok());
  auto windows = job.windows();
  EXPECT_EQ(windows.size(), 6u);  // key 1: 5 windows, key 2: 1
  EXPECT_EQ((windows[{1, 4000}]), 10);
  expect_increasing(*job.trace);
}

TEST(IdlenessTest, AnIdleTimeoutLetsWindowsFire) {
  TwoSources job(bounded_out_of_orderness(0), bounded_out_of_orderness(0).with_idleness(20));
  job.a->push(1, 0, 5000);
  job.b->push(2, 0, 500);
  JobThread run(job.env);
  // b turns idle: a alone drives the watermark (4900 - 1); windows up to [3000, 4000) fire.
  ASSERT_TRUE(eventually([&] { return job.trace->latest() == 4899; }));
  ASSERT_TRUE(eventually([&] { return has_fired(*job.live, 3000); }));
  EXPECT_FALSE(has_fired(*job.live, 4000));
  // b resumes with rows after the merged watermark: they are on time.
  job.b->push(2, 5000, 6000);
  job.a->push(1, 5000, 6000);
  job.a->end();
  job.b->end();
  ASSERT_TRUE(run.join().is_ok());
  expect_increasing(*job.trace);
  auto windows = job.windows();
  EXPECT_EQ((windows[{1, 4000}]), 10);
  EXPECT_EQ((windows[{2, 0}]), 5);
  EXPECT_EQ((windows[{2, 5000}]), 10);
}

// Idleness that the source declares (as one that owns no data would) is exact, so this test can
// show each step: idle inputs are left out, a resumed input moves a stalled watermark on and then
// holds it back like any active input, and nothing goes back.
TEST(IdlenessTest, AResumedPartitionCountsAgain) {
  TwoSources job(bounded_out_of_orderness(0), bounded_out_of_orderness(0));
  job.a->push(1, 0, 5000);  // a: 4899
  job.b->push(2, 0, 500);   // b: 399
  job.b->go_idle();
  JobThread run(job.env);
  ASSERT_TRUE(eventually([&] { return job.trace->latest() == 4899; }));

  // Both idle: the union is idle. b resumes: the union is active and b alone moves it on.
  job.a->go_idle();
  ASSERT_TRUE(eventually([&] { return job.trace->idle_changes() == 1; }));
  job.b->push(2, 5000, 6000);  // b: 5899
  ASSERT_TRUE(eventually([&] { return job.trace->latest() == 5899; }));
  EXPECT_EQ(job.trace->idle_changes(), 2u);
  ASSERT_TRUE(eventually([&] { return has_fired(*job.live, 4000); }));

  // a resumes far ahead: the merged watermark waits for b.
  job.a->push(1, 6000, 10000);  // a: 9899
  ASSERT_TRUE(eventually([&] { return job.stats->totals().rows == 50 + 5 + 10 + 40; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(job.trace->latest(), 5899);
  EXPECT_FALSE(has_fired(*job.live, 6000));

  job.b->end();  // an ended input counts no more: a's 9899 gets through
  ASSERT_TRUE(eventually([&] { return has_fired(*job.live, 8000); }));
  job.a->end();
  ASSERT_TRUE(run.join().is_ok());
  expect_increasing(*job.trace);
  auto windows = job.windows();
  EXPECT_EQ(windows.size(), 9u + 2u);  // a: [0, 5000) and [6000, 10000); b: [0, 1000), [5000,..)
}

// A source subtask that owns no data says so and never holds the others back, with no idle
// timeout at all.
TEST(IdlenessTest, ASourceThatOwnsNothingDoesNotHoldTheJobBack) {
  TwoSources job(bounded_out_of_orderness(0), bounded_out_of_orderness(0));
  job.b->go_idle();
  job.a->push(1, 0, 3000);
  JobThread run(job.env);
  ASSERT_TRUE(eventually([&] { return has_fired(*job.live, 1000); }));
  job.a->end();
  job.b->end();
  ASSERT_TRUE(run.join().is_ok());
  EXPECT_EQ(job.windows().size(), 3u);
}

// The end of one input is no promise for an idle one: the merged watermark stops short of the
// end, and rows the idle input sends later are on time.
TEST(IdlenessTest, TheEndOfOneInputDoesNotPassAnIdleOne) {
  TwoSources job(bounded_out_of_orderness(0), bounded_out_of_orderness(0));
  job.a->push(1, 0, 1000);
  job.b->push(2, 0, 200);
  job.b->go_idle();
  JobThread run(job.env);
  ASSERT_TRUE(eventually([&] { return job.trace->latest() == 899; }));
  job.a->end();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(job.trace->latest(), 899);
  job.b->push(2, 2000, 3000);
  ASSERT_TRUE(eventually([&] { return job.trace->latest() == 2899; }));
  job.b->end();
  ASSERT_TRUE(run.join().is_ok());
  EXPECT_EQ(job.trace->latest(), kMaxTimestamp);
  auto windows = job.windows();
  EXPECT_EQ((windows[{2, 2000}]), 10);
  expect_increasing(*job.trace);
}

// A two-input operator merges idleness like any task: a window join fires while its right input
// is idle.
TEST(IdlenessTest, WindowJoinFiresWhileOneInputIsIdle) {
  Environment env(testing::test_options());
  auto a = std::make_shared<Script>(), b = std::make_shared<Script>();
  auto key = [](const Tick& t) { return t.key; };
  auto left = testing::scripted(env, a, "a").assign_timestamps(TickTime{}, 0).key_by(key);
  auto right = testing::scripted(env, b, "b")
                   .assign_timestamps(TickTime{}, bounded_out_of_orderness(0).with_idleness(20))
                   .key_by(key);
  using Pair = std::pair<Timestamp, Timestamp>;
  auto live = std::make_shared<testing::LiveRows<Pair>>();
  left.window_join(right, Tumbling{kWindow},
                   [](const Tick& l, const Tick& r) { return std::pair(l.time, r.time); })
      .sink(testing::LiveSink<Pair>{live});
  a->push(1, 0, 3000);
  b->push(1, 0, 200);
  JobThread run(env);
  // Window [0, 1000): 10 left rows x 2 right rows, joined once a's watermark passes 999.
  ASSERT_TRUE(eventually([&] { return live->snapshot().size() == 20; }));
  a->end();
  b->end();
  ASSERT_TRUE(run.join().is_ok());
  EXPECT_EQ(live->snapshot().size(), 20u);
}

}  // namespace
}  // namespace sluice
