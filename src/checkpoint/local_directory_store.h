// LocalDirectoryStore: checkpoints as directories on a local filesystem (the layout of
// docs/checkpoints.md, "On disk").
//
// Checkpoint `id` is the directory `<dir>/chk-<id, 20 digits>`; a savepoint is
// `<target>/savepoint-<id>` (with a suffix when that name is taken). Every file is written and
// fsynced; the manifest is written as `MANIFEST.tmp`, fsynced, renamed to `MANIFEST`, and the
// directory and its parent are fsynced: a directory without a MANIFEST never counts. A write that
// is abandoned removes its directory.
//
// Backend files go through BackendFileStore (backend_files.h): an SST file the earlier
// checkpoint holds is hard-linked from it, a new file hard-linked from where the backend staged
// it or copied. On a restore they are read in place: local_path() is the stored file itself.
// Hard links and inodes are this implementation's business alone.
//
// A store with an empty `dir` keeps no checkpoints (a job without `checkpoint.dir`): it lists
// none and only writes and reads savepoints.
//
// Thread-safety: as CheckpointStore. A write-failure hook lets tests inject the errors of a full
// disk; set it before writing.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "checkpoint/checkpoint_store.h"

namespace sluice::checkpoint {

class LocalDirectoryStore final : public CheckpointStore {
 public:
  explicit LocalDirectoryStore(std::string dir) : dir_(std::move(dir)) {}

  const std::string& location() const override { return dir_; }
  Status prepare() override;
  std::vector<uint64_t> complete_ids() const override;
  Result<std::unique_ptr<CheckpointWriter>> begin(uint64_t id, EarlierFiles earlier) override;
  Result<std::unique_ptr<CheckpointWriter>> begin_savepoint(const std::string& target, uint64_t id,
                                                            EarlierFiles earlier) override;
  Result<std::unique_ptr<CheckpointReader>> open(uint64_t id) const override;
  Result<std::unique_ptr<CheckpointReader>> open_location(
      const std::string& location) const override;
  void retain(size_t keep) override;

  // The directory of checkpoint `id`.
  std::string path_of(uint64_t id) const;

  // Tests: called before each file is written (state files, backend files, the manifest); a
  // non-OK status fails that write like an I/O error would.
  void set_fault_injector(std::function<Status(const std::string& path)> fn) {
    fault_ = std::move(fn);
  }

 private:
  // A writer into directory `dir` (emptied first).
  Result<std::unique_ptr<CheckpointWriter>> begin_at(const std::string& dir,
                                                     EarlierFiles earlier) const;

  std::string dir_;
  std::function<Status(const std::string&)> fault_;
};

}  // namespace sluice::checkpoint
