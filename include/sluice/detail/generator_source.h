// A source that calls a user function for each index: `fn(i)` makes row i, for i in [0, count).
// Subtask s of p makes the indexes i ≡ s (mod p), so the union is the same at every parallelism
// and a subtask's position (its next index) is all a checkpoint needs. An optional rate limit
// spreads the rows over wall-clock time (events per second over all subtasks).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "sluice/detail/operator.h"

namespace sluice::detail {

template <typename T, typename F>
class GeneratorSource final : public SourceOperator {
 public:
  GeneratorSource(F fn, uint64_t count, double rate)
      : fn_(std::move(fn)), count_(count), rate_(rate) {}

  void open() override {
    next_ = static_cast<uint64_t>(info_.subtask);
    stride_ = static_cast<uint64_t>(info_.parallelism);
    batch_.rows.reserve(info_.batch_size);
  }

  SourceState poll(int64_t now_us) override {
    if (next_ >= count_) {
      publish_lag(0);
      return SourceState::kEnd;
    }
    uint64_t want = info_.batch_size;
    uint64_t due = UINT64_MAX;  // rows of this subtask due by now (all, without a rate)
    if (rate_ > 0) {
      if (start_us_ < 0) start_us_ = now_us;
      const double per_subtask = rate_ / static_cast<double>(stride_);
      due = static_cast<uint64_t>(static_cast<double>(now_us - start_us_) * per_subtask / 1e6) + 1;
      if (due <= made_) {
        publish_lag(0);
        next_poll_us_ =
            start_us_ + static_cast<int64_t>(static_cast<double>(made_) * 1e6 / per_subtask);
        return SourceState::kIdle;
      }
      want = std::min<uint64_t>(want, due - made_);
    }
    auto& rows = batch_.rows;
    batch_.clear();  // a downstream operator may have left rows or times in it
    const uint64_t remaining = (count_ - next_ - 1) / stride_ + 1;  // next_ < count_
    const uint64_t n = std::min<uint64_t>(want, remaining);
    rows.resize(n);
    T* out = rows.data();
    uint64_t i = next_;
    for (uint64_t k = 0; k < n; ++k, i += stride_) out[k] = fn_(i);
    next_ = i;
    made_ += n;
    publish_lag(std::min(remaining - n, due - made_));
    out_->emit(batch_);
    return SourceState::kMore;
  }

  int64_t next_poll_us() const override { return next_poll_us_; }

  // The position is the next index; a restore resumes there (pacing restarts from the restore).
  bool has_state() const override { return true; }
  void snapshot_state(uint64_t, OperatorSnapshot& out) override {
    StateWriter(&out.operator_state).write(next_);
    out.offsets = "next index " + std::to_string(next_);
  }
  Status restore_state(const OperatorRestore& in) override {
    return read_own_state(in, info_.subtask, info_.parallelism, info_.display(),
                          [&](StateReader& r) { r.read(next_); });
  }

 private:
  F fn_;
  uint64_t count_;
  double rate_;
  uint64_t next_ = 0;  // checkpointed
  uint64_t stride_ = 1;
  uint64_t made_ = 0;
  int64_t start_us_ = -1;
  int64_t next_poll_us_ = 0;
  Batch<T> batch_;
};

}  // namespace sluice::detail
