// A source that calls a user function for each index: `fn(i)` makes row i, for i in [0, count).
// Subtask s of p makes the indexes i ≡ s (mod p), so the union is the same at every parallelism.
// Its position is a StripedPosition: a checkpoint restores at any parallelism, each index made
// once across the cut. An optional rate limit spreads the rows over wall-clock time (events per
// second over all subtasks).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "sluice/detail/operator.h"
#include "sluice/detail/striped_position.h"

namespace sluice::detail {

template <typename T, typename F>
class GeneratorSource final : public SourceOperator {
 public:
  GeneratorSource(F fn, uint64_t count, double rate)
      : fn_(std::move(fn)), count_(count), rate_(rate) {}

  void open() override {
    position_.start(info_.subtask, info_.parallelism, 0);
    batch_.rows.reserve(info_.batch_size);
  }

  SourceState poll(int64_t now_us) override {
    if (position_.next() >= count_) {
      publish_lag(0);
      return SourceState::kEnd;
    }
    uint64_t want = info_.batch_size;
    uint64_t due = UINT64_MAX;  // rows of this subtask due by now (all, without a rate)
    if (rate_ > 0) {
      if (start_us_ < 0) start_us_ = now_us;
      const double per_subtask = rate_ / static_cast<double>(position_.stride());
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
    rows.resize(std::min<uint64_t>(want, position_.remaining(count_)));
    T* out = rows.data();
    const uint64_t n =
        position_.make_next(count_, rows.size(), [&](uint64_t i) { *out++ = fn_(i); });
    rows.resize(n);  // fewer where the rest of the stripe was made before a restore
    made_ += n;
    publish_lag(std::min(position_.remaining(count_), due - made_));
    if (n > 0) out_->emit(batch_);
    return SourceState::kMore;
  }

  int64_t next_poll_us() const override { return next_poll_us_; }

  // Pacing restarts from the restore: rows made before it are not waited for again.
  bool has_state() const override { return true; }
  void snapshot_state(uint64_t, OperatorSnapshot& out) override {
    position_.snapshot(out, "next index");
  }
  Status restore_state(const OperatorRestore& in) override {
    return position_.restore(in, info_.display());
  }

 private:
  F fn_;
  uint64_t count_;
  double rate_;
  StripedPosition position_;  // checkpointed
  uint64_t made_ = 0;         // rows made since the start or the restore, for pacing
  int64_t start_us_ = -1;
  int64_t next_poll_us_ = 0;
  Batch<T> batch_;
};

}  // namespace sluice::detail
