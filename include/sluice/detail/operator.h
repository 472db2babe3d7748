// The small virtual interfaces through which the runtime drives typed operators.
//
// An Operator consumes batches on numbered inputs and hands its results to an Output: the next
// operator of the same task (a chained call, no copy), or an exchange that copies rows into
// channels towards other tasks. Watermarks, idleness, barriers and end-of-stream travel the same
// path between batches, never inside a per-row loop. Virtual calls happen once per batch.
//
// Idleness: a source partition that produces no rows for a while says so with emit_idle(true),
// and emit_idle(false) before its next rows. A task leaves idle inputs out of its watermark (the
// minimum over inputs neither ended nor idle) and is idle itself when every open input is.
//
// Errors: an exception thrown by a user function inside an operator is caught at that operator's
// boundary and re-thrown as OperatorError naming it, which fails the job. The try blocks cost
// nothing unless something is thrown.
//
// Thread-safety: an operator instance belongs to one task and is driven by one thread at a time.
#pragma once

#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sluice/detail/batch.h"
#include "sluice/detail/operator_metrics.h"
#include "sluice/detail/operator_snapshot.h"
#include "sluice/options.h"
#include "sluice/time.h"

namespace sluice::detail {

// Where one operator instance sits in the job.
struct OperatorInfo {
  std::string name;
  int subtask = 0;
  int parallelism = 1;
  int max_parallelism = 128;
  size_t batch_size = 1024;
  bool checkpointing = false;  // the job takes checkpoints: transactional sinks commit on them
  // What its failures count as (the `kind` of sluice_errors_total): "source", "sink" (no
  // outputs) or "operator".
  const char* error_kind = "operator";
  std::string display() const {
    return "'" + name + "' (subtask " + std::to_string(subtask + 1) + "/" +
           std::to_string(parallelism) + ")";
  }
};

// Where keyed operators keep their state: the job options `state.backend` and `state.dir`.
struct StateConfig {
  StateBackendKind backend = StateBackendKind::kMemory;
  std::string dir;  // the RocksDB backend's subtasks work in directories under it
};

// A failure attributed to one operator; the job fails with this message.
class OperatorError : public std::runtime_error {
 public:
  OperatorError(const std::string& op, const std::string& what, const char* kind = "operator")
      : std::runtime_error("operator " + op + " failed: " + what), kind_(kind) {}
  const char* kind() const { return kind_; }  // see OperatorInfo::error_kind

 private:
  const char* kind_;
};

// Calls `fn`, turning any exception other than an OperatorError raised further down the chain
// into an OperatorError naming `info`.
template <typename Fn>
inline void attribute_errors(const OperatorInfo& info, Fn&& fn) {
  try {
    fn();
  } catch (const OperatorError&) {
    throw;
  } catch (const std::exception& e) {
    throw OperatorError(info.display(), e.what(), info.error_kind);
  } catch (...) {
    throw OperatorError(info.display(), "unknown exception", info.error_kind);
  }
}

// The receiving end of an operator. `emit` lends the batch for the duration of the call; the
// receiver may reorder, filter or overwrite its rows (the sender clears it afterwards).
class Output {
 public:
  virtual ~Output() = default;
  virtual void emit(BatchBase& batch) = 0;
  virtual void emit_watermark(Timestamp watermark) = 0;
  // The stream turned idle (true: no rows for now, leave it out of watermarks) or active again.
  virtual void emit_idle(bool idle) = 0;
  virtual void emit_barrier(uint64_t checkpoint_id) = 0;
  virtual void emit_end() = 0;

  // Exchanges buffer partial batches; the task flushes them once `flush_delay` has passed.
  // `now_us` is a monotonic clock in microseconds read once per scheduling slice.
  virtual void set_now(int64_t now_us) { (void)now_us; }
  virtual bool flush_due(int64_t now_us) {
    (void)now_us;
    return false;
  }
  virtual int64_t flush_deadline() const { return INT64_MAX; }  // INT64_MAX: nothing pending
  virtual void flush() {}
  // An exchange whose channel is full keeps the overflow and reports itself blocked; the task
  // is then not runnable until the overflow drains (backpressure).
  virtual bool blocked() { return false; }
};

class Operator {
 public:
  virtual ~Operator() = default;

  void set_info(OperatorInfo info) { info_ = std::move(info); }
  const OperatorInfo& info() const { return info_; }
  void set_state_config(StateConfig config) { state_config_ = std::move(config); }
  void set_output(Output* out) { out_ = out; }
  // Side outputs are numbered from 1 (0 is the main output); unset ones are nullptr.
  void set_side_output(int port, Output* out) {
    if (static_cast<int>(side_outputs_.size()) <= port) side_outputs_.resize(port + 1, nullptr);
    side_outputs_[port] = out;
  }
  Output* side_output(int port) const {
    return port < static_cast<int>(side_outputs_.size()) ? side_outputs_[port] : nullptr;
  }
  // Where the runtime collects this subtask's figures (operator_metrics.h). Operators that keep
  // figures of their own (late rows, state size, bad records) publish them here between batches.
  // nullptr when the job collects no metrics.
  void set_metrics(OperatorMetrics* metrics) { metrics_ = metrics; }
  OperatorMetrics* metrics() const { return metrics_; }

