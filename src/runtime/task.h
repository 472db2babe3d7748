// A task: one subtask of a chain of operators, the unit the worker pool schedules.
//
// A task owns its operators (the chain head first), the links between them, and the exchanges at
// its end. run_slice() does a bounded amount of work and returns, so one worker thread can run
// many tasks cooperatively. Between batches it merges watermarks (the minimum over inputs that
// are neither ended nor idle; the merged watermark never goes back), is idle itself while every
// open input is idle, aligns checkpoint barriers, ends when every input has ended, flushes partial
// exchange batches when the flush delay has passed, and runs the operators' processing-time timers
// once they are due (their deadlines join the task's).
//
// Checkpoints (with a CheckpointControl, checkpoint_control.h: the runtime's view of the
// checkpoint coordinator): a source task, between polls, answers a new trigger_id() by
// snapshotting its chain and emitting the barrier. Any other task aligns: an input that delivered
// barrier n is not read again until every open input has delivered n (or ended); then the chain
// is snapshotted (the synchronous cut), the barrier goes on, the inputs are released, and the
// snapshots go to the control with the pause (alignment and synchronous part) measured.
// Between slices a task tells its operators of completed checkpoints, and its transactional
// sinks' lanes (runtime/commit_lane.h) of completed and abandoned ones: the lanes of quick sinks
// commit and abort on the task's thread, retries included; those of sinks whose commit blocks on
// the job's committer thread (runtime/committer.h). A source task polls nothing after the
// barrier of a stopping savepoint (stop-with-savepoint).
//
// Checkpoints go on after a part of the job has ended. An ended input counts as aligned: its end
// follows all its data, so a task that aligns n without it has seen everything it will ever
// send. A task that has ended (a source at its end, or a task whose inputs all ended) answers
// every later trigger itself, on its thread, by snapshotting its chain — the final state: a
// source's end position, a sink's last part pre-committed — and acknowledging without emitting
// anything, before and after it has finished (run_finished()). Every task thus acknowledges
// every checkpoint, and a restore from one resumes the ended part at its end: it makes nothing
// again, and its operators only see the end once more.
//
// A task is not runnable while an exchange holds overflow (backpressure) or while it has no input.
// An exception from an operator ends the slice as an OperatorError; the job then fails.
//
// Thread-safety: run by one worker thread; notify() may be called from any thread.
#pragma once

#include <algorithm>
#include <memory>
#include <vector>

#include "runtime/channel.h"
#include "runtime/checkpoint_control.h"
#include "runtime/committer.h"
#include "runtime/job_metrics.h"
#include "sluice/detail/operator.h"

namespace sluice::runtime {

class Worker;

// The exchanges of one task seen as one: flush deadlines, flushing and backpressure.
class ExchangeGroup {
 public:
  explicit ExchangeGroup(std::vector<detail::Output*> outs) : outs_(std::move(outs)) {}
  void set_now(int64_t now_us) {
    for (detail::Output* o : outs_) o->set_now(now_us);
  }
  int64_t flush_deadline() const {
    int64_t d = INT64_MAX;
    for (detail::Output* o : outs_) d = std::min(d, o->flush_deadline());
    return d;
  }
  void flush_due(int64_t now_us) {
    for (detail::Output* o : outs_) {
      if (o->flush_due(now_us)) o->flush();
    }
  }
  bool blocked() {
    bool b = false;
    for (detail::Output* o : outs_) b |= o->blocked();
    return b;
  }

 private:
  std::vector<detail::Output*> outs_;
};

class Task {
 public:
  enum class Slice { kProgress, kIdle, kBlocked, kFinished };

  // `ops` are wired to `outputs` (chain links, exchanges, fan-outs; owned); `exchanges` are the
  // exchanges among them (main and side outputs), watched for flushing and backpressure.
  Task(std::vector<std::unique_ptr<detail::Operator>> ops,
       std::vector<std::unique_ptr<detail::Output>> outputs,
       std::vector<detail::Output*> exchanges);
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task();

