// Batches: the unit that crosses every boundary in Sluice.
//
// Operators, channels and exchanges move whole batches; per-record work happens in tight loops
// inside typed operators. The runtime sees BatchBase only; typed operators cast to Batch<T>, the
// type fixed when the graph was built, so the cast is static. Batches are recycled through their
// channels: a consumer hands an emptied batch back to its producer, so a job in steady state
// allocates no batches at all.
//
// Thread-safety: a batch belongs to one task at a time; ownership moves with the channel.
#pragma once

#include <cstddef>
#include <vector>

namespace sluice::detail {

class BatchBase {
 public:
  virtual ~BatchBase() = default;
  virtual size_t size() const = 0;
  virtual void clear() = 0;
};

template <typename T>
class Batch final : public BatchBase {
 public:
  size_t size() const override { return rows.size(); }
  void clear() override { rows.clear(); }

  std::vector<T> rows;
};

template <typename T>
Batch<T>& batch_cast(BatchBase& batch) {
  return static_cast<Batch<T>&>(batch);
}

}  // namespace sluice::detail
