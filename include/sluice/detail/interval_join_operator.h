// IntervalJoinOperator: the C++ API's interval join (see sluice/joins.h), driving an
// IntervalJoinState with typed batches. Input 0 is the left stream, input 1 the right; both are
// hash-partitioned by key, so a subtask sees every row of the keys it owns.
//
// Thread-safety: one task drives an instance.
#pragma once

#include <algorithm>
#include <type_traits>
#include <vector>

#include "sluice/detail/interval_join_state.h"
#include "sluice/detail/join_common.h"
#include "sluice/detail/operator.h"
#include "sluice/detail/operators.h"

namespace sluice::detail {

template <typename L, typename R, typename Out, typename KeyL, typename KeyR, typename F>
class IntervalJoinOperator final : public Operator {
 public:
  using Key = std::decay_t<std::invoke_result_t<KeyL, const L&>>;
  using State = IntervalJoinState<Key, L, R>;

  IntervalJoinOperator(KeyL key_l, KeyR key_r, Duration lower, Duration upper, F fn,
                       JoinMetrics* metrics)
      : key_l_(std::move(key_l)),
        key_r_(std::move(key_r)),
        fn_(std::move(fn)),
        metrics_(metrics),
        state_(lower, upper) {}

  void open() override { output_.reset(out_, info_.batch_size); }

  void process(int input, BatchBase& batch) override {
    auto emit = [this](const L& l, const R& r, int64_t time) {
      output_.emit_with_time(time, fn_(l, r));
    };
    if (input == 0) {
      const auto& b = batch_cast<L>(batch);
      require_times(b, "interval_join", "left");
      const size_t n = b.rows.size();
      const uint64_t* hashes = key_hashes(b, key_l_, hashes_);
      for (size_t i = 0; i < n; ++i) {
        if (i + kPrefetchDistance < n) {
          state_.prefetch(Prehashed<Key>{nullptr, hashes[i + kPrefetchDistance]});
        }
        const Key& key = key_l_(b.rows[i]);
        state_.add_left(Prehashed<Key>{&key, hashes[i]}, b.times[i], b.rows[i], emit);
      }
    } else {
      const auto& b = batch_cast<R>(batch);
      require_times(b, "interval_join", "right");
      const size_t n = b.rows.size();
      const uint64_t* hashes = key_hashes(b, key_r_, hashes_);
      for (size_t i = 0; i < n; ++i) {
        if (i + kPrefetchDistance < n) {
          state_.prefetch(Prehashed<Key>{nullptr, hashes[i + kPrefetchDistance]});
        }
        const Key& key = key_r_(b.rows[i]);
        state_.add_right(Prehashed<Key>{&key, hashes[i]}, b.times[i], b.rows[i], emit);
      }
    }
    output_.flush();
  }

  void on_watermark(Timestamp watermark) override {
    peak_rows_ = std::max(peak_rows_, state_.rows_held());
    state_.advance_watermark(watermark);
    Operator::on_watermark(watermark);
  }

  void on_end() override {
    output_.flush();
    report_metrics(metrics_, state_.late_rows(), 0, peak_rows_, state_.rows_held());
    end_outputs();
  }

  bool has_state() const override { return true; }
  void snapshot_state(uint64_t, OperatorSnapshot& out) override {
    snapshot_join(state_, info_, out);
  }
  Status restore_state(const OperatorRestore& in) override {
    return restore_join<typename State::Entry>(state_, info_, in);
  }

  // The join state, for snapshots and tests.
  const State& state() const { return state_; }
  State& state() { return state_; }

  bool state_size(int64_t* keys, int64_t* bytes) const override {
    return join_state_size(state_.keys_held(), state_.rows_held(), sizeof(L) + sizeof(R), keys,
                           bytes);
  }

 private:
  KeyL key_l_;
  KeyR key_r_;
  F fn_;
  JoinMetrics* metrics_;  // not owned; may be null
  State state_;
  JoinOutput<Out> output_;
  int64_t peak_rows_ = 0;
  std::vector<uint64_t> hashes_;  // per row of the current batch, when it came without
};

}  // namespace sluice::detail
