// Part-file sinks: rows written to files in a directory, published with the checkpoints that
// cover them — exactly-once output across crashes.
//
//   stream.sink(sluice::sinks::part_files<Count>("out/counts", sluice::sinks::json_lines()));
//
// Each subtask writes its rows into an in-progress part file, `.part-<subtask>-<seq>.<ext>
// .inprogress` (hidden). With checkpoints on (job option `checkpoint.dir`), two-phase commit
// (sluice/transactional_sink.h):
//   - prepare, at the barrier of checkpoint n: the part is flushed, fsynced and closed, and
//     recorded as pending under n in the sink's checkpointed state;
//   - commit, once checkpoint n is complete: the parts pending under n and earlier are renamed to
//     `part-<subtask>-<seq>.<ext>` (atomic) and the directory is fsynced. A rename is cheap, so
//     commits run on the task's thread;
//   - abort of checkpoint n: its parts stay pending and the next commit publishes them;
//   - recovery: the parts pending in the checkpoint resumed from are committed (a rename that
//     already happened is skipped: commit is idempotent), and in-progress parts written after it
//     are deleted, so the replayed rows are written once.
// Delivery::kAtLeastOnce publishes a part at its prepare instead: rows are never held back
// until a checkpoint completes, but those replayed after a crash appear twice. Without
// checkpoints a part is published when the input ends. Every row in a published part is whole.
//
// The directory is created when missing. Errors (a part that cannot be created, written or
// renamed) fail the job with the file's name.
//
// Thread-safety: each subtask owns its copy of the sink.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sluice/detail/row_encoder.h"
#include "sluice/detail/text_writer.h"
#include "sluice/status.h"

namespace sluice {
namespace sinks {

enum class Delivery { kExactlyOnce, kAtLeastOnce };

}  // namespace sinks

namespace detail {

// The part files of one sink subtask: naming, pending parts, commit and recovery.
class PartFiles {
 public:
  PartFiles(std::string dir, std::string extension, sinks::Delivery delivery);
  ~PartFiles();
  PartFiles(const PartFiles&) = delete;
  PartFiles& operator=(const PartFiles&) = delete;

  void open(int subtask, int parallelism, bool checkpointing);
  // The buffer of the current part (created on first use); then call maybe_flush().
  std::string& buffer();
  void maybe_flush();
  Status prepare(uint64_t checkpoint_id, std::vector<char>& state);
  Status commit(uint64_t checkpoint_id);
  Status recover(const std::vector<std::vector<char>>& states, int old_parallelism);
  void finish();

 private:
  struct Pending {
    uint64_t checkpoint_id;
    int subtask;
    uint64_t seq;
  };
  std::string part_name(int subtask, uint64_t seq, bool in_progress) const;
  Status close_part();  // flush, fsync, close the current part
  Status publish(int subtask, uint64_t seq);

  std::string dir_;
  std::string extension_;
  sinks::Delivery delivery_;
  int subtask_ = 0;
  int parallelism_ = 1;
  bool checkpointing_ = false;
  std::unique_ptr<FileWriter> part_;  // the part being written; null: none yet
  // ---- checkpointed ----
  uint64_t next_seq_ = 0;
  std::vector<Pending> pending_;
};

}  // namespace detail

namespace sinks {

template <typename T, typename Encoder>
class PartFileSink {
 public:
  PartFileSink(std::string dir, std::string extension, Encoder encoder, Delivery delivery)
      : dir_(std::move(dir)),
        extension_(std::move(extension)),
        encoder_(encoder),
        delivery_(delivery) {}
  // A copy is a fresh, unopened sink: each subtask writes its own parts.
  PartFileSink(const PartFileSink& o)
      : PartFileSink(o.dir_, o.extension_, o.encoder_, o.delivery_) {}

  void open(int subtask, int parallelism, bool checkpointing) {
    files_ = std::make_unique<detail::PartFiles>(dir_, extension_, delivery_);
    files_->open(subtask, parallelism, checkpointing);
  }
  void write(std::span<const T> rows) {
    if (rows.empty()) return;
    std::string& buffer = files_->buffer();
    for (const T& row : rows) encoder_.append_row(buffer, row);
    files_->maybe_flush();
  }
  void finish() { files_->finish(); }

  // Two-phase commit (see the file comment).
  Status prepare(uint64_t checkpoint_id, std::vector<char>& state) {
    return files_->prepare(checkpoint_id, state);
  }
  Status commit(uint64_t checkpoint_id) { return files_->commit(checkpoint_id); }
  // The parts of an abandoned checkpoint stay pending: the next commit publishes them.
  Status abort(uint64_t) { return Status::ok(); }
  Status recover(const std::vector<std::vector<char>>& states, int old_parallelism) {
    return files_->recover(states, old_parallelism);
  }

 private:
  std::string dir_;
  std::string extension_;
  Encoder encoder_;
  Delivery delivery_;
  std::unique_ptr<detail::PartFiles> files_;
};

// JSON lines, `{"key":7,"count":3}`, in parts `part-<subtask>-<seq>.jsonl`.
template <typename T>
PartFileSink<T, detail::JsonRowEncoder> json_part_files(
    std::string dir, Delivery delivery = Delivery::kExactlyOnce) {
  return PartFileSink<T, detail::JsonRowEncoder>(std::move(dir), "jsonl", detail::JsonRowEncoder(),
                                                 delivery);
}

// CSV rows without a header, in parts `part-<subtask>-<seq>.csv`.
template <typename T>
PartFileSink<T, detail::CsvRowEncoder> csv_part_files(std::string dir,
                                                      Delivery delivery = Delivery::kExactlyOnce,
                                                      char delimiter = ',') {
  return PartFileSink<T, detail::CsvRowEncoder>(std::move(dir), "csv",
                                                detail::CsvRowEncoder(delimiter), delivery);
}

}  // namespace sinks
}  // namespace sluice
