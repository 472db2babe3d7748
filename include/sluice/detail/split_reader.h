// SplitReader<T>: reads one split of a source into the rows of a batch.
//
// A split source (split_source.h) opens a reader when a split first gets its turn and asks it for
// rows once per turn: one virtual call fills up to a batch, and the reader's per-row loop (a
// line parsed, a message decoded) is its own, inlined. Between polls every row a reader returned
// has been emitted, so position() is then where the split resumes after a checkpoint, a
// revocation or a restore.
//
// Thread-safety: one reader belongs to one source subtask and is used on its task's thread.
#pragma once

#include <cstddef>
#include <vector>

#include "sluice/detail/batch.h"
#include "sluice/detail/source_split.h"

namespace sluice::detail {

template <typename T>
class SplitReader {
 public:
  virtual ~SplitReader() = default;

  // Stores rows at rows[used], rows[used + 1]… (overwriting what an earlier batch left there, or
  // appending), advancing `used`, until `used == limit`, the split has nothing now or ends, or
  // the reader's own bound of work per call is reached (kMore with `used < limit`). May throw:
  // the source's operator fails with the message.
  virtual SplitStatus read(RowVector<T>& rows, size_t& used, size_t limit) = 0;

  // The position after the last row read (SourceSplit::position's bytes).
  virtual void position(std::vector<char>& out) const = 0;
};

}  // namespace sluice::detail
