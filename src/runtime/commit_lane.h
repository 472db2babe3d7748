// CommitLane: the commits and aborts of one transactional sink subtask, in checkpoint order.
//
// The task tells a lane what became of checkpoints: which ones its sink prepared (prepared()),
// which completed (completed()) and which were abandoned (abandoned()). The lane turns that into
// steps — commit n, abort n — queued in the order the task learnt of them (commits ascending, an
// abort never after a commit that covers it), and run() performs them by
// calling the operator's commit_checkpoint / abort_checkpoint (sluice/transactional_sink.h). A
// step that says retry later (Status::unavailable) stays at the head of the queue and is tried
// again after a backoff, 10 ms doubling up to 5 s; the steps behind it wait, so the sink sees its
// calls in order and one at a time. A step that fails (any other status, or an exception) fails
// the lane: run() returns the failure and the lane drops its steps.
//
// Which thread runs a lane: the task's, between batches, for a sink whose commit is quick; the
// job's committer thread (runtime/committer.h) for one whose commit may block; and once the tasks
// have stopped, the committer thread for every lane (Committer::drain).
//
// Only checkpoints the sink prepared are aborted. A checkpoint may be abandoned before the task
// reaches its barrier (another task declined it): the lane remembers it and aborts it as soon as
// the sink prepares it, unless a later checkpoint completes first.
//
// Cost: a few vector operations and a mutex per checkpoint; nothing per batch.
//
// Thread-safety: prepared/completed/abandoned on the task's thread (or the runner's once the task
// has stopped); run() by one thread at a time; due_us(), failure() and idle() from any thread.
// The queue is guarded by mutex_, the prepared ids belong to the task's thread.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "sluice/detail/operator.h"
#include "sluice/status.h"

namespace sluice::runtime {

class Committer;

class CommitLane {
 public:
  static constexpr int64_t kFirstBackoffUs = 10'000;
  static constexpr int64_t kMaxBackoffUs = 5'000'000;

  // `committer` is woken when an off-thread lane gets a step (may be null for tests).
  CommitLane(detail::Operator* op, bool off_thread, Committer* committer)
      : op_(op), off_thread_(off_thread), committer_(committer) {}
  CommitLane(const CommitLane&) = delete;
  CommitLane& operator=(const CommitLane&) = delete;

  // Whether the committer thread runs this lane while the job runs (the sink's commit blocks).
  bool off_thread() const { return off_thread_; }
  const detail::Operator& op() const { return *op_; }

  // ---- the task's thread ----
  // The sink's prepare of checkpoint `id` was called (whatever it returned).
  void prepared(uint64_t id);
  // Checkpoint `id` is complete: commit (it covers every earlier prepared checkpoint).
  void completed(uint64_t id);
  // Checkpoint `id` was abandoned: abort it if the sink prepared it (or once it does).
  void abandoned(uint64_t id);

  // Runs the queued steps due at `now_us` (monotonic µs) in order, until the queue is empty or a
  // step says retry later. Not OK: a step failed; the message says which ("commit of checkpoint
  // 7: ..."), not the operator. REQUIRES: one thread at a time (see the file comment).
  Status run(int64_t now_us);
  // When run() has something to do: 0 now, a retry's time, INT64_MAX nothing (or failed).
  int64_t due_us() const;
  // Nothing queued (a failed lane holds nothing).
  bool idle() const;
  // The failure of a failed lane; OK otherwise.
  Status failure() const;

 private:
  struct Step {
    bool commit;  // false: abort
    uint64_t id;
  };
  void push(Step step);
  Status call(const Step& step);

  detail::Operator* op_;
  const bool off_thread_;
  Committer* committer_;

  mutable std::mutex mutex_;
  std::deque<Step> steps_;   // guarded by mutex_
  int64_t retry_at_us_ = 0;  // guarded by mutex_; the head step waits until then
  int64_t backoff_us_ = 0;   // guarded by mutex_; 0: the head step has not been retried
  Status failure_;           // guarded by mutex_
  bool failed_ = false;      // guarded by mutex_

  // The task's thread only.
  std::vector<uint64_t> prepared_;         // prepared, neither committed nor aborted; ascending
  std::vector<uint64_t> abandoned_ahead_;  // abandoned before the sink prepared them
  uint64_t last_prepared_ = 0;
};

}  // namespace sluice::runtime
