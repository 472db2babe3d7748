// CheckpointService: how the job runner reaches checkpointing without knowing how it is done.
//
// The runtime sits below the checkpoint layer: it defines what it needs (this factory, and
// CheckpointControl for one run) and the layer above hands it an implementation, as it hands it
// a JobObserver (job_observer.h). Environment::execute passes the checkpoint layer's
// (checkpoint::JobCheckpointing: a coordinator writing to checkpoint storage); a job runner
// without a service runs without checkpoints and savepoints.
//
// Per attempt of a job, the runner asks where to start (the checkpoint or savepoint to restore,
// and the first id of this attempt's checkpoints), then starts the attempt's coordination.
//
// Thread-safety: called from the job runner's control thread, one attempt at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "runtime/checkpoint_control.h"
#include "runtime/checkpoint_state.h"
#include "sluice/options.h"
#include "sluice/status.h"

namespace sluice::runtime {

// Where an attempt starts.
struct StartingPoint {
  std::optional<LoadedCheckpoint> checkpoint;  // nullopt: from the beginning
  uint64_t first_id = 1;                       // of the attempt's checkpoints
};

class CheckpointService {
 public:
  virtual ~CheckpointService() = default;

  // The checkpoint or savepoint attempt `attempt` (0: the first) of a job with `options` resumes
  // from: the first attempt prefers `savepoint_path`, a restart a newer checkpoint. Not OK when
  // the options name a savepoint that cannot be used or storage that cannot be prepared; a
  // corrupt checkpoint is skipped for an older one, with a warning.
  virtual Result<StartingPoint> starting_point(const JobOptions& options, int attempt) = 0;

  // The checkpoint coordination of one attempt: `nodes` are the job's operators, `tasks` the
  // number of tasks that acknowledge every checkpoint; ids start at `first_id`. Runs in every
  // job (savepoints), with or without `options.checkpoint_dir`.
  virtual std::unique_ptr<CheckpointControl> start(const JobOptions& options,
                                                   std::vector<NodeLayout> nodes, int tasks,
                                                   uint64_t first_id) = 0;
};

}  // namespace sluice::runtime
