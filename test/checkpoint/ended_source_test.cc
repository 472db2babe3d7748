// Checkpoints after part of a job has ended: a bounded source unioned with a long one, and a
// parallel source whose subtasks end at different times. Periodic checkpoints must go on until
// the last source subtask ends, hold the ended ones at their end, count as completed, let the
// sinks of an ended part commit, and restore the ended part at its end.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "checkpoint/checkpoint_storage.h"
#include "checkpoint/job_checkpointing.h"
#include "checkpoint/local_directory_store.h"
#include "checkpoint/test_dir.h"
#include "runtime/job_runner.h"
#include "sluice/sluice.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

struct Event {
  uint64_t source;
  uint64_t index;
};

template <typename W>
void sluice_fields(const Event& e, W& w) {
  w("source", e.source);
  w("index", e.index);
}

// Rows made per subtask, over every run of a test.
using Made = std::array<std::atomic<uint64_t>, 2>;

// Subtask s makes the rows (s, 0), (s, 1), ... (s, counts[s] - 1), `per_second` of them a second;
// its position, the next index, is checkpointed like a generator's.
class UnevenSource final : public detail::SourceOperator {
 public:
  UnevenSource(std::array<uint64_t, 2> counts, double per_second, std::shared_ptr<Made> made)
      : counts_(counts), per_second_(per_second), made_(std::move(made)) {}

  detail::SourceState poll(int64_t now_us) override {
    const auto s = static_cast<size_t>(info_.subtask);
    if (next_ >= counts_[s]) return detail::SourceState::kEnd;
    if (start_us_ < 0) start_us_ = now_us;
    const double elapsed = static_cast<double>(now_us - start_us_) / 1e6;
    const uint64_t due =
        std::min(counts_[s], first_ + static_cast<uint64_t>(elapsed * per_second_));
    if (due <= next_) {
      next_poll_us_ = now_us + 1'000;
      return detail::SourceState::kIdle;
    }
    batch_.clear();
    for (; next_ < due && batch_.rows.size() < 256; ++next_) batch_.rows.push_back(Event{s, next_});
    (*made_)[s] += batch_.rows.size();
    out_->emit(batch_);
    return detail::SourceState::kMore;
  }
  int64_t next_poll_us() const override { return next_poll_us_; }

  bool has_state() const override { return true; }
  void snapshot_state(uint64_t, detail::OperatorSnapshot& out) override {
    StateWriter(&out.operator_state).write(next_);
    out.offsets = "next index " + std::to_string(next_);
  }
  Status restore_state(const detail::OperatorRestore& in) override {
    Status s = detail::read_own_state(in, info_.subtask, info_.parallelism, info_.display(),
                                      [&](StateReader& r) { r.read(next_); });
    first_ = next_;
    return s;
  }

 private:
  std::array<uint64_t, 2> counts_;
  double per_second_;
  std::shared_ptr<Made> made_;
  uint64_t next_ = 0;   // checkpointed
  uint64_t first_ = 0;  // where this run started
  int64_t start_us_ = -1;
  int64_t next_poll_us_ = 0;
  detail::Batch<Event> batch_;
};

// The checkpoints the runner reports as completed (to the metrics, the REST API and the
// dashboard through observe::JobMonitor); called on the runner's control thread.
class CompletedIds : public runtime::JobObserver {
 public:
  void checkpoint_completed(uint64_t id, int64_t, int64_t, uint64_t) override { ids.insert(id); }
  std::set<uint64_t> ids;
};

JobOptions checkpointed(const std::string& dir) {
  JobOptions o;
  o.parallelism = 2;
  o.workers = 2;
  o.handle_signals = false;
  o.metrics_address = "off";
  o.progress = Progress::kOff;
  EXPECT_TRUE(o.set("checkpoint.interval", "30ms"));
  EXPECT_TRUE(o.set("checkpoint.dir", dir));
  EXPECT_TRUE(o.set("checkpoint.retain", "1000"));  // keep every one, to look at them
  return o;
}

// The next index of each subtask of the source `name` in checkpoint `cp` ("next index N").
std::vector<uint64_t> positions(const checkpoint::LoadedCheckpoint& cp, const std::string& name) {
  std::vector<uint64_t> next;
  for (const auto& [node, state] : cp.nodes) {
    if (state.name != name) continue;
    for (const std::string& o : state.offsets) {
      next.push_back(std::strtoull(o.c_str() + std::string("next index ").size(), nullptr, 10));
    }
  }
  return next;
}

// Every complete checkpoint under `dir`, oldest first.
std::vector<checkpoint::LoadedCheckpoint> complete_checkpoints(const std::string& dir) {
  std::vector<checkpoint::LoadedCheckpoint> all;
  checkpoint::LocalDirectoryStore store(dir);
  checkpoint::CheckpointStorage storage(std::make_unique<checkpoint::LocalDirectoryStore>(dir));
  for (uint64_t id : storage.complete_ids()) {
    auto cp = storage.load_location(store.path_of(id));
    if (cp) all.push_back(std::move(*cp));
  }
  return all;
}

