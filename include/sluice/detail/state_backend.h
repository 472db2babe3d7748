// StateBackend: what the runtime and the checkpoint layer see of an operator subtask's keyed
// state and timers, whatever stores them.
//
// The per-row path never goes through this interface: state handles are bound to typed tables
// once, in open() (see detail/state_table.h). These calls happen between batches or on the
// control path: snapshots per key group, restores, sizes.
//
// Snapshots are per key group (key_group_of(hash_key(key), max_parallelism)): a subtask restores
// exactly the key groups it owns, so a job can restart with another parallelism.
//
// Thread-safety: called from the task that owns the operator.
#pragma once

#include "sluice/state_serializer.h"
#include "sluice/state_stats.h"
#include "sluice/status.h"

namespace sluice::detail {

class StateBackend {
 public:
  virtual ~StateBackend() = default;
  // Writes the state entries (TTL stamps included, expired entries left out) and timers of every
  // key of `key_group` held by this subtask.
  virtual void snapshot(int key_group, StateWriter& out) const = 0;
  // Adds what snapshot() wrote for one key group. REQUIRES: every state in the snapshot has been
  // created (the operator is open). Not OK when the bytes are malformed or name unknown state.
  virtual Status restore(int key_group, StateReader& in) = 0;
  virtual OperatorStateStats stats() const = 0;
};

}  // namespace sluice::detail
