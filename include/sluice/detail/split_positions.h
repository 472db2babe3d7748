// What a split source subtask checkpoints, and which splits each subtask takes at a start or a
// restore.
//
// Each subtask writes its splits — id, position, finished or not — and the split whose turn it
// is into its operator-wide stream. A restore hands every subtask the streams of all old
// subtasks (operator_snapshot.h); take_splits() then decides, from those and from the splits the
// source knows now, which splits this subtask owns. Every subtask decides alone and all decide
// alike, so each split is owned by exactly one subtask and its position is neither lost nor
// duplicated:
//   - at the parallelism of the checkpoint a split stays with the subtask of the same number
//     (it goes on reading in the same order);
//   - at another parallelism the open splits are dealt out in turn over the new subtasks, in the
//     order the source lists them (then the others by id), and the finished ones likewise;
//   - a split the checkpoint does not hold (a file added since, every split at a first start)
//     goes to subtask i mod parallelism, i its index in that order.
//
// Format (one stream per subtask): kFormatTag, the format (uint32, 1), the id of the split read
// next (string, empty: the first), the splits (uint64 count; per split its id, finished flag
// and position bytes). A stream that does not start with the tag is a connector's older format
// (SplitSourceBase::read_legacy_state).
//
// Thread-safety: functions of their arguments.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sluice/detail/source_split.h"
#include "sluice/status.h"

namespace sluice::detail {

struct SubtaskSplits {
  std::vector<SourceSplit> splits;
  std::string cursor;  // the id of the split whose turn it is; empty: the first
};

inline constexpr uint32_t kSplitFormatTag = 0x544c5053;  // "SPLT" in memory (little-endian)
inline constexpr uint32_t kSplitFormat = 1;

void write_subtask_splits(const SubtaskSplits& splits, std::vector<char>& out);
// True when `bytes` starts with kSplitFormatTag.
bool is_split_state(const std::vector<char>& bytes);
// Reads a stream write_subtask_splits() wrote. Not OK, naming the operator `op` and the old
// subtask, when it is malformed or of a later format.
[[nodiscard]] Status read_subtask_splits(const std::vector<char>& bytes, const std::string& op,
                                         int old_subtask, SubtaskSplits& out);

// The splits subtask `subtask` of `parallelism` owns (see the file comment), in the source's
// order. `known`: the split ids the source lists now, in its order (empty for one whose splits
// are only assigned at run time); `restored`: the old subtasks' splits by old subtask (empty at
// a first start). Not OK, naming `op`, when two old subtasks hold the same split.
[[nodiscard]] Result<SubtaskSplits> take_splits(const std::vector<std::string>& known,
                                                const std::vector<SubtaskSplits>& restored,
                                                int subtask, int parallelism,
                                                const std::string& op);

}  // namespace sluice::detail