  virtual void open() {}
  virtual void process(int input, BatchBase& batch) = 0;
  // Keys and approximate bytes of the state this subtask holds, for the state-size metrics; the
  // task samples it about once a second, never per batch. False for operators without state or
  // with figures they publish themselves (windows).
  virtual bool state_size(int64_t* keys, int64_t* bytes) const {
    (void)keys, (void)bytes;
    return false;
  }
  // Every channel of input `input` has ended while other inputs may still be open (on_end()
  // follows once all have). For operators that treat one input as a table or a set of rules.
  virtual void on_input_end(int input) { (void)input; }
  // The minimum watermark over all inputs advanced to `watermark`.
  virtual void on_watermark(Timestamp watermark) {
    out_->emit_watermark(watermark);
    for (Output* o : side_outputs_) {
      if (o != nullptr) o->emit_watermark(watermark);
    }
  }
  // Every open input turned idle (true), or one of them became active again (false). A source
  // that owns no data (say, more subtasks than partitions) may call out_->emit_idle(true) itself.
  virtual void on_idle(bool idle) {
    out_->emit_idle(idle);
    for (Output* o : side_outputs_) {
      if (o != nullptr) o->emit_idle(idle);
    }
  }
  virtual void on_barrier(uint64_t checkpoint_id) {
    out_->emit_barrier(checkpoint_id);
    for (Output* o : side_outputs_) {
      if (o != nullptr) o->emit_barrier(checkpoint_id);
    }
  }
  // Every input ended: emit what is still held, then forward the end (on every output).
  virtual void on_end() { end_outputs(); }

  // Processing-time timers. An operator that has some reports the monotonic time (µs, the clock
  // of the task's `now_us`) of its earliest one; the task wakes by then and calls
  // on_processing_time between batches once that time has come. INT64_MAX: none pending.
  virtual int64_t next_timer_us() const { return INT64_MAX; }
  virtual void on_processing_time(int64_t now_us) { (void)now_us; }
  virtual void close() {}

  // ---- checkpoints (see detail/operator_snapshot.h) ----
  // Whether the operator has state to checkpoint (sources: their position; sinks: their pending
  // transaction). Stateless operators contribute nothing.
  virtual bool has_state() const { return false; }
  // The synchronous cut of checkpoint `checkpoint_id`, between batches, before the barrier goes
  // on. A transactional sink prepares here: what it wrote since the previous barrier becomes a
  // pending transaction of this checkpoint.
  virtual void snapshot_state(uint64_t checkpoint_id, OperatorSnapshot& out) {
    (void)checkpoint_id;
    (void)out;
  }
  // Called after open() and before any input when the job resumes from a checkpoint.
  virtual Status restore_state(const OperatorRestore& in) {
    (void)in;
    return Status::ok();
  }
  // Checkpoint `checkpoint_id` is complete (its manifest is in place): operators drop what they
  // kept for it (staged files). Called between batches. (Sinks commit in commit_checkpoint.)
  virtual void notify_checkpoint_complete(uint64_t checkpoint_id) { (void)checkpoint_id; }

  // ---- two-phase commit (sluice/transactional_sink.h) ----
  // A transactional sink prepares in snapshot_state and restores in restore_state; the runtime
  // then calls commit_checkpoint and abort_checkpoint one at a time (commits in checkpoint
  // order): on the task's thread between batches, or on the job's committer thread when
  // commit_blocks().
  virtual bool commits() const { return false; }
  virtual bool commit_blocks() const { return false; }
  // OK, Status::unavailable (retried after a backoff), or a failure (the job fails).
  virtual Status commit_checkpoint(uint64_t checkpoint_id) {
    (void)checkpoint_id;
    return Status::ok();
  }
  // Checkpoint `checkpoint_id`, which snapshot_state prepared, was abandoned. Statuses as above.
  virtual Status abort_checkpoint(uint64_t checkpoint_id) {
    (void)checkpoint_id;
    return Status::ok();
  }

 protected:
  void end_outputs() {
    out_->emit_end();
    for (Output* o : side_outputs_) {
      if (o != nullptr) o->emit_end();
    }
  }

  Output* out_ = nullptr;
  std::vector<Output*> side_outputs_;  // by port; not owned
  OperatorInfo info_;
  OperatorMetrics* metrics_ = nullptr;  // not owned
  StateConfig state_config_;
};

// What one call of SourceOperator::poll achieved.
enum class SourceState {
  kMore,  // produced data; call again
  kIdle,  // nothing available now (rate limit, no input yet); see next_poll_us
  kEnd,   // bounded input exhausted; on_end() follows
};

class SourceOperator : public Operator {
 public:
  void process(int, BatchBase&) final {}
  // Produces at most one batch through out_.
  virtual SourceState poll(int64_t now_us) = 0;
  // When idle: the monotonic time (µs) at which polling again makes sense.
  virtual int64_t next_poll_us() const { return INT64_MAX; }

 protected:
  // Records the source could read now and has not read yet (its connector lag; for a paced
  // generator, rows due by its schedule and not made yet). Once per poll, not per row.
  void publish_lag(uint64_t records) {
    if (metrics_ != nullptr) metrics_->connector_lag.set(static_cast<int64_t>(records));
  }
};

}  // namespace sluice::detail
