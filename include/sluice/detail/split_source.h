// SplitSource<T>: a source operator whose input is a set of splits (source_split.h) — files,
// Kafka partitions, shards — each read by a SplitReader<T> and checkpointed by its id.
//
// A subtask holds the splits assigned to it and reads them in turn. A poll fills one batch:
// starting with the split whose turn it is, each split is asked once for rows until the batch is
// full (one virtual call per split and batch; the reader's per-row loop is its own). A split
// that stops with more to read keeps the turn for `Options::batches_per_turn` polls (0: until it
// has nothing now or ends — a file is read to its end before the next one is opened, so at most
// one file is open per subtask); one with nothing now, or at its end, passes it on. A bounded
// source ends once every split it holds is finished.
//
// Assignment. At open() the subtask takes its share of the splits the connector lists
// (list_splits(); split_positions.h says which); a restore replaces it with its share of the
// checkpointed splits, at any parallelism. Between polls — or from update_assignment(), which
// runs at the start of every poll, where a consumer group's rebalance would call them —
// assign(split) adds a split at its position and revoke(id) removes one and returns its
// position, so a split moves between subtasks without a row lost or read twice: every row read
// before the call has been emitted.
//
// Checkpoints. The operator-wide stream of a subtask holds its splits' positions keyed by id
// (split_positions.h). The manifest's offset line lists them readably (describe_position()).
// A connector that wrote another format before reads it in read_legacy_state().
//
// Event time. With set_event_time() (which assign_timestamps on the source's stream calls; see
// split_timestamps.h) each split has its own watermark generator: a split's rows get their times
// as they are read, a split whose last read found nothing and that has had no row for the idle
// timeout is idle, and the subtask emits, between batches, the minimum of the watermarks of its
// splits that are neither idle nor finished — a split assigned but not read yet holds it back —
// and idleness when every split it holds is idle (or it holds none and is unbounded). At its end
// it emits the end of time. Without set_event_time the source emits rows without times and no
// watermark, as other sources do.
//
// Thread-safety: like any operator, driven by one task's thread; assign and revoke on that
// thread between polls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/detail/graph.h"
#include "sluice/detail/operator.h"
#include "sluice/detail/source_split.h"
#include "sluice/detail/split_positions.h"
#include "sluice/detail/split_reader.h"
#include "sluice/detail/split_timestamps.h"

namespace sluice::detail {

class SplitSourceBase : public SourceOperator {
 public:
  struct Options {
    bool bounded = true;           // ends once every split it holds is finished
    size_t batches_per_turn = 0;   // polls a split keeps the turn while it has more; 0: no limit
    int64_t poll_delay_us = 2000;  // when every split has nothing now, poll again after this
    bool replayable = true;        // false: positions are not checkpointed (standard input)
  };

  explicit SplitSourceBase(Options options) : options_(options) {}
  ~SplitSourceBase() override;

  // Hands the source its timestamps and watermark generators (see the file comment).
  // REQUIRES: before open().
  void set_event_time(std::unique_ptr<SplitTimestamps> timestamps) {
    timestamps_ = std::move(timestamps);
  }
  bool has_event_time() const { return timestamps_ != nullptr; }

  // Adds `split` at its position; it gets its turn after the splits held before. Not OK when
  // the subtask holds a split of that id already.
  [[nodiscard]] Status assign(SourceSplit split);
  // Removes the split `id` and returns it with its position now (finished or not). NotFound when
  // the subtask does not hold it.
  [[nodiscard]] Result<SourceSplit> revoke(std::string_view id);
  // The ids of the splits held, in turn order (finished ones last).
  std::vector<std::string> split_ids() const;

  void open() override;
  int64_t next_poll_us() const override { return next_poll_us_; }
  void on_end() override;

  bool has_state() const override { return true; }
  void snapshot_state(uint64_t checkpoint_id, OperatorSnapshot& out) override;
  Status restore_state(const OperatorRestore& in) override;

 protected:
  // ---- what a connector provides ----
  // The split ids a first start deals out (in this order; see split_positions.h), and that a
  // restore adds when the checkpoint does not hold them. Called once, in open(); may throw.
  virtual std::vector<std::string> list_splits() = 0;
  // The position, readable, for the manifest (no line breaks).
  virtual std::string describe_position(const SourceSplit& split) const;
  // Whether a restored split not finished may be read on; `listed`: list_splits() named it.
  virtual Status accept_restored(const SourceSplit& split, bool listed) const;
  // The old subtasks' splits from streams in a format of the connector's own, from before split
  // sources (streams not starting with kSplitFormatTag). By default: refused.
  virtual Result<std::vector<SubtaskSplits>> read_legacy_state(const OperatorRestore& in);
  // Called at the start of every poll: a connector assigns and revokes splits here.
  virtual void update_assignment(int64_t now_us) { (void)now_us; }
  // After every poll, with the rows it emitted; before the source ends.
  virtual void polled(size_t rows) { (void)rows; }
  virtual void ending() {}

