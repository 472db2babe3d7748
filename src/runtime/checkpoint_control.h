// CheckpointControl: checkpoint coordination as the runtime sees it, for one run (attempt) of a
// job. The runtime owns this interface; the checkpoint layer implements it
// (checkpoint::CheckpointCoordinator) and the job runner gets an instance from a
// CheckpointService (checkpoint_service.h) that the layer above hands it.
//
// Tasks read three ids between batches (a source task between polls), acknowledge a checkpoint
// with their chain's snapshots or decline it:
//   - trigger_id(): the newest checkpoint triggered. A source task that has not yet taken part
//     in it snapshots its chain and emits the barrier; an ended task acknowledges it with its
//     final state (runtime/task.h).
//   - stop_id(): the checkpoint at whose barrier sources stop (a stopping savepoint); 0: none.
//     Raised before its trigger, so a source that sees the trigger sees the stop.
//   - completed_id(): the newest complete checkpoint; tasks tell their operators (sinks commit).
// The job runner, on its control thread, ticks the implementation (which triggers checkpoints
// and abandons those that time out), asks for savepoints, collects figures and completed
// checkpoints for the observer, and writes the final checkpoint of a finished job.
//
// Cost: the ids are published here, in the base class, by the implementation, so a task reads
// each with one acquire load and no virtual call — the same as reading a concrete
// coordinator's atomics. Everything virtual is called once per checkpoint or per control-loop
// turn, never per batch.
//
// Thread-safety: the ids, acknowledge() and decline() from task threads; request_savepoint()
// from any thread; the rest from the job runner's control thread. Implementations synchronize
// what they share.
#pragma once

#include <atomic>
#include <cstdint>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "runtime/checkpoint_state.h"
#include "sluice/status.h"

namespace sluice::runtime {

// The figures a metrics layer publishes; one consistent copy from figures().
struct CheckpointFigures {
  uint64_t completed = 0;
  uint64_t failed = 0;  // declined, timed out, or not written
  uint64_t last_id = 0;
  // Of the last periodic checkpoint:
  int64_t last_duration_us = 0;   // trigger to manifest in place
  int64_t last_alignment_us = 0;  // the longest alignment of any task
  int64_t last_sync_us = 0;       // the longest synchronous part of any task
  int64_t max_pause_us = 0;       // alignment + synchronous part, the worst of the run
  int64_t max_sync_us = 0;        // the synchronous part alone, the worst of the run
  uint64_t last_bytes = 0;        // stored, compressed, manifest included
  std::string last_failure;
};

// One completed checkpoint, as the metrics layer hears of it.
struct CompletedCheckpoint {
  uint64_t id = 0;
  int64_t duration_us = 0;   // trigger to manifest in place (the final one: its write)
  int64_t alignment_us = 0;  // the longest alignment of any task
  uint64_t bytes = 0;        // stored, compressed, manifest included
};

class CheckpointControl {
 public:
  virtual ~CheckpointControl() = default;
  CheckpointControl(const CheckpointControl&) = delete;
  CheckpointControl& operator=(const CheckpointControl&) = delete;

  // Task threads, between batches.
  uint64_t trigger_id() const { return trigger_.load(std::memory_order_acquire); }
  uint64_t stop_id() const { return stop_.load(std::memory_order_acquire); }
  uint64_t completed_id() const { return completed_.load(std::memory_order_acquire); }
  // The checkpoints abandoned so far (declined, timed out, not written, or cut short by the end
  // of the job), in the order they were abandoned: a count that only grows, read like the ids,
  // and the ids from the `from`-th on (sinks abort what they prepared for them). An abandoned id
  // below a completed one is counted before completed_id() shows the completed one.
  uint64_t abandoned_count() const { return abandoned_.load(std::memory_order_acquire); }
  virtual std::vector<uint64_t> abandoned_since(uint64_t from) const = 0;
  // The task's part of checkpoint `id`: the snapshots of its chain's stateful operators and its
  // pause (alignment, synchronous part). An id no longer pending (abandoned) is ignored.
  virtual void acknowledge(uint64_t id, std::vector<SubtaskState> states, int64_t alignment_us,
                           int64_t sync_us) = 0;
  // The task cannot snapshot checkpoint `id`: it is abandoned with `reason`; the job goes on.
  virtual void decline(uint64_t id, const std::string& reason) = 0;

  // Control thread: triggers a checkpoint when one is due, abandons one that timed out. Whether
  // a new checkpoint was triggered (the runner then wakes every task).
  virtual bool tick(int64_t now_us) = 0;
  // Any thread: a savepoint into `target` at the next opportunity; the future gets where it was
  // stored once complete, or why it failed. With `stop`, the job stops after it.
  virtual std::future<Result<std::string>> request_savepoint(std::string target, bool stop) = 0;
  // Where the completed stopping savepoint is; nullopt until there is one.
  virtual std::optional<std::string> stopped_with() const = 0;
  // After every task finished: stops triggers, waits for writes in flight and reserves the id of
  // the final checkpoint, which write_final() then writes synchronously.
  virtual uint64_t final_id() = 0;
  virtual Result<uint64_t> write_final(uint64_t id, std::vector<SubtaskState> states) = 0;
  virtual CheckpointFigures figures() const = 0;
  // The checkpoints completed since the last call, oldest first: each is reported once.
  virtual std::vector<CompletedCheckpoint> take_completed() = 0;

 protected:
  // Checkpoints of this run take ids from `first_id` on: the ids start just below it.
  explicit CheckpointControl(uint64_t first_id)
      : trigger_(first_id - 1), completed_(first_id - 1) {}

  // The implementation publishes the ids (release stores, read by the tasks' acquire loads).
  void publish_trigger(uint64_t id) { trigger_.store(id, std::memory_order_release); }
  void publish_stop(uint64_t id) { stop_.store(id, std::memory_order_release); }
  void publish_completed(uint64_t id) { completed_.store(id, std::memory_order_release); }
  void publish_abandoned_count(uint64_t n) { abandoned_.store(n, std::memory_order_release); }

 private:
  std::atomic<uint64_t> trigger_;
  std::atomic<uint64_t> completed_;
  std::atomic<uint64_t> stop_{0};
  std::atomic<uint64_t> abandoned_{0};
};

}  // namespace sluice::runtime
