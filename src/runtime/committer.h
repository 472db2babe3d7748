// Committer: the job's committer thread, which runs the commits and aborts of transactional
// sinks whose commit may block (a database, a broker), so that their tasks go on processing.
//
// One per job attempt. Each sink subtask has a lane (runtime/commit_lane.h): its steps in
// checkpoint order. The lanes of sinks whose commit blocks (sluice/transactional_sink.h:
// kCommitBlocks) are run by the committer's one thread: it runs every lane with a step due, one
// lane at a time, and sleeps until the next step is due (a retry after its backoff) or a task
// queues one (wake()). The lanes of quick sinks are run by their tasks between batches. One
// thread serves every blocking sink of the job: a commit that blocks delays the others' commits,
// never a task.
//
// A failed step is handed to the failure callback (the worker pool's: the job fails with the
// message, naming the operator, and may restart from the latest checkpoint).
//
// At the end of a job — after its final checkpoint, or a stop with a savepoint — the runner calls
// drain() once the tasks have stopped: the thread then runs every lane, those of quick sinks
// too, until all are empty, so a job ends only once the commits of its last checkpoint are done.
// Steps still queued when the committer is destroyed (a failed or cancelled job) are dropped: the
// next start's recovery commits what its checkpoint covers.
//
// Thread-safety: add_lane() and start() before the tasks run; wake() from any thread; drain()
// from the runner's thread once the tasks have stopped.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/commit_lane.h"
#include "sluice/detail/operator.h"
#include "sluice/status.h"

namespace sluice::runtime {

class Committer {
 public:
  Committer() = default;
  ~Committer();
  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;

  // A lane for the transactional sink `op` (op->commits()); off the task's thread when its
  // commit blocks. Owned by the committer. REQUIRES: before start().
  CommitLane* add_lane(detail::Operator* op);
  // Starts the thread when a lane needs it; failures go to `on_failure` with the whole message
  // ("operator 'x' (subtask 1/2) failed: commit of checkpoint 7: ...").
  void start(std::function<void(const std::string&)> on_failure);
  // A lane run by the thread has a new step. Any thread.
  void wake();
  // Runs every lane, on the thread, until all are empty. The first failure (the whole message),
  // or cancelled once `cancelled()` says so. REQUIRES: the tasks have stopped.
  Status drain(const std::function<bool()>& cancelled);

 private:
  void loop();
  void start_thread();  // REQUIRES: mutex_ not held

  std::vector<std::unique_ptr<CommitLane>> lanes_;  // fixed once started
  std::function<void(const std::string&)> on_failure_;

  std::mutex mutex_;
  std::condition_variable cv_;       // wakes the thread
  std::condition_variable done_cv_;  // a round of the thread ended (drain() waits on it)
  bool woken_ = false;               // guarded by mutex_
  bool shutdown_ = false;            // guarded by mutex_
  bool all_lanes_ = false;           // guarded by mutex_; drain(): the thread runs every lane
  std::thread thread_;
};

// "operator 'x' (subtask 1/2) failed: <what>", as an OperatorError says it.
std::string commit_failure_message(const detail::Operator& op, const Status& failure);

}  // namespace sluice::runtime
