// JobCheckpointing: the checkpoint layer's implementation of the runtime's CheckpointService
// (runtime/checkpoint_service.h). Environment::execute hands one to the job runner.
//
// It opens the job's checkpoint store (the option `checkpoint.dir`; a LocalDirectoryStore unless
// a test or another deployment supplies a factory), finds where each attempt starts (the latest
// complete checkpoint, or `savepoint.path` on the first attempt unless a restart finds a newer
// checkpoint), and starts a CheckpointCoordinator per attempt, writing to that store.
//
// Thread-safety: as CheckpointService (the job runner's control thread).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "checkpoint/checkpoint_store.h"
#include "runtime/checkpoint_service.h"

namespace sluice::checkpoint {

class JobCheckpointing final : public runtime::CheckpointService {
 public:
  // The store that keeps the checkpoints of `location` (the option `checkpoint.dir`, possibly
  // empty: a job that takes savepoints only) and reads savepoints.
  using StoreFactory = std::function<std::unique_ptr<CheckpointStore>(const std::string& location)>;

  JobCheckpointing();  // local directories
  explicit JobCheckpointing(StoreFactory open_store) : open_store_(std::move(open_store)) {}

  Result<runtime::StartingPoint> starting_point(const JobOptions& options, int attempt) override;
  std::unique_ptr<runtime::CheckpointControl> start(const JobOptions& options,
                                                    std::vector<runtime::NodeLayout> nodes,
                                                    int tasks, uint64_t first_id) override;

 private:
  StoreFactory open_store_;
};

}  // namespace sluice::checkpoint
