// Stable operator ids: checkpoints file each operator's state under its uid (or its name), so a
// savepoint restores into a changed job — an operator added before the others, a stateful one
// added beside them, an operator renamed — and state nobody claims is refused unless the user
// drops it. Checkpoints of format 1 (no ids) still restore into the same job.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "checkpoint/checkpoint_storage.h"
#include "checkpoint/local_directory_store.h"
#include "checkpoint/readings_job.h"
#include "checkpoint/test_dir.h"
#include "runtime/operator_ids.h"
#include "sluice/sluice.h"

namespace sluice {
namespace {

using testing::kReadings;
using testing::published;
using testing::Reading;
using testing::reading_of;
using testing::Sum;

JobOptions job_options() { return testing::quiet_job_options(2); }

// Counts the rows a sink subtask received, across its copies.
struct CountingSink {
  std::shared_ptr<std::atomic<uint64_t>> rows = std::make_shared<std::atomic<uint64_t>>(0);
  void write(std::span<const std::pair<uint64_t, int64_t>> batch) { *rows += batch.size(); }
};

// How the job changes between the run that takes the savepoint and the run that resumes.
struct Version {
  std::string window_uid = "sums";
  std::string window_name = "tumbling sums";
  bool filter_first = false;                // an operator added before every other
  CountingSink* added_aggregate = nullptr;  // a stateful operator added beside the window
};

// A paced generator -> event time -> per sensor, tumbling 1 s sums -> exactly-once part files,
// with uids on the generator, the window and the sink.
void build_job(Environment& env, const std::string& out, double rate, const Version& v) {
  GeneratorOptions gen;
  gen.rate = rate;
  gen.parallelism = 2;
  Stream<Reading> readings = env.generate(kReadings, reading_of, gen).uid("readings");
  if (v.filter_first) {
    readings = readings.filter([](const Reading& r) { return r.sensor < 1000; }).name("all");
  }
  auto timed = readings.assign_timestamps([](const Reading& r) { return r.time; }, 10);
  if (v.added_aggregate != nullptr) {
    timed.key_by([](const Reading& r) { return r.sensor; })
        .aggregate(
            int64_t{0}, [](int64_t& n, const Reading&) { ++n; },
            [](uint64_t sensor, int64_t n) { return std::pair(sensor, n); })
        .uid("counts")
        .sink(*v.added_aggregate)
        .name("count sink");
  }
  timed.key_by([](const Reading& r) { return r.sensor; })
      .window(Tumbling{1000})
      .sum([](const Reading& r) { return r.value; })
      .name(v.window_name)
      .uid(v.window_uid)
      .map([](const WindowResult<uint64_t, int64_t>& w) {
        return Sum{w.key, w.window_start, w.value};
      })
      .sink(sinks::json_part_files<Sum>(out))
      .uid("sums out");
}

std::vector<std::string> reference_output(const std::string& dir) {
  Environment env(job_options());
  build_job(env, dir, 0, Version{});
  EXPECT_TRUE(env.execute("reference").is_ok());
  return published(dir);
}

// Runs the job of version `v` until about a third of its input and stops it with a savepoint.
std::string stop_with_savepoint(const std::string& tmp, const std::string& out, const Version& v) {
  Environment env(job_options());
  build_job(env, out, 60'000, v);
  Status status;
  std::thread job([&] { status = env.execute("first"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Result<std::string> path = testing::savepoint_when_running(env, tmp + "/savepoints", true);
  job.join();
  EXPECT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_TRUE(path) << path.status().to_string();
  return path ? *path : "";
}

Status resume(const std::string& savepoint, const std::string& out, const Version& v,
              JobOptions o = job_options()) {
  EXPECT_TRUE(o.set("savepoint.path", savepoint));
  Environment env(o);
  build_job(env, out, 0, v);
  Status s = env.execute("resumed");
  if (s.is_ok()) {
    EXPECT_GT(env.stats().restored_from, 0u);
  }
  return s;
}

TEST(OperatorUid, ASavepointRestoresIntoAJobWithOperatorsAdded) {
  testing::TempDir tmp;
  const std::vector<std::string> expected = reference_output(tmp.path() + "/reference");
  ASSERT_GT(expected.size(), 1000u);
  const std::string out = tmp.path() + "/out";
  const std::string savepoint = stop_with_savepoint(tmp.path(), out, Version{});
  ASSERT_FALSE(savepoint.empty());

  // Every operator moves to another node index, the window has another name, and a keyed
  // aggregate is added: the window and the generator find their state by uid, the new operator
  // starts empty.
  CountingSink counts;
  Version changed;
  changed.window_name = "sums per second";
  changed.filter_first = true;
  changed.added_aggregate = &counts;
  Status s = resume(savepoint, out, changed);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_TRUE(published(out) == expected) << "rows lost or duplicated across the change";
  EXPECT_GT(*counts.rows, 0u);
}

TEST(OperatorUid, StateNoOperatorClaimsFailsTheRestoreUnlessDropped) {
  testing::TempDir tmp;
  const std::string savepoint = stop_with_savepoint(tmp.path(), tmp.path() + "/out", Version{});
  ASSERT_FALSE(savepoint.empty());
  Version renamed;
  renamed.window_uid = "sums v2";
  Status s = resume(savepoint, tmp.path() + "/out", renamed);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("uid 'sums'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("savepoint.ignore_unclaimed_state"), std::string::npos) << s.message();

  JobOptions o = job_options();
  ASSERT_TRUE(o.set("savepoint.ignore_unclaimed_state", "true"));
  s = resume(savepoint, tmp.path() + "/out", renamed, o);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
}

// Rewrites a checkpoint's manifest as format 1 wrote it: no uid lines.
void downgrade_to_format_1(const std::string& dir) {
  std::ifstream in(dir + "/MANIFEST");
  std::string manifest, line;
  while (std::getline(in, line)) {
    if (line.rfind("uid ", 0) == 0 || line.rfind("checksum ", 0) == 0) continue;
    if (line.rfind("sluice-checkpoint ", 0) == 0) line = "sluice-checkpoint 1";
    manifest += line + "\n";
  }
  char sum[32];
  std::snprintf(sum, sizeof sum, "checksum %016llx\n",
                static_cast<unsigned long long>(detail::hash_bytes(manifest)));
  std::ofstream(dir + "/MANIFEST", std::ios::trunc) << manifest << sum;
}

TEST(OperatorUid, ACheckpointOfFormat1RestoresIntoTheSameJob) {
  testing::TempDir tmp;
  const std::vector<std::string> expected = reference_output(tmp.path() + "/reference");
  const std::string out = tmp.path() + "/out";
  const std::string savepoint = stop_with_savepoint(tmp.path(), out, Version{});
  ASSERT_FALSE(savepoint.empty());
  downgrade_to_format_1(savepoint);
  Result<checkpoint::LoadedCheckpoint> loaded =
      checkpoint::CheckpointStorage(std::make_unique<checkpoint::LocalDirectoryStore>(""))
          .load_location(savepoint);
  ASSERT_TRUE(loaded) << loaded.status().to_string();
  EXPECT_FALSE(loaded->has_operator_ids);
  Status s = resume(savepoint, out, Version{});
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_TRUE(published(out) == expected);
}

TEST(OperatorUid, TwoOperatorsWithOneUidAreAClearError) {
  Environment env(job_options());
  env.generate(10, [](uint64_t i) { return i; })
      .uid("numbers")
      .map([](uint64_t i) { return i + 1; })
      .name("plus one")
      .uid("numbers")
      .sink([](const uint64_t&) {});
  Status s = env.execute("duplicate uid");
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("both have uid 'numbers'"), std::string::npos) << s.message();
}

TEST(OperatorIds, UidsFirstThenNamesNumberedInOrder) {
  detail::LogicalGraph g;
  auto add = [&](std::string name, std::optional<std::string> uid) {
    detail::NodeSpec n;
    n.name = std::move(name);
    n.uid = std::move(uid);
    n.is_source = true;
    g.add_node(std::move(n));
  };
  add("map", std::nullopt);
  add("map", std::nullopt);
  add("window", std::string("map#2"));  // a uid is never taken by a derived id
  add("bad\nname", std::nullopt);
  Result<std::vector<std::string>> ids = runtime::assign_operator_ids(g);
  ASSERT_TRUE(ids) << ids.status().to_string();
  EXPECT_EQ(*ids, (std::vector<std::string>{"map", "map#3", "map#2", "bad name"}));

  add("other", std::string(""));
  ids = runtime::assign_operator_ids(g);
  ASSERT_FALSE(ids);
  EXPECT_NE(ids.status().message().find("operator 'other': uid '' is not usable"),
            std::string::npos)
      << ids.status().message();
}

}  // namespace
}  // namespace sluice
