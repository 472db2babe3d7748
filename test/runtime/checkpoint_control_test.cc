// The runtime checkpoints through its own interfaces (runtime/checkpoint_control.h,
// runtime/checkpoint_service.h), whatever implements them: here a fake that keeps everything in
// memory and never touches a file. Tasks acknowledge every triggered checkpoint with their
// chain's snapshots, the runner writes the final checkpoint through it and reports its figures,
// and what its starting point hands back is restored into the operators.
#include <atomic>
#include <cstdint>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/checkpoint_service.h"
#include "runtime/job_runner.h"
#include "sluice/sluice.h"

namespace sluice {
namespace {

using runtime::CheckpointFigures;
using runtime::CompletedCheckpoint;
using runtime::LoadedCheckpoint;
using runtime::NodeLayout;
using runtime::SubtaskState;

// What the fake heard, shared by the service and its controls.
struct Heard {
  std::mutex mutex;
  std::map<uint64_t, int> acks;                              // by checkpoint id
  std::map<uint64_t, std::set<std::pair<int, int>>> states;  // (node, subtask) by checkpoint id
  int declined = 0;
  uint64_t final_id = 0;
  LoadedCheckpoint final_checkpoint;  // the final states, as a restore would get them
};

// The final states as a store would hand them back: deferred parts filled, by node and subtask.
LoadedCheckpoint as_loaded(uint64_t id, const std::vector<NodeLayout>& nodes,
                           std::vector<SubtaskState>& states) {
  LoadedCheckpoint cp;
  cp.id = id;
  cp.dir = "fake";
  cp.max_parallelism = JobOptions{}.max_parallelism;
  for (const NodeLayout& n : nodes) {
    runtime::NodeState& node = cp.nodes[n.node];
    node.name = n.name;
    node.uid = n.uid;
    node.parallelism = n.parallelism;
    node.operator_states.resize(static_cast<size_t>(n.parallelism));
    node.offsets.resize(static_cast<size_t>(n.parallelism));
  }
  for (SubtaskState& s : states) {
    detail::OperatorSnapshot& snap = s.snapshot;
    if (snap.deferred) snap.deferred(snap);
    runtime::NodeState& node = cp.nodes[s.node];
    node.operator_states[static_cast<size_t>(s.subtask)] = snap.operator_state;
    node.offsets[static_cast<size_t>(s.subtask)] = snap.offsets;
    for (const detail::KeyGroupState& g : snap.key_groups) node.key_groups[g.key_group] = g.bytes;
  }
  return cp;
}

// Triggers `checkpoints` checkpoints one after the other, each complete once every task has
// acknowledged it.
class FakeControl final : public runtime::CheckpointControl {
 public:
  FakeControl(Heard* heard, std::vector<NodeLayout> nodes, int tasks, uint64_t first_id,
              uint64_t checkpoints)
      : CheckpointControl(first_id),
        heard_(heard),
        nodes_(std::move(nodes)),
        tasks_(tasks),
        last_(first_id - 1 + checkpoints) {}

  void acknowledge(uint64_t id, std::vector<SubtaskState> states, int64_t, int64_t) override {
    std::lock_guard<std::mutex> lock(heard_->mutex);
    for (const SubtaskState& s : states) heard_->states[id].insert({s.node, s.subtask});
    if (++heard_->acks[id] < tasks_) return;
    std::lock_guard<std::mutex> figures(mutex_);
    ++figures_.completed;
    completed_log_.push_back({id, 0, 0, 0});
    publish_completed(id);
  }
  void decline(uint64_t, const std::string&) override {
    std::lock_guard<std::mutex> lock(heard_->mutex);
    ++heard_->declined;
  }
  bool tick(int64_t) override {
    const uint64_t id = trigger_id();
    if (completed_id() != id || id >= last_) return false;  // one at a time
    publish_trigger(id + 1);
    return true;
  }
  std::future<Result<std::string>> request_savepoint(std::string, bool) override {
    std::promise<Result<std::string>> none;
    none.set_value(Status::failed("the fake takes no savepoints"));
    return none.get_future();
  }
  std::optional<std::string> stopped_with() const override { return std::nullopt; }
  uint64_t final_id() override { return std::max(trigger_id(), completed_id()) + 1; }
  Result<uint64_t> write_final(uint64_t id, std::vector<SubtaskState> states) override {
    {
      std::lock_guard<std::mutex> lock(heard_->mutex);
      heard_->final_id = id;
      heard_->final_checkpoint = as_loaded(id, nodes_, states);
    }
    std::lock_guard<std::mutex> figures(mutex_);
    ++figures_.completed;
    completed_log_.push_back({id, 0, 0, 0});
    publish_completed(id);
    return id;
  }
  CheckpointFigures figures() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return figures_;
  }
  std::vector<CompletedCheckpoint> take_completed() override {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::exchange(completed_log_, {});
  }
  std::vector<uint64_t> abandoned_since(uint64_t) const override { return {}; }  // never

