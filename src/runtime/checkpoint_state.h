// What a checkpoint holds, in the runtime's words: what tasks hand in (each stateful operator
// subtask's snapshot) and what a restore hands back (per operator: the subtasks' operator-wide
// streams, the key groups, the sources' readable positions, the backend files as local paths).
//
// The runtime speaks only these types to checkpointing (checkpoint_control.h,
// checkpoint_service.h); how they are laid out on disk or elsewhere is the checkpoint layer's
// business (src/checkpoint, docs/checkpoints.md).
//
// Thread-safety: plain values; a SubtaskState is filled on its task's thread and then owned by
// whoever it was handed to.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sluice/detail/operator_snapshot.h"

namespace sluice::runtime {

// One operator (node of the logical graph) as the checkpoint records it.
struct NodeLayout {
  int node = 0;
  std::string name;
  int parallelism = 1;
  // Stable id (operator_ids.h) that a restore matches operators by; empty: the name.
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
  std::string uid;  // its stable id; empty in a checkpoint without ids
  int parallelism = 1;
  std::vector<std::vector<char>> operator_states;  // by subtask
  std::map<int, std::vector<char>> key_groups;
  std::vector<std::string> offsets;  // by subtask, readable
  // Backend files as paths on the local filesystem, each ending in its name in the checkpoint
  // ("…/s<subtask>/<file>"): in the checkpoint itself, or a local copy of it.
  std::vector<std::string> files;
};

// A complete checkpoint or savepoint, loaded and verified.
struct LoadedCheckpoint {
  // False for a checkpoint written before operators had stable ids (format 1): it restores by
  // node index into a job with the same operators in the same order.
  bool has_operator_ids = true;
  uint64_t id = 0;
  std::string dir;  // where it is kept (a directory for local storage), for messages
  int max_parallelism = 128;
  std::map<int, NodeState> nodes;
};

}  // namespace sluice::runtime
