// Backend files in local checkpoint directories (part of LocalDirectoryStore): the files a state
// backend keeps of its own (RocksDB's SST, MANIFEST, CURRENT and OPTIONS files) are stored as
// they are, uncompressed, under "n<node>-f/<name>" in the checkpoint's directory.
//
// Incremental: an SST file is immutable, so one that the previous complete checkpoint already
// holds is hard-linked from there instead of copied, and its checksum is taken from that
// checkpoint's manifest. "Already holds" means the same name, the same size, and either the same
// inode (the backend's file is a link to the stored one, or the other way round) or, across
// filesystems, the same checksum: after a restore at another parallelism a subtask's database
// may come from another old subtask, whose SST numbers can repeat a name with other rows. Every
// checkpoint directory is thus complete on its own: deleting an older one (retention) only drops a
// link, never a file a retained checkpoint names. A new file is hard-linked from where the backend
// staged it when both are on one filesystem, copied otherwise, and fsynced either way.
//
// Thread-safety: used by the checkpoint writer thread only.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "checkpoint/checkpoint_store.h"
#include "sluice/status.h"

namespace sluice::checkpoint {

class BackendFileStore {
 public:
  // `previous_dir`: the directory of the newest complete checkpoint before this one ("" for
  // none); `previous`: the backend files its manifest names, which may be reused.
  BackendFileStore(std::string previous_dir, std::map<std::string, StoredFile> previous)
      : previous_dir_(std::move(previous_dir)), previous_(std::move(previous)) {}

  // Stores `source` as `target` (a path in the new checkpoint's directory, parents created).
  // `name` is its name in the manifest.
  Result<StoredFile> store(const std::string& source, const std::string& name,
                           const std::string& target);

  int files_reused() const { return reused_; }
  int files_copied() const { return copied_; }
  uint64_t bytes_copied() const { return bytes_copied_; }

 private:
  std::string previous_dir_;
  std::map<std::string, StoredFile> previous_;  // by name in the manifest
  int reused_ = 0;
  int copied_ = 0;
  uint64_t bytes_copied_ = 0;
};

}  // namespace sluice::checkpoint
