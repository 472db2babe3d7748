// Definitions the RocksDB state store's source files share.
#pragma once

#include <string>
#include <string_view>

#include <rocksdb/options.h>

#include "sluice/detail/state_table.h"

namespace sluice::detail {

// Column families of named states are "state:<name>"; the timers of checkpoints have their own.
inline constexpr std::string_view kStatePrefix = "state:";
inline constexpr std::string_view kTimersFamily = "timers";
// A list element: i64 stamp, u32 size, then the element's bytes.
inline constexpr size_t kElementHeader = sizeof(int64_t) + sizeof(uint32_t);

// Writes skip the write-ahead log.
const rocksdb::WriteOptions& write_options();
std::string family_name(std::string_view state);

}  // namespace sluice::detail
