// A split: a part of a source's input that one source subtask reads in order, from a position
// it can be resumed at — a file, a Kafka partition, a Kinesis shard.
//
// A split has a stable id (a file's path, "topic/3"): the same across runs, restores and
// parallelisms, so a checkpoint keys each split's position by it and a restore at another
// parallelism hands every split to exactly one new subtask (split_positions.h). The position is
// opaque bytes that only the source's reader understands (a file's byte offset and line number,
// a partition's next offset); empty means the split's start. A bounded split read to its end
// stays known as finished, so a restore does not read it again.
//
// Thread-safety: a value type.
#pragma once

#include <string>
#include <vector>

namespace sluice::detail {

struct SourceSplit {
  std::string id;
  std::vector<char> position;  // where reading goes on; empty: at the start
  bool finished = false;       // read to its end (bounded splits only)
};

// What one SplitReader::read achieved.
enum class SplitStatus {
  kMore,        // stopped at the batch's limit or its own bound of work: call again
  kNothingNow,  // nothing to read now (an empty partition, a pipe without a line); try later
  kEnd,         // read to its end: the split is finished
};

}  // namespace sluice::detail