// How many times each line occurs in the published part files under `dir`.
std::map<std::string, int> published_lines(const std::string& dir) {
  std::map<std::string, int> lines;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind("part-", 0) != 0) continue;
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) ++lines[line];
  }
  return lines;
}

// Every row (source, i) for i < counts[source] published exactly once, and nothing else.
void expect_exactly_once(const std::string& dir, const std::vector<uint64_t>& counts) {
  const std::map<std::string, int> lines = published_lines(dir);
  size_t expected = 0;
  for (size_t s = 0; s < counts.size(); ++s) {
    for (uint64_t i = 0; i < counts[s]; ++i, ++expected) {
      const std::string line =
          R"({"source":)" + std::to_string(s) + R"(,"index":)" + std::to_string(i) + "}";
      auto it = lines.find(line);
      ASSERT_TRUE(it != lines.end() && it->second == 1)
          << line << " published " << (it == lines.end() ? 0 : it->second) << " times";
    }
  }
  EXPECT_EQ(lines.size(), expected);
}

// A short bounded generator (2,000 rows, about 0.1 s) unioned with a long one (20,000 rows, about
// 1 s) into exactly-once part files: the checkpoints taken between the two ends hold the short
// source at its end, and they are completed ones, not abandoned.
TEST(EndedSource, CheckpointsGoOnAfterABoundedSourceEnded) {
  testing::TempDir dir;
  const std::string checkpoints = dir.path() + "/checkpoints", out = dir.path() + "/out";
  Environment env(checkpointed(checkpoints));
  GeneratorOptions short_gen;
  short_gen.name = "short";
  short_gen.parallelism = 1;
  short_gen.rate = 20'000;
  GeneratorOptions long_gen;
  long_gen.name = "long";
  long_gen.rate = 20'000;
  auto shorts = env.generate(
      2'000,
      [](uint64_t i) {
        return Event{0, i};
      },
      short_gen);
  auto longs = env.generate(
      20'000,
      [](uint64_t i) {
        return Event{1, i};
      },
      long_gen);
  shorts.union_with(longs).sink(sinks::json_part_files<Event>(out));
  CompletedIds reported;
  checkpoint::JobCheckpointing checkpointing;
  runtime::JobRunner runner(env.graph(), env.options(), &reported, "a bounded source ends first",
                            &checkpointing);
  Status s = runner.run();
  ASSERT_TRUE(s) << s.to_string();

  const std::vector<checkpoint::LoadedCheckpoint> all = complete_checkpoints(checkpoints);
  int after_the_end = 0;
  int reported_after_the_end = 0;
  for (const auto& cp : all) {
    const std::vector<uint64_t> longs_at = positions(cp, "long");
    ASSERT_EQ(longs_at.size(), 2u);
    const bool long_running = longs_at[0] < 20'000 || longs_at[1] < 20'000;
    if (positions(cp, "short") != std::vector<uint64_t>{2'000} || !long_running) continue;
    ++after_the_end;
    reported_after_the_end += static_cast<int>(reported.ids.count(cp.id));
  }
  EXPECT_GE(after_the_end, 3) << "of " << all.size() << " checkpoints";
  std::printf(
      "checkpoints: %zu complete, %d between the short source's end and the long one's (%d of "
      "them reported)\n",
      all.size(), after_the_end, reported_after_the_end);
  // The figures count each one as completed (none was abandoned), and the observer (the
  // metrics, the REST API) hears of every one.
  EXPECT_EQ(runner.stats().checkpoints_completed, all.size());
  EXPECT_EQ(runner.stats().checkpoints_failed, 0u);
  EXPECT_EQ(reported.ids.size(), all.size());
  EXPECT_EQ(reported_after_the_end, after_the_end);
  expect_exactly_once(out, {2'000, 20'000});
}

std::shared_ptr<Made> uneven_job(Environment& env, const std::string& out) {
  auto made = std::make_shared<Made>();
  env.add_source<Event>("uneven", 2,
                        [made] {
                          return std::make_unique<UnevenSource>(
                              std::array<uint64_t, 2>{200, 12'000}, 12'000.0, made);
                        })
      .sink(sinks::json_part_files<Event>(out));  // chained: sink subtask 0 ends with its source
  return made;
}

// The subtasks of one source end at different times (subtask 0 after 200 rows, subtask 1 after
// 12,000, about 1 s): checkpoints go on until the last one ends, and the sink subtask chained to
// the first one publishes its last part at a checkpoint taken while the other still runs.
TEST(EndedSource, AParallelSourceKeepsCheckpointingUntilItsLastSubtaskEnds) {
  testing::TempDir dir;
  const std::string checkpoints = dir.path() + "/checkpoints", out = dir.path() + "/out";
  Environment env(checkpointed(checkpoints));
  uneven_job(env, out);
  std::atomic<bool> done{false};
  bool published_early = false;
  std::thread watch([&] {
    while (!done && !published_early) {
      std::error_code ec;
      for (const auto& entry : fs::directory_iterator(out, ec)) {
        if (entry.path().filename().string().rfind("part-0-", 0) != 0) continue;
        // Published: was the newest checkpoint then still one with subtask 1 running?
        const auto all = complete_checkpoints(checkpoints);
        published_early = !all.empty() && positions(all.back(), "uneven").at(1) < 12'000;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  Status s = env.execute("uneven subtasks");
  done = true;
  watch.join();
  ASSERT_TRUE(s) << s.to_string();

  const std::vector<checkpoint::LoadedCheckpoint> all = complete_checkpoints(checkpoints);
  int between = 0;
  for (const auto& cp : all) {
    const std::vector<uint64_t> at = positions(cp, "uneven");
    if (at == std::vector<uint64_t>{200, at[1]} && at[1] < 12'000) ++between;
  }
  EXPECT_GE(between, 3) << "of " << all.size() << " checkpoints";
  std::printf("checkpoints: %zu complete, %d between the ends of subtask 0 and subtask 1\n",
              all.size(), between);
  EXPECT_TRUE(published_early) << "sink subtask 0 published nothing before the job's end";
  EXPECT_EQ(env.stats().checkpoints_completed, all.size());
  EXPECT_EQ(env.stats().checkpoints_failed, 0u);
  expect_exactly_once(out, {200, 12'000});
}

// A job stopped after a checkpoint taken once subtask 0 had ended resumes from it: subtask 0 makes
// nothing again, subtask 1 goes on from its position, and the output is exactly once.
TEST(EndedSource, ARestoreAfterASubtaskEndedResumesItAtItsEnd) {
  testing::TempDir dir;
  const std::string checkpoints = dir.path() + "/checkpoints", out = dir.path() + "/out";
  uint64_t stopped_at = 0;
  {
    Environment env(checkpointed(checkpoints));
    uneven_job(env, out);
    Status s;
    std::thread run([&] { s = env.execute("uneven subtasks, stopped"); });
    // Stop once two checkpoints hold subtask 0 at its end and subtask 1 running.
    bool too_late = false;
    for (int seen = 0; seen < 2 && !too_late;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      const auto all = complete_checkpoints(checkpoints);
      seen = 0;
      for (const auto& cp : all) {
        const std::vector<uint64_t> at = positions(cp, "uneven");
        if (at[0] == 200 && at[1] < 12'000) {
          ++seen;
          stopped_at = cp.id;
        }
      }
      too_late = !all.empty() && positions(all.back(), "uneven")[1] >= 12'000;
    }
    env.cancel();
    run.join();
    ASSERT_FALSE(too_late) << "subtask 1 ended before two checkpoints after subtask 0's end";
    EXPECT_EQ(s.code(), StatusCode::kCancelled) << s.to_string();
  }
  Environment env(checkpointed(checkpoints));
  std::shared_ptr<Made> made = uneven_job(env, out);
  Status s = env.execute("uneven subtasks, resumed");
  ASSERT_TRUE(s) << s.to_string();
  EXPECT_GE(env.stats().restored_from, stopped_at);
  EXPECT_EQ((*made)[0].load(), 0u);  // ended in the checkpoint: nothing made again
  EXPECT_GT((*made)[1].load(), 0u);
  EXPECT_LT((*made)[1].load(), 12'000u);  // resumed from its position
  expect_exactly_once(out, {200, 12'000});
}

// A savepoint asked for after a subtask has ended is taken (before, it was refused: barriers
// could no longer pass the ended subtask) and holds that subtask at its end.
TEST(EndedSource, ASavepointAfterASubtaskEndedIsTaken) {
  testing::TempDir dir;
  const std::string checkpoints = dir.path() + "/checkpoints", out = dir.path() + "/out";
  Environment env(checkpointed(checkpoints));
  uneven_job(env, out);
  Status s;
  std::thread run([&] { s = env.execute("uneven subtasks, savepoint"); });
  bool ended = false;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!ended && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const auto all = complete_checkpoints(checkpoints);
    ended = !all.empty() && positions(all.back(), "uneven")[0] == 200;
  }
  Result<std::string> savepoint = env.trigger_savepoint(dir.path() + "/savepoints");
  run.join();
  ASSERT_TRUE(s) << s.to_string();
  ASSERT_TRUE(savepoint) << savepoint.status().to_string();
  auto taken = checkpoint::CheckpointStorage(std::make_unique<checkpoint::LocalDirectoryStore>(""))
                   .load_location(*savepoint);
  ASSERT_TRUE(taken) << taken.status().to_string();
  EXPECT_EQ(positions(*taken, "uneven")[0], 200u);
  expect_exactly_once(out, {200, 12'000});
}

}  // namespace
}  // namespace sluice
