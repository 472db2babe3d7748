// Helpers of the keyed state tests: a temporary directory and a backend of either kind.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "checkpoint/test_dir.h"
#include "sluice/detail/in_memory_state_backend.h"
#include "sluice/detail/rocksdb_state_backend.h"
#include "sluice/options.h"

namespace sluice {

using testing::TempDir;

inline std::string backend_name(StateBackendKind kind) {
  return kind == StateBackendKind::kRocksDb ? "RocksDb" : "Memory";
}

// A backend of `kind`; a RocksDB one works in a new directory under `dir`.
template <typename K>
std::unique_ptr<detail::KeyedStateBackend<K>> make_test_backend(StateBackendKind kind,
                                                                const std::string& dir,
                                                                int max_parallelism) {
  if (kind == StateBackendKind::kMemory) {
    return std::make_unique<detail::InMemoryStateBackend<K>>(max_parallelism);
  }
  auto b = detail::RocksDbStateBackend<K>::open(detail::subtask_state_dir(dir, "test", 0),
                                                max_parallelism);
  if (!b) throw std::runtime_error(b.status().message());
  return std::move(*b);
}

}  // namespace sluice