  // ---- what SplitSource<T> provides ----
  // One turn: reads split `slot` (opening its reader at `split` first when `open` is false) into
  // the batch from row `used` up to `limit`.
  virtual SplitStatus read_turn(size_t slot, const SourceSplit& split, bool open, size_t& used,
                                size_t limit) = 0;
  virtual void reader_position(size_t slot, std::vector<char>& out) const = 0;
  virtual void close_reader(size_t slot) = 0;
  virtual BatchBase& batch() = 0;
  // Clears the times and hashes a downstream operator may have left in the batch.
  virtual void begin_batch() = 0;
  // Drops rows past `used` and emits the batch when it holds any.
  virtual void finish_batch(size_t used) = 0;

  // The poll of SplitSource<T>: fills and emits one batch.
  SourceState poll_splits(int64_t now_us);

 private:
  struct Entry {
    SourceSplit split;         // its position is current while no reader is open
    size_t slot = 0;           // of its reader and its watermark generator
    bool open = false;         // a reader is open
    bool nothing_now = false;  // its last read found nothing
    bool idle = false;
    int64_t last_row_us = 0;
    Timestamp watermark = kMinTimestamp;
  };

  void reset(SubtaskSplits splits);
  void add(SourceSplit split, int64_t now_us);
  // Removes active_[i] and returns its split with its current position.
  SourceSplit remove(size_t i);
  void pass_turn();
  // Idleness and watermark after a poll (with event time).
  void track_event_time(int64_t now_us);
  void set_idle(bool idle);

  const Options options_;
  std::unique_ptr<SplitTimestamps> timestamps_;
  std::vector<std::string> listed_;  // list_splits() at open()
  // ---- checkpointed: the splits and whose turn it is ----
  std::vector<Entry> active_;          // not finished, in turn order
  std::vector<std::string> finished_;  // ids of the splits read to their end
  size_t cursor_ = 0;                  // index in active_ of the split whose turn it is
  // ---- not checkpointed ----
  size_t turn_polls_ = 0;  // polls the split at cursor_ has had in this turn
  std::vector<size_t> free_slots_;
  size_t slots_ = 0;
  Timestamp emitted_ = kMinTimestamp;
  bool idle_ = false;
  int64_t next_periodic_us_ = INT64_MAX;
  int64_t next_poll_us_ = 0;
};

template <typename T>
class SplitSource : public SplitSourceBase {
 public:
  using SplitSourceBase::SplitSourceBase;

  SourceState poll(int64_t now_us) final { return poll_splits(now_us); }

 protected:
  // A reader of `split` from its position. May throw (a file that cannot be opened).
  virtual std::unique_ptr<SplitReader<T>> make_reader(const SourceSplit& split) = 0;

 private:
  SplitStatus read_turn(size_t slot, const SourceSplit& split, bool open, size_t& used,
                        size_t limit) final {
    if (!open) {
      if (readers_.size() <= slot) readers_.resize(slot + 1);
      readers_[slot] = make_reader(split);
    }
    return readers_[slot]->read(batch_.rows, used, limit);
  }
  void reader_position(size_t slot, std::vector<char>& out) const final {
    readers_[slot]->position(out);
  }
  void close_reader(size_t slot) final { readers_[slot].reset(); }
  BatchBase& batch() final { return batch_; }
  void begin_batch() final {
    batch_.times.clear();
    batch_.hashes.clear();
  }
  void finish_batch(size_t used) final {
    RowVector<T>& rows = batch_.rows;
    if (rows.size() > used) rows.erase(rows.begin() + static_cast<ptrdiff_t>(used), rows.end());
    if (used > 0) out_->emit(batch_);
  }

  std::vector<std::unique_ptr<SplitReader<T>>> readers_;  // by slot
  Batch<T> batch_;
};

// Makes `node` (a source whose operator is a SplitSourceBase) a split source for
// assign_timestamps (NodeSpec::give_split_timestamps).
inline void mark_split_source(NodeSpec& node) {
  node.give_split_timestamps = [](Operator& op, std::unique_ptr<SplitTimestamps> timestamps) {
    static_cast<SplitSourceBase&>(op).set_event_time(std::move(timestamps));
  };
}

// Stands where assign_timestamps would chain its WatermarkOperator when it handed the function
// to a split source instead: rows, watermarks and idleness pass through unchanged.
template <typename T>
class SourceWatermarksOperator final : public Operator {
 public:
  void process(int, BatchBase& batch) override { out_->emit(batch); }
};

}  // namespace sluice::detail