  void add_input(Channel* channel, int port);
  // Collect figures into `task` (time accounting) and `head` (the head operator's input).
  void set_metrics(TaskMetrics* task, detail::OperatorMetrics* head) {
    metrics_ = task;
    head_metrics_ = head;
  }
  void set_worker(Worker* worker) { worker_ = worker; }
  Worker* worker() const { return worker_; }
  const std::string& name() const { return ops_.front()->info().name; }

  void open();
  void close();

  // The logical node of each chained operator and this task's subtask index.
  void set_layout(std::vector<int> nodes, int subtask) {
    nodes_ = std::move(nodes);
    subtask_ = subtask;
  }
  // Checkpointing with `control` (null: none). REQUIRES: before the task runs.
  void set_checkpoint_control(CheckpointControl* control);
  // Commits of the chain's transactional sinks through lanes of `committer`. REQUIRES: before
  // the task runs.
  void set_committer(Committer* committer);
  const std::vector<int>& nodes() const { return nodes_; }
  int subtask() const { return subtask_; }
  detail::Operator& op(size_t i) { return *ops_[i]; }
  size_t op_count() const { return ops_.size(); }
  // The synchronous cut of the chain: the snapshots of its stateful operators. Throws what an
  // operator throws (a checkpoint it declines). REQUIRES: the task's thread, or the task stopped.
  std::vector<SubtaskState> snapshot_chain(uint64_t checkpoint_id);
  // Tells every operator that `checkpoint_id` is complete, and the sinks' lanes (quick sinks
  // commit now). Same REQUIRES.
  void notify_complete(uint64_t checkpoint_id);
  // Tells the operators and lanes of the newest completed checkpoint unless they know it, and
  // the lanes of checkpoints abandoned since the last call. Same REQUIRES.
  void notify_completed();

  // REQUIRES: called by the task's worker thread only.
  Slice run_slice(int64_t now_us);
  // A finished task still takes part in checkpoints: it acknowledges each new trigger with the
  // final state of its chain (emitting nothing) and tells its operators of completed ones (the
  // sink of a finished part commits). Whether it did anything. Task's worker thread only.
  bool run_finished();
  // Whether run_finished() has something to do (checked before a worker sleeps).
  bool has_checkpoint_work() const;
  // Adds a slice that ran from `start_us` to `end_us` (and the gap since the previous one) to the
  // task's busy, idle or backpressured time (job_metrics.h). Task's worker thread only.
  void account(Slice slice, int64_t start_us, int64_t end_us);
  // Whether run_slice could make progress now (checked before a worker sleeps).
  bool has_work(int64_t now_us);
  // The monotonic time (µs) by which the task must run again even without input.
  int64_t deadline_us() const;
  bool finished() const { return finished_; }

  // Wakes the task's worker if it sleeps. Any thread.
  void notify();

 private:
  struct Input {
    Channel* channel;
    int port;
    Timestamp watermark = kMinTimestamp;
    bool ended = false;
    bool idle = false;     // left out of the watermark until its producer is active again
    bool holding = false;  // delivered the barrier being aligned; not read until it completes
  };

  void handle(Input& in, const Envelope& e);
  void advance_watermark();
  // Tells the chain when every open input has turned idle, or one has become active again.
  void update_idleness();
  void end_input();
  void on_barrier(Input& in, uint64_t checkpoint_id);
  // Once ended: acknowledges a new trigger with the chain's final state. Whether it did.
  bool checkpoint_ended();
  void release_inputs();
  // The cut and the barrier of checkpoint `id`, then the acknowledgement.
  void checkpoint(uint64_t id, int64_t alignment_us);
  // A source task emits nothing after the barrier of a stopping savepoint.
  bool source_stopped() const {
    const uint64_t stop = control_ != nullptr ? control_->stop_id() : 0;
    return stop != 0 && last_barrier_ >= stop;
  }
  // Runs the due steps of the lanes the task runs itself (quick sinks); throws an OperatorError
  // naming the sink when one fails.
  void run_commits(int64_t now_us);
  // Runs the due processing-time timers of the chain's operators; whether any ran.
  bool fire_processing_timers(int64_t now_us);
  // Publishes the operators' state sizes (about once a second: sizes can cost a scan).
  void sample_state_sizes(int64_t now_us);
  static constexpr int64_t kStateSampleIntervalUs = 1'000'000;
  // The earliest processing-time timer of the chain's operators (monotonic µs).
  int64_t next_timer_us() const;

