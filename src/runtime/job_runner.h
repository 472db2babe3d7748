// Runs a logical graph: builds the physical plan (chains, subtasks, channels), starts the worker
// pool and waits for the job to finish, fail or be cancelled.
//
// Chaining: a node joins its upstream's task when it has exactly one input, that input is a
// forward edge (or any edge between two operators of parallelism 1), parallelisms are equal, the
// upstream has no other consumer, and chaining was not disabled on it. A forward edge between
// operators of different parallelism is executed as a rebalance.
//
// Checkpoints go through a CheckpointService (checkpoint_service.h) that the layer above hands
// the runner; without one the job takes no checkpoints or savepoints, and options asking for them
// are an error. With `checkpoint_dir` set the runner resumes from the latest complete checkpoint
// there, runs a coordinator that triggers one every `checkpoint_interval_us`, and after a job
// that finished writes a final checkpoint (the end of every input, the sinks' last transactions)
// and lets the sinks commit. After an operator failure it restarts the job in-process from the
// latest checkpoint, up to `restart_attempts` times with a doubling backoff. Sinks whose commit
// blocks commit on the job's committer thread (runtime/committer.h); a job ends once the commits
// of its last checkpoint are done.
//
// Savepoints (docs/checkpoints.md): request_savepoint() from any thread, with or without a
// `checkpoint_dir` (the coordinator runs in every job; without a directory it only takes
// savepoints and writes no final checkpoint). A stopping savepoint ends the job once it is
// complete and the sinks have committed it: run() returns OK and stats() names the savepoint.
// With `savepoint_path` the first attempt starts from that savepoint, at any parallelism of the
// keyed operators; an in-process restart prefers a newer checkpoint of `checkpoint_dir`.
//
// Thread-safety: one run at a time per runner; cancel() and request_savepoint() from any thread.
#pragma once

#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/checkpoint_service.h"
#include "runtime/job_metrics.h"
#include "runtime/job_observer.h"
#include "sluice/detail/graph.h"
#include "sluice/options.h"
#include "sluice/status.h"

namespace sluice::runtime {

class Channel;
class Committer;
class Task;
class WorkerPool;

class JobRunner {
 public:
  // With an `observer`, the job collects metrics (job_metrics.h) and reports to it; without, the
  // data path counts nothing. With `checkpoints` (borrowed, outliving the runner), the job
  // checkpoints and takes savepoints.
  JobRunner(const detail::LogicalGraph& graph, const JobOptions& options,
            JobObserver* observer = nullptr, std::string job_name = "job",
            CheckpointService* checkpoints = nullptr);
  ~JobRunner();

  Status run();
  void cancel();
  // A savepoint of the running job into `target_dir` (stopping the job after it with `stop`).
  // Not OK at once while the job is starting or restarting; otherwise the future tells where it
  // is once complete, or why it failed.
  Result<std::future<Result<std::string>>> request_savepoint(std::string target_dir, bool stop);
  const JobStats& stats() const { return stats_; }
  // Figures of the last run's checkpoints (zeros without checkpointing).
  CheckpointFigures checkpoint_figures() const { return figures_; }

  // Whether `node` runs in the same task as its single upstream node.
  static bool chained(const detail::LogicalGraph& graph, int node);

 private:
  Status build();
  // One attempt; `restartable` tells whether a failure came from running operators.
  Status run_once(bool* restartable);
  Status restore(const LoadedCheckpoint& cp);
  // The checkpoint's state of each node, by node index (null: none): by stable id, or in a
  // checkpoint without ids (format 1) by node index. Not OK when state would be left unclaimed.
  Result<std::vector<const NodeState*>> match_operators(const LoadedCheckpoint& cp) const;
  Status finish_checkpoints();
  // Once the tasks have stopped: waits until the sinks' queued commits are done.
  Status drain_commits();
  void report_checkpoints(const CheckpointFigures& figures);
  // Sleeps `us` unless the job is cancelled meanwhile; false when it was.
  bool backoff(int64_t us);
  Status run_tasks(const std::optional<LoadedCheckpoint>& restored, bool* restartable);
  // The shape of the job and the metrics of operators and tasks (with an observer).
  void describe(const std::vector<std::vector<int>>& chains, const std::vector<int>& chain_of);

  const detail::LogicalGraph& graph_;
  JobOptions options_;
  std::vector<std::string> operator_ids_;  // by node (operator_ids.h); set by build()
  JobObserver* observer_;
  CheckpointService* checkpoints_;  // nullptr: no checkpoints, no savepoints
  JobMetrics metrics_;
  std::vector<std::unique_ptr<Channel>> channels_;
  std::vector<std::unique_ptr<Task>> tasks_;
  std::unique_ptr<WorkerPool> pool_;
  // The commits of the sinks whose commit blocks; after pool_: stops before the pool and the
  // tasks whose operators its lanes call.
  std::unique_ptr<Committer> committer_;
  // Replaced on each attempt under control_mutex_, which request_savepoint() takes to reach it.
  std::mutex control_mutex_;
  std::unique_ptr<CheckpointControl> control_;
  int attempt_ = 0;
  CheckpointFigures figures_;
  CheckpointFigures reported_;             // the figures the observer last heard of
  const char* failure_kind_ = "operator";  // of the last attempt's failure (a metric label)
  std::atomic<bool> cancel_requested_{false};
  std::atomic<int64_t> batches_allocated_{0};
  JobStats stats_;
};

}  // namespace sluice::runtime
