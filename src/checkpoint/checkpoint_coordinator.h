// CheckpointCoordinator: triggers checkpoints, collects the subtasks' acknowledgements, and
// completes a checkpoint in the background once every task has acknowledged it.
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
// Thread-safety: tick()/figures() on the control thread, acknowledge()/decline() and the ids
// from task threads, request_savepoint() from any thread; everything shared is under mutex_ or
// atomic.
#pragma once

#include <atomic>
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

class CheckpointCoordinator {
 public:
  CheckpointCoordinator(CheckpointConfig config, int max_parallelism, std::vector<NodeLayout> nodes,
                        int tasks, uint64_t first_id);
  ~CheckpointCoordinator();
  CheckpointCoordinator(const CheckpointCoordinator&) = delete;
  CheckpointCoordinator& operator=(const CheckpointCoordinator&) = delete;

  CheckpointStorage& storage() { return storage_; }

  // Control thread: triggers a checkpoint when the interval has passed and none is aligning or
  // being written (a savepoint waits only for the alignment);
  // abandons one that has timed out. Whether a new checkpoint was triggered.
  bool tick(int64_t now_us);

  // Any thread: a savepoint into `target_dir` at the next opportunity; the future gets its
  // directory once it is complete, or why it failed. With `stop`, the job stops after it.
  std::future<Result<std::string>> request_savepoint(std::string target_dir, bool stop);
  // The directory of the completed stopping savepoint; nullopt until there is one.
  std::optional<std::string> stopped_with() const;

  // Task threads.
  uint64_t trigger_id() const { return trigger_.load(std::memory_order_acquire); }
  // The checkpoint at whose barrier sources stop; 0: none.
  uint64_t stop_id() const { return stop_.load(std::memory_order_acquire); }
  uint64_t completed_id() const { return completed_.load(std::memory_order_acquire); }
  // The checkpoints abandoned so far (declined, timed out, not written, or cut short by the end
  // of the job), in the order they were abandoned: a count that only grows, and the ids from the
  // `from`-th on. An abandoned id below a completed one is counted before completed_id() shows
  // the completed one (the writer writes in id order; one checkpoint aligns at a time).
  uint64_t abandoned_count() const { return abandoned_count_.load(std::memory_order_acquire); }
  std::vector<uint64_t> abandoned_since(uint64_t from) const;
  void acknowledge(uint64_t id, std::vector<SubtaskState> states, int64_t alignment_us,
                   int64_t sync_us);
  void decline(uint64_t id, const std::string& reason);

  // After every task finished: stops triggers, waits for the writer and reserves the id of the
  // final checkpoint, which write_final() then writes synchronously (the end of the input, the
  // sinks' last transactions).
  uint64_t final_id();
  Result<uint64_t> write_final(uint64_t id, std::vector<SubtaskState> states);
  // Waits until the background writer is idle.
  void drain();

  CheckpointFigures figures() const;
  // The checkpoints completed since the last call, oldest first: each is reported once, also
  // when two complete between two reports. Control thread.
  std::vector<CompletedCheckpoint> take_completed();

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
  std::atomic<uint64_t> trigger_{0};
  std::atomic<uint64_t> completed_{0};
  std::atomic<uint64_t> stop_{0};
  std::atomic<uint64_t> abandoned_count_{0};  // abandoned_.size()

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
