// The position of a striped source, one that hands out the indexes of a range [first, end) by
// stripes: subtask s of p makes the indexes i ≡ s (mod p), in ascending order. At one parallelism
// a subtask's next index is all it has to remember. After a restore at another parallelism the
// indexes made before are { i : i < next[i mod p] } over the old subtasks' next indexes: a ragged
// edge, not one position per new subtask.
//
// A StripedPosition keeps that edge as a list of layers. A layer is what one earlier run had made:
// its subtasks' next indexes by subtask, `next`, covering the indexes i < next[i mod next.size()].
// The subtask makes the indexes of its own stripe that no layer covers, and writes the layers it
// has not passed yet into every checkpoint along with its next index. A restore turns the old
// subtasks' next indexes into one more layer and keeps every old subtask's layers, so rescales
// that follow each other before the ragged region is passed (p -> p' -> p'') still make every
// index exactly once. The layers cost nothing once the subtask is past them: the loop that makes
// rows compares with one ceiling and looks at the layers only below it.
//
// Shared by the generator (detail/generator_source.h) and the Nexmark source.
//
// State (operator-wide, one stream per subtask), format 1: kFormatTag, the format (uint32), the
// next index (uint64), the layers (vector of vectors of uint64). Format 0 is a bare uint64 next
// index, what these sources wrote before; it restores at any parallelism too.
//
// Thread-safety: none; a subtask's position lives on its task's thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "sluice/detail/operator_snapshot.h"
#include "sluice/status.h"

namespace sluice::detail {

class StripedPosition {
 public:
  static constexpr uint32_t kFormatTag = 0x534f5053;  // "SPOS" in memory (little-endian)
  static constexpr uint32_t kFormat = 1;

  // Subtask `subtask` of `parallelism`, at the first index of its stripe at or after `first`,
  // nothing made before.
  void start(int subtask, int parallelism, uint64_t first);

  // Takes up what the old subtasks of `in` had made, at any old parallelism: the subtask goes on
  // at the first index of its stripe that none of them made. REQUIRES: start() was called.
  // Not OK, naming the operator `op`, when a stream is missing, malformed or of a later format.
  [[nodiscard]] Status restore(const OperatorRestore& in, const std::string& op);

  // Writes the position (the format above) and, for the manifest, `what` and the next index.
  void snapshot(OperatorSnapshot& out, std::string_view what) const;

  // The next index this subtask makes (never one made before); >= end once it is done.
  uint64_t next() const { return next_; }
  uint64_t stride() const { return stride_; }
  // Indexes of the stripe in [next(), end): those still to make, plus any made before that lie
  // above next() (only while the subtask is in the ragged region).
  uint64_t remaining(uint64_t end) const {
    return next_ < end ? (end - next_ - 1) / stride_ + 1 : 0;
  }

  // Calls `make(i)` for the next indexes this subtask has to make, in ascending order, below
  // `end`: at most `limit` of them, or until `make` returns false (a `make` returning void goes
  // on). Returns how many it made.
  template <typename Make>
  uint64_t make_next(uint64_t end, uint64_t limit, Make&& make);

 private:
  struct Layer {
    std::vector<uint64_t> next;  // by old subtask: i is made if i < next[i mod next.size()]
    uint64_t ceiling = 0;        // no index of this stripe at or above it is made in this layer
  };

  // The first index of this stripe at or after `i` that no layer covers.
  uint64_t skip_made(uint64_t i) const;
  bool made(uint64_t i) const;
  // The first index of this stripe at or after `i` (saturating).
  uint64_t stripe_at_or_after(uint64_t i) const;
  // Makes `layers` (every layer of the restored runs) the subtask's, and moves to its first index
  // not made.
  void adopt(std::vector<std::vector<uint64_t>> layers);

  uint64_t subtask_ = 0;
  uint64_t stride_ = 1;
  uint64_t first_ = 0;
  // Checkpointed:
  uint64_t next_ = 0;          // never an index a layer covers
  std::vector<Layer> layers_;  // only those with indexes of this stripe at or above next_
  // Not checkpointed:
  uint64_t ceiling_ = 0;  // the highest layer ceiling; 0 without layers
};

template <typename Make>
uint64_t StripedPosition::make_next(uint64_t end, uint64_t limit, Make&& make) {
  const uint64_t stride = stride_;
  const uint64_t ceiling = ceiling_;
  uint64_t i = next_;
  uint64_t made_now = 0;
  while (made_now < limit && i < end) {
    ++made_now;
    bool more = true;
    if constexpr (std::is_void_v<decltype(make(i))>) {
      make(i);
    } else {
      more = make(i);
    }
    i += stride;
    if (i < ceiling) [[unlikely]]
      i = skip_made(i);
    if (!more) break;
  }
  next_ = i;
  return made_now;
}

}  // namespace sluice::detail
