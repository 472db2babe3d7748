// CheckpointCoordinator: triggers checkpoints, collects the subtasks' acknowledgements, and
// completes a checkpoint in the background once every task has acknowledged it. It is the
// checkpoint layer's runtime::CheckpointControl (runtime/checkpoint_control.h): the runtime sees
// it only through that interface, and gets it from JobCheckpointing (job_checkpointing.h).
//
// Protocol (asynchronous barrier snapshotting): the job runner calls tick() from its control
// loop; every `interval` it raises trigger_id(), which source tasks read between polls and answer
// by snapshotting their chain and emitting the barrier. Every other task aligns the barrier across
// its inputs, snapshots its chain and forwards it. Each task then acknowledges with its
// operators' snapshots and its pause (alignment, synchronous part). When all tasks have, a writer
// thread compresses and writes the state files and renames the manifest into place; only then
// does completed_id() advance, which tasks read between batches to let transactional sinks
// commit. One checkpoint is in alignment at a time; a checkpoint that a task declines or that
// times out is abandoned, counted and reported, and the job goes on. A periodic checkpoint is
// triggered only once the previous one is written: operators cut their state by copy on write and
// the writer reads the cut while the task goes on, so a cut still being read when the next one
// comes would have to be finished by the task, in its pause. A write longer than the interval
// makes checkpoints follow each other back to back.
//
// Every task acknowledges every checkpoint, also once it has ended: a task at its end (a bounded
// source, or a task whose inputs have all ended) answers a trigger with the final state of its
// chain and emits no barrier (runtime/task.h). So periodic checkpoints go on until the whole job
// has finished, whichever parts of it end first; only then does final_id() stop them.
//
// Savepoints are checkpoints taken on request (request_savepoint(), from any thread): the next
// tick() triggers one as soon as no checkpoint is aligning, and the writer stores it,
// self-contained, in `<target>/savepoint-<id>` instead of the checkpoint directory, where
// retention never deletes it. It completes like a checkpoint (sinks commit). A stopping savepoint
// also raises stop_id(): source tasks emit nothing after its barrier, and once it is complete
// stopped_with() names it, for the runner to end the job. A stopping savepoint that fails lowers
// stop_id() again and the sources go on.
//
// Checkpoints and savepoints are written through CheckpointStorage into a CheckpointStore
// (checkpoint_store.h): where they go is the store's business, not the coordinator's.
//
// Thread-safety: tick()/figures() on the control thread, acknowledge()/decline() and the ids
// from task threads, request_savepoint() from any thread; everything shared is under mutex_ or
// atomic (the ids, published through the base class).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "checkpoint/checkpoint_storage.h"
#include "runtime/checkpoint_control.h"

namespace sluice::checkpoint {

// A savepoint asked for and not yet answered.
struct SavepointRequest {
  std::string target_dir;
  bool stop = false;
  std::promise<Result<std::string>> done;
};

struct CheckpointConfig {
  int64_t interval_us = 0;  // 0: no periodic checkpoints
  std::string dir;
  size_t retain = 3;
  int64_t timeout_us = 60'000'000;
};

using runtime::CheckpointFigures;
using runtime::CompletedCheckpoint;

class CheckpointCoordinator final : public runtime::CheckpointControl {
 public:
  // Checkpoints (and savepoints) are written to `store`; `config.dir` empty: savepoints only.
  CheckpointCoordinator(CheckpointConfig config, int max_parallelism, std::vector<NodeLayout> nodes,
                        int tasks, uint64_t first_id, std::unique_ptr<CheckpointStore> store);
  ~CheckpointCoordinator() override;

  CheckpointStorage& storage() { return storage_; }

  // Control thread: triggers a checkpoint when the interval has passed and none is aligning or
  // being written (a savepoint waits only for the alignment);
  // abandons one that has timed out. Whether a new checkpoint was triggered.
  bool tick(int64_t now_us) override;

  // Any thread: a savepoint into `target_dir` at the next opportunity; the future gets its
  // directory once it is complete, or why it failed. With `stop`, the job stops after it.
  std::future<Result<std::string>> request_savepoint(std::string target_dir, bool stop) override;
  // The directory of the completed stopping savepoint; nullopt until there is one.
  std::optional<std::string> stopped_with() const override;

  // Task threads (the ids and the abandoned count are read through the base class).
  std::vector<uint64_t> abandoned_since(uint64_t from) const override;
  void acknowledge(uint64_t id, std::vector<SubtaskState> states, int64_t alignment_us,
                   int64_t sync_us) override;
  void decline(uint64_t id, const std::string& reason) override;

  // After every task finished: stops triggers, waits for the writer and reserves the id of the
  // final checkpoint, which write_final() then writes synchronously (the end of the input, the
  // sinks' last transactions).
  uint64_t final_id() override;
  Result<uint64_t> write_final(uint64_t id, std::vector<SubtaskState> states) override;
  // Waits until the background writer is idle.
  void drain();

  CheckpointFigures figures() const override;
  // The checkpoints completed since the last call, oldest first: each is reported once, also
  // when two complete between two reports. Control thread.
  std::vector<CompletedCheckpoint> take_completed() override;

 private:
  struct Pending {
    uint64_t id = 0;
    int64_t started_us = 0;
    int acks = 0;
    std::vector<SubtaskState> states;
    int64_t alignment_us = 0;
    int64_t sync_us = 0;
    std::shared_ptr<SavepointRequest> savepoint;  // null: a periodic checkpoint
  };
  // REQUIRES: mutex_ held. Triggers the oldest requested savepoint, if any.
  bool trigger_savepoint(int64_t now_us);
  // REQUIRES: mutex_ held. Answers a savepoint's requester.
  void answer(Pending& p, Result<std::string> result);
  void writer_loop();
  void fail(uint64_t id, const std::string& reason);  // REQUIRES: mutex_ held
  void abandon(uint64_t id);                          // REQUIRES: mutex_ held
  void write(Pending p);

  CheckpointConfig config_;
  int max_parallelism_;
  std::vector<NodeLayout> nodes_;
  int tasks_;
  CheckpointStorage storage_;

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  uint64_t next_id_;                                        // guarded by mutex_
  bool aligning_ = false;                                   // guarded by mutex_
  bool stopped_ = false;                                    // guarded by mutex_
  bool shutdown_ = false;                                   // guarded by mutex_
  bool writing_ = false;                                    // guarded by mutex_
  int64_t last_trigger_us_ = 0;                             // guarded by mutex_
  Pending pending_;                                         // guarded by mutex_
  std::deque<Pending> to_write_;                            // guarded by mutex_
  CheckpointFigures figures_;                               // guarded by mutex_
  std::vector<CompletedCheckpoint> completed_log_;          // guarded by mutex_
  std::vector<uint64_t> abandoned_;                         // guarded by mutex_
  std::deque<std::shared_ptr<SavepointRequest>> requests_;  // guarded by mutex_
  std::optional<std::string> stopped_with_;                 // guarded by mutex_
  std::thread writer_;
};

}  // namespace sluice::checkpoint