 private:
  Heard* heard_;
  std::vector<NodeLayout> nodes_;
  int tasks_;
  uint64_t last_;  // the last checkpoint to trigger
  mutable std::mutex mutex_;
  CheckpointFigures figures_;                       // guarded by mutex_
  std::vector<CompletedCheckpoint> completed_log_;  // guarded by mutex_
};

class FakeService final : public runtime::CheckpointService {
 public:
  explicit FakeService(Heard* heard) : heard_(heard) {}

  Result<runtime::StartingPoint> starting_point(const JobOptions&, int) override {
    runtime::StartingPoint start;
    start.checkpoint = resume_from;
    if (resume_from) start.first_id = resume_from->id + 1;
    return start;
  }
  std::unique_ptr<runtime::CheckpointControl> start(const JobOptions&,
                                                    std::vector<NodeLayout> nodes, int tasks,
                                                    uint64_t first_id) override {
    ++attempts;
    return std::make_unique<FakeControl>(heard_, std::move(nodes), tasks, first_id, 3);
  }

  std::optional<LoadedCheckpoint> resume_from;
  int attempts = 0;

 private:
  Heard* heard_;
};

struct Row {
  uint64_t key;
  int64_t value;
};

constexpr uint64_t kRows = 20'000;

// generator (paced, parallelism 2) -> key_by -> running sum (parallelism 2) -> counting sink.
void build(Environment& env, std::atomic<uint64_t>* count) {
  GeneratorOptions paced;
  paced.rate = 40'000;  // half a second: room for the fake's checkpoints
  env.generate(
         kRows,
         [](uint64_t i) {
           return Row{i % 50, 1};
         },
         paced)
      .key_by([](const Row& r) { return r.key; })
      .reduce([](const Row& a, const Row& b) {
        return Row{a.key, a.value + b.value};
      })
      .sink(sinks::count<Row>(count));
}

JobOptions checkpointed() {
  JobOptions o;
  o.parallelism = 2;
  o.workers = 2;
  o.handle_signals = false;
  o.checkpoint_dir = "not a directory: the runtime never opens it";
  return o;
}

TEST(CheckpointControl, EveryTaskAcknowledgesThroughTheInterfaceAndTheFinalCheckpointIsWritten) {
  Heard heard;
  FakeService service(&heard);
  Environment env(checkpointed());
  std::atomic<uint64_t> count{0};
  build(env, &count);
  runtime::JobRunner runner(env.graph(), env.options(), nullptr, "fake", &service);
  Status s = runner.run();
  ASSERT_TRUE(s) << s.to_string();
  EXPECT_EQ(count.load(), kRows);
  EXPECT_EQ(service.attempts, 1);

  const int tasks = runner.stats().tasks;
  ASSERT_GT(tasks, 1);
  std::lock_guard<std::mutex> lock(heard.mutex);
  EXPECT_EQ(heard.declined, 0);
  ASSERT_EQ(heard.acks.size(), 3u) << "checkpoints 1 to 3, one after the other";
  for (uint64_t id = 1; id <= 3; ++id) {
    EXPECT_EQ(heard.acks[id], tasks) << "checkpoint " << id;
    // The generator (node 0) and the running sum hold state, in both subtasks.
    EXPECT_TRUE(heard.states[id].count({0, 0}) && heard.states[id].count({0, 1}))
        << "checkpoint " << id;
    EXPECT_GE(heard.states[id].size(), 4u) << "checkpoint " << id;
  }
  EXPECT_EQ(heard.final_id, 4u);
  const auto& source = heard.final_checkpoint.nodes.at(0);
  ASSERT_EQ(source.offsets.size(), 2u);
  EXPECT_FALSE(source.offsets[0].empty());
  // The runner reports what the implementation counts: three periodic, one final.
  EXPECT_EQ(runner.stats().checkpoints_completed, 4u);
}

TEST(CheckpointControl, WhatTheStartingPointHandsBackIsRestored) {
  Heard heard;
  FakeService service(&heard);
  {
    Environment env(checkpointed());
    std::atomic<uint64_t> count{0};
    build(env, &count);
    runtime::JobRunner runner(env.graph(), env.options(), nullptr, "first", &service);
    ASSERT_TRUE(runner.run());
  }
  // The final checkpoint holds every source subtask at its end: resumed from it, the job
  // restores it and has nothing left to read.
  service.resume_from = heard.final_checkpoint;
  Environment env(checkpointed());
  std::atomic<uint64_t> count{0};
  build(env, &count);
  runtime::JobRunner runner(env.graph(), env.options(), nullptr, "resumed", &service);
  Status s = runner.run();
  ASSERT_TRUE(s) << s.to_string();
  EXPECT_EQ(runner.stats().restored_from, 4u);
  EXPECT_EQ(count.load(), 0u);
}

TEST(CheckpointControl, WithoutAServiceCheckpointOptionsAreAClearError) {
  Environment env(checkpointed());
  std::atomic<uint64_t> count{0};
  build(env, &count);
  runtime::JobRunner runner(env.graph(), env.options());
  Status s = runner.run();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("checkpoint.dir"), std::string::npos) << s.message();
  EXPECT_EQ(count.load(), 0u);
}

}  // namespace
}  // namespace sluice
