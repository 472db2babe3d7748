// Options and row types of the joins (see sluice/joins.h for the joins themselves).
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

namespace sluice {

// Figures a join adds up over its subtasks when each ends; the object must outlive the job.
// Updated once per subtask, never on the data path.
struct JoinMetrics {
  // Rows dropped because they arrived after the watermark had passed them (event-time joins).
  std::atomic<int64_t> late_rows{0};
  // Events dropped by a lookup join for want of a table row (Unmatched::kDrop).
  std::atomic<int64_t> unmatched_rows{0};
  // Most rows one subtask held in join state, sampled at each watermark, summed over subtasks.
  std::atomic<int64_t> peak_rows_held{0};
  // Rows still held when the input ended (0 once a bounded stream's final watermark purged all).
  std::atomic<int64_t> rows_held_at_end{0};
};

// Options of the event-time joins (interval_join, window_join).
struct JoinOptions {
  JoinMetrics* metrics = nullptr;
};

// What a lookup join does with an event whose key has no table row.
enum class Unmatched : uint8_t {
  kEmit,  // call fn(event, std::nullopt): a left outer join
  kDrop,  // skip the event and count it in JoinMetrics::unmatched_rows: an inner join
};

struct LookupJoinOptions {
  Unmatched unmatched = Unmatched::kEmit;
  // Hold every event until the table input has ended, then join them against the complete
  // table: for a bounded table (a dimension loaded from a file). Held events use memory.
  bool table_first = false;
  JoinMetrics* metrics = nullptr;
};

struct BroadcastOptions {
  // Hold every event until the rules input has ended (bounded rules; tests and batch jobs).
  bool rules_first = false;
};

// One change of a table, for the table side of a lookup join: the key's new row (upsert), or the
// removal of the key (delete; only the key fields of `row` matter). A table stream of plain rows
// is an upsert-only changelog.
enum class ChangeKind : uint8_t { kUpsert, kDelete };

template <typename V>
struct Change {
  ChangeKind kind = ChangeKind::kUpsert;
  V row{};
};

template <typename V>
Change<V> upsert(V row) {
  return Change<V>{ChangeKind::kUpsert, std::move(row)};
}
// `key_row` carries the key of the row to delete.
template <typename V>
Change<V> deletion(V key_row) {
  return Change<V>{ChangeKind::kDelete, std::move(key_row)};
}

}  // namespace sluice
