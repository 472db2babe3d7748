// CheckpointStorage: checkpoints as directories on the local filesystem (see docs/checkpoints.md
// for the format).
//
// A checkpoint is written file by file (zstd-compressed, fsynced), then its MANIFEST is written
// under a temporary name, fsynced and renamed into place, and the directory is fsynced: a
// checkpoint without a MANIFEST never counts. Loading walks the checkpoints from the newest,
// verifies the manifest's own checksum and every file's size and checksum, and skips a corrupt or
// partial one for the previous complete one, with a warning naming it and the reason.
//
// Thread-safety: one writer thread; load() before the job starts. A write-failure hook lets tests
// inject the errors of a full disk.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sluice/detail/operator_snapshot.h"
#include "sluice/status.h"

namespace sluice::checkpoint {

// Version 2 files each operator under its stable id (a `uid` line per node); version 1
// checkpoints, without ids, still load and restore by node index.
inline constexpr int kFormatVersion = 2;
inline constexpr int kOldestFormatVersion = 1;

// One operator (node of the logical graph) as the checkpoint records it.
struct NodeLayout {
  int node = 0;
  std::string name;
  int parallelism = 1;
  // Stable id (runtime/operator_ids.h) that a restore matches operators by; empty: the name.
  std::string uid;
};

// What one operator subtask contributed.
struct SubtaskState {
  int node = 0;
  int subtask = 0;
  detail::OperatorSnapshot snapshot;
};

// The state of one node in a loaded checkpoint.
struct NodeState {
  std::string name;
  std::string uid;  // empty in format version 1
  int parallelism = 1;
  std::vector<std::vector<char>> operator_states;  // by subtask
  std::map<int, std::vector<char>> key_groups;
  std::vector<std::string> offsets;  // by subtask, readable
  std::vector<std::string> files;    // backend files, paths in the checkpoint's directory
};

// What the last write() stored of backend files.
struct BackendFileFigures {
  int files_reused = 0;  // hard-linked from the previous checkpoint
  int files_copied = 0;  // stored afresh (linked from the backend's staging, or copied)
  uint64_t bytes_copied = 0;
};

struct LoadedCheckpoint {
  int format_version = kFormatVersion;
  uint64_t id = 0;
  std::string dir;
  int max_parallelism = 128;
  std::map<int, NodeState> nodes;
};

class CheckpointStorage {
 public:
  explicit CheckpointStorage(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }
  // Creates the directory (and its parents) when missing.
  Status prepare() const;
  // Writes checkpoint `id` and renames its manifest into place. Returns the bytes stored (of
  // backend files, those stored afresh). On failure the partial directory is removed.
  Result<uint64_t> write(uint64_t id, int max_parallelism, const std::vector<NodeLayout>& nodes,
                         std::vector<SubtaskState>& states) {
    return write_to(path_of(id), id, max_parallelism, nodes, states);
  }
  // The same into the directory `dir` (a savepoint: any directory, self-contained).
  Result<uint64_t> write_to(const std::string& dir, uint64_t id, int max_parallelism,
                            const std::vector<NodeLayout>& nodes,
                            std::vector<SubtaskState>& states);
  // The checkpoint or savepoint in directory `dir` (its id from its manifest); not OK, with the
  // reason, when it is missing, partial or corrupt.
  static Result<LoadedCheckpoint> load_directory(const std::string& dir);
  // The newest complete, intact checkpoint; nullopt when there is none. Each skipped checkpoint
  // adds a line to `warnings`.
  std::optional<LoadedCheckpoint> load_latest(std::vector<std::string>* warnings) const;
  // Keeps the newest `keep` complete checkpoints and deletes the rest, and any directory of an
  // abandoned checkpoint older than the newest complete one.
  void retain(size_t keep) const;
  // Ids of the directories that hold a MANIFEST, ascending.
  std::vector<uint64_t> complete_ids() const;
  std::string path_of(uint64_t id) const;
  BackendFileFigures last_write() const { return last_write_; }

  // Tests: called before each file is written; a non-OK status fails that write like an I/O
  // error would.
  void set_fault_injector(std::function<Status(const std::string& path)> fn) {
    fault_ = std::move(fn);
  }

 private:
  static Result<LoadedCheckpoint> load_at(const std::string& dir, uint64_t id);
  Status write_file(const std::string& path, std::string_view data) const;
  // The directory of the newest complete checkpoint older than `id`; "" when there is none.
  std::string previous_complete(uint64_t id) const;

  std::string dir_;
  std::function<Status(const std::string&)> fault_;
  BackendFileFigures last_write_;
};

}  // namespace sluice::checkpoint
