// CheckpointStorage: checkpoints in format version 1 (docs/checkpoints.md), kept in a
// CheckpointStore (checkpoint_store.h: a local directory today).
//
// Writing compresses (zstd) each state file and hands it to the store, stores backend files
// through it (reusing those the newest complete checkpoint before holds), then commits the
// manifest: a checkpoint without a committed manifest never counts. Loading walks the
// checkpoints from the newest, verifies the manifest's own checksum and every file's size and
// checksum, and skips a corrupt or partial one for the previous complete one, with a warning
// naming it and the reason. Nothing here assumes where or how the store keeps the bytes.
//
// Thread-safety: one writer thread; loads before the job starts.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "checkpoint/checkpoint_store.h"
#include "runtime/checkpoint_state.h"
#include "sluice/status.h"

namespace sluice::checkpoint {

// Version 2 files each operator under its stable id (a `uid` line per node); version 1
// checkpoints, without ids, still load and restore by node index.
inline constexpr int kFormatVersion = 2;
inline constexpr int kOldestFormatVersion = 1;

// The runtime's words for what a checkpoint holds (runtime/checkpoint_state.h).
using runtime::LoadedCheckpoint;
using runtime::NodeLayout;
using runtime::NodeState;
using runtime::SubtaskState;

// A checkpoint or savepoint written: where, and the bytes stored (of backend files, those
// stored afresh), manifest included.
struct WrittenCheckpoint {
  std::string location;
  uint64_t bytes = 0;
};

class CheckpointStorage {
 public:
  explicit CheckpointStorage(std::unique_ptr<CheckpointStore> store) : store_(std::move(store)) {}

  CheckpointStore& store() { return *store_; }
  // Makes the store usable (creates the directory).
  Status prepare() { return store_->prepare(); }
  // Writes checkpoint `id` and commits its manifest. On failure nothing of it is left.
  Result<WrittenCheckpoint> write(uint64_t id, int max_parallelism,
                                  const std::vector<NodeLayout>& nodes,
                                  std::vector<SubtaskState>& states);
  // The same as a savepoint under `target`: self-contained, never retained away.
  Result<WrittenCheckpoint> write_savepoint(const std::string& target, uint64_t id,
                                            int max_parallelism,
                                            const std::vector<NodeLayout>& nodes,
                                            std::vector<SubtaskState>& states);
  // The checkpoint or savepoint at `location` (its id from its manifest); not OK, with the
  // reason, when it is missing, partial or corrupt.
  Result<LoadedCheckpoint> load_location(const std::string& location) const;
  // The newest complete, intact checkpoint; nullopt when there is none. Each skipped checkpoint
  // adds a line to `warnings`.
  std::optional<LoadedCheckpoint> load_latest(std::vector<std::string>* warnings) const;
  // Keeps the newest `keep` complete checkpoints (CheckpointStore::retain).
  void retain(size_t keep) { store_->retain(keep); }
  // Ids of the complete checkpoints, ascending.
  std::vector<uint64_t> complete_ids() const { return store_->complete_ids(); }
  BackendFileFigures last_write() const { return last_write_; }

 private:
  Result<WrittenCheckpoint> write_to(CheckpointWriter& writer, uint64_t id, int max_parallelism,
                                     const std::vector<NodeLayout>& nodes,
                                     std::vector<SubtaskState>& states);
  static Result<LoadedCheckpoint> load_at(CheckpointReader& reader, uint64_t id);
  // The backend files of the newest complete checkpoint older than `id`, which checkpoint `id`
  // may reuse; none when there is none.
  EarlierFiles earlier_files(uint64_t id) const;

  std::unique_ptr<CheckpointStore> store_;
  BackendFileFigures last_write_;
};

}  // namespace sluice::checkpoint
