// CheckpointStore: where checkpoints are kept — their bytes, not their format. The format
// (manifest, compression, checksums; docs/checkpoints.md) is CheckpointStorage's, written and
// read through this interface, so it is the same wherever checkpoints go.
//
// A checkpoint is a set of named files and a manifest. A writer stores the files, then commits
// the manifest atomically: a checkpoint counts from its commit on and never before, whatever
// instant a crash comes at. A checkpoint is identified by its id within the store; a savepoint
// is a checkpoint written, self-contained, to a location the user names and never retained away.
//
// Backend files (a state backend's own immutable files: RocksDB's SST files, and its small
// metadata files) are stored as they are. A file an earlier checkpoint stored under the same
// name with the same bytes may be reused rather than stored again (incremental checkpoints);
// every checkpoint must stay complete on its own, so deleting an older one (retention) never
// loses a file a newer one names. On a restore the state backend opens backend files from the
// local filesystem: a reader hands each back as a local path.
//
// Implementations:
//   - LocalDirectoryStore (local_directory_store.h): a directory per checkpoint; files written
//     and fsynced, the manifest renamed into place; backend files hard-linked (reused by inode),
//     restored in place.
//   - An object store or a shared filesystem (not built) would put each file as an object under
//     a prefix per checkpoint and commit by putting the manifest last (a store with atomic
//     single-object puts needs nothing more); reuse by a server-side copy or by naming the
//     earlier object in the manifest; list complete checkpoints by their manifests; and on a
//     restore download each backend file into a local staging directory (removed with the job's
//     state), returning that copy's path.
//
// Thread-safety: a writer is used by one thread (the checkpoint writer); complete_ids(), open()
// and retain() may be called from that thread or, before the job runs, from the control thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/status.h"

namespace sluice::checkpoint {

// A file as a checkpoint stores it: its size and the checksum of its stored bytes
// (checksum_of_file).
struct StoredFile {
  uint64_t size = 0;
  uint64_t checksum = 0;
};

// The backend files of the newest complete checkpoint before the one being written, by name,
// as its manifest records them: what the new one may reuse. id 0: none.
struct EarlierFiles {
  uint64_t id = 0;
  std::map<std::string, StoredFile> files;
};

// What a writer did with backend files.
struct BackendFileFigures {
  int files_reused = 0;  // taken from an earlier checkpoint
  int files_copied = 0;  // stored afresh
  uint64_t bytes_copied = 0;
};

// One checkpoint being written. Destroyed without commit(), it leaves no checkpoint behind.
class CheckpointWriter {
 public:
  virtual ~CheckpointWriter() = default;

  // Where the checkpoint goes (a directory of the local store): for messages, and what a
  // savepoint request is answered with (a location open_location() reads).
  virtual const std::string& location() const = 0;
  // Stores `bytes` durably as file `name`.
  virtual Status write_file(const std::string& name, std::string_view bytes) = 0;
  // Stores the backend file at the local path `source` (immutable) as file `name` durably,
  // reusing the earlier checkpoint's file of that name when it holds the same bytes.
  virtual Result<StoredFile> store_backend_file(const std::string& source,
                                                const std::string& name) = 0;
  // Makes the checkpoint count: stores `manifest` atomically, after every file.
  virtual Status commit(std::string_view manifest) = 0;
  virtual BackendFileFigures backend_files() const = 0;
};

// One stored checkpoint, read.
class CheckpointReader {
 public:
  virtual ~CheckpointReader() = default;

  virtual const std::string& location() const = 0;
  // Not found when the checkpoint has no manifest (it was never committed).
  virtual Result<std::string> read_manifest() = 0;
  virtual Result<std::string> read_file(const std::string& name) = 0;
  // Backend file `name` as a path on the local filesystem, ending in "/" + name, that stays
  // readable while the job runs: the stored file itself when the store is local, otherwise a
  // copy in a local staging directory.
  virtual Result<std::string> local_path(const std::string& name) = 0;
};

class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;

  // What the store is (a directory), for messages; "" for a store that keeps no checkpoints
  // and only writes and reads savepoints.
  virtual const std::string& location() const = 0;
  // Makes the store usable (creates the directory).
  virtual Status prepare() = 0;
  // The ids of the committed checkpoints, ascending.
  virtual std::vector<uint64_t> complete_ids() const = 0;
  // Begins checkpoint `id`, replacing whatever an earlier, uncommitted attempt left of it.
  virtual Result<std::unique_ptr<CheckpointWriter>> begin(uint64_t id, EarlierFiles earlier) = 0;
  // Begins a savepoint of checkpoint `id` under `target`, in a new location of its own.
  virtual Result<std::unique_ptr<CheckpointWriter>> begin_savepoint(const std::string& target,
                                                                    uint64_t id,
                                                                    EarlierFiles earlier) = 0;
  virtual Result<std::unique_ptr<CheckpointReader>> open(uint64_t id) const = 0;
  // The checkpoint or savepoint at `location` (what a writer's location() was).
  virtual Result<std::unique_ptr<CheckpointReader>> open_location(
      const std::string& location) const = 0;
  // Keeps the newest `keep` committed checkpoints and deletes the rest, and what uncommitted
  // checkpoints older than the newest committed one left.
  virtual void retain(size_t keep) = 0;
};

// The checksum a manifest records for a backend file: of its whole contents.
Result<uint64_t> checksum_of_file(const std::string& path);

}  // namespace sluice::checkpoint