  std::vector<std::unique_ptr<detail::Operator>> ops_;
  std::vector<std::unique_ptr<detail::Output>> outputs_;  // links and exchanges, owned
  ExchangeGroup exchanges_;  // flush timing and backpressure of every exchange of the task
  detail::SourceOperator* source_ = nullptr;
  std::vector<Input> inputs_;
  size_t next_input_ = 0;
  int open_inputs_ = 0;
  Timestamp watermark_ = kMinTimestamp;
  bool idle_ = false;  // every open input is idle, and the chain was told
  CheckpointControl* control_ = nullptr;
  std::vector<int> nodes_;  // the logical node of each operator of the chain
  int subtask_ = 0;
  uint64_t aligning_ = 0;   // the checkpoint whose barrier is being aligned; 0: none
  int aligned_inputs_ = 0;  // open inputs that delivered it
  int64_t align_start_us_ = 0;
  uint64_t last_barrier_ = 0;  // the newest checkpoint this task has taken part in
  uint64_t notified_ = 0;      // the newest completed checkpoint told to the operators

  uint64_t abandoned_seen_ = 0;  // abandoned checkpoints told to the lanes (a count)
  std::vector<std::pair<size_t, CommitLane*>> lanes_;  // (operator index, its lane); not owned
  int64_t commit_due_us_ = INT64_MAX;  // the earliest due step of a lane the task runs

  bool source_idle_ = false;
  bool ended_ = false;     // on_end() ran: the end is in the exchanges, perhaps in overflow
  bool finished_ = false;  // ended and every overflow drained
  Worker* worker_ = nullptr;
  TaskMetrics* metrics_ = nullptr;  // nullptr: no metrics collected
  detail::OperatorMetrics* head_metrics_ = nullptr;
  int64_t last_slice_end_us_ = 0;
  int64_t next_state_sample_us_ = 0;
  Slice last_slice_ = Slice::kIdle;
};

// Links one operator to the next one in its chain: a direct call, no copy. With metrics, counts
// the batch as the output of `from` and the input of `next` (metered_output.h). A batch passed on
// loses its key hashes (BatchBase::hashes): the rows may have changed, and the next operator's
// key is another.
class ChainLink final : public detail::Output {
 public:
  ChainLink(detail::Operator* next, int port) : next_(next), port_(port) {}
  ChainLink(detail::Operator* next, int port, detail::OperatorMetrics* from,
            const TaskMetrics* task)
      : next_(next), port_(port), from_(from), task_(task) {}
  void emit(detail::BatchBase& batch) override;
  void emit_watermark(Timestamp watermark) override;
  void emit_idle(bool idle) override;
  void emit_barrier(uint64_t checkpoint_id) override;
  void emit_end() override;

 private:
  detail::Operator* next_;
  int port_;
  detail::OperatorMetrics* from_ = nullptr;  // nullptr: no metrics collected
  const TaskMetrics* task_ = nullptr;
};

// The output of a chain that ends in a sink.
class NullOutput final : public detail::Output {
 public:
  void emit(detail::BatchBase&) override {}
  void emit_watermark(Timestamp) override {}
  void emit_idle(bool) override {}
  void emit_barrier(uint64_t) override {}
  void emit_end() override {}
};

}  // namespace sluice::runtime
