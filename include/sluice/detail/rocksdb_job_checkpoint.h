// RocksDB state in the job's checkpoints: a keyed operator subtask on the RocksDB backend
// contributes its database as files (OperatorSnapshot::files) instead of byte streams.
//
// At the cut the subtask stages a native RocksDB checkpoint (a flush and hard links, see
// RocksDbStore::stage_checkpoint) under its staging directory and lists the files as
// "s<subtask>/<file>"; the checkpoint writer stores them on its thread, hard-linking an SST file
// an earlier checkpoint already holds instead of copying it again. Once a checkpoint is complete
// the staged copies of it and of earlier ones are removed.
//
// On a restore a subtask receives the files of every old subtask, grouped by "s<k>". It opens
// the checkpoint of the old subtask whose key groups overlap its own the most, drops the key
// groups it does not own with DeleteRange, and copies in the rows of its key groups from the
// checkpoints of the other old subtasks that held some (when subtasks merge at a lower
// parallelism).
//
// Thread-safety: called from the task that owns the store.
#pragma once

#include <cstdint>
#include <vector>

#include "sluice/detail/operator_snapshot.h"
#include "sluice/detail/rocksdb_store.h"

namespace sluice::detail {

// Stages checkpoint `id` of `store` (with `timers`) and lists its files in `out.files`.
Status snapshot_rocksdb_files(RocksDbStore& store, uint64_t id, int subtask,
                              const std::vector<StoredTimer>& timers, OperatorSnapshot& out);
// Removes the staged checkpoints up to `id` (stored, or abandoned).
void release_staged_rocksdb(RocksDbStore& store, uint64_t id);
// Restores subtask `subtask` of `parallelism` from `in.files`; the timers are handed back.
Status restore_rocksdb_files(RocksDbStore& store, const OperatorRestore& in, int subtask,
                             int parallelism, std::vector<StoredTimer>* timers);

}  // namespace sluice::detail
