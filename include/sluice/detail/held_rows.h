// HeldRows: rows (and their event times) an operator keeps back until a condition holds, e.g. a
// lookup join's events until its table input has ended. Releasing them replays the kept batches'
// rows in arrival order.
//
// Thread-safety: none (owned by one operator instance).
#pragma once

#include "sluice/detail/batch.h"

namespace sluice::detail {

template <typename T>
class HeldRows {
 public:
  void add(const Batch<T>& batch) {
    batch_.rows.insert(batch_.rows.end(), batch.rows.begin(), batch.rows.end());
    if (batch.has_times()) {
      batch_.times.insert(batch_.times.end(), batch.times.begin(), batch.times.end());
    }
  }
  bool empty() const { return batch_.rows.empty(); }
  size_t size() const { return batch_.rows.size(); }
  // The held rows as one batch; the caller processes it, then calls clear().
  Batch<T>& batch() { return batch_; }
  void clear() {
    batch_.clear();
    batch_.rows.shrink_to_fit();
    batch_.times.shrink_to_fit();
  }

 private:
  Batch<T> batch_;
};

}  // namespace sluice::detail
