#include "checkpoint/job_checkpointing.h"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "checkpoint/checkpoint_coordinator.h"
#include "checkpoint/checkpoint_storage.h"
#include "checkpoint/local_directory_store.h"

namespace sluice::checkpoint {

JobCheckpointing::JobCheckpointing()
    : open_store_(
          [](const std::string& dir) { return std::make_unique<LocalDirectoryStore>(dir); }) {}

Result<runtime::StartingPoint> JobCheckpointing::starting_point(const JobOptions& options,
                                                                int attempt) {
  runtime::StartingPoint start;
  std::optional<LoadedCheckpoint>& latest = start.checkpoint;
  CheckpointStorage storage(open_store_(options.checkpoint_dir));
  if (!options.checkpoint_dir.empty()) {
    SLUICE_RETURN_IF_ERROR(storage.prepare());
    std::vector<std::string> warnings;
    latest = storage.load_latest(&warnings);
    for (const std::string& w : warnings) std::fprintf(stderr, "sluice: warning: %s\n", w.c_str());
    // Ids go on from the newest complete one, so sinks never see an id twice.
    const std::vector<uint64_t> ids = storage.complete_ids();
    if (!ids.empty()) start.first_id = ids.back() + 1;
  }
  if (options.savepoint_path.empty() || (attempt > 0 && latest)) return start;
  Result<LoadedCheckpoint> savepoint = storage.load_location(options.savepoint_path);
  if (!savepoint) {
    return Status::invalid_argument(
        fmt::format("job option 'savepoint.path': '{}' is not a usable savepoint ({}); expected "
                    "a directory a savepoint request returned",
                    options.savepoint_path, savepoint.status().message()));
  }
  start.first_id = std::max(start.first_id, savepoint->id + 1);
  start.checkpoint = std::move(*savepoint);
  return start;
}

std::unique_ptr<runtime::CheckpointControl> JobCheckpointing::start(
    const JobOptions& options, std::vector<runtime::NodeLayout> nodes, int tasks,
    uint64_t first_id) {
  CheckpointConfig config{options.checkpoint_interval_us, options.checkpoint_dir,
                          static_cast<size_t>(options.checkpoint_retain),
                          options.checkpoint_timeout_us};
  return std::make_unique<CheckpointCoordinator>(config, options.max_parallelism, std::move(nodes),
                                                 tasks, first_id,
                                                 open_store_(options.checkpoint_dir));
}

}  // namespace sluice::checkpoint
