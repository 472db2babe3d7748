// WindowJoinOperator: the C++ API's tumbling-window join (see sluice/joins.h), driving a
// WindowJoinState with typed batches. Input 0 is the left stream, input 1 the right; windows fire
// between batches, when a watermark closes them.
//
// Thread-safety: one task drives an instance.
#pragma once

#include <algorithm>
#include <type_traits>
#include <vector>

#include "sluice/detail/join_common.h"
#include "sluice/detail/operator.h"
#include "sluice/detail/window_join_state.h"

namespace sluice::detail {

template <typename L, typename R, typename Out, typename KeyL, typename KeyR, typename F>
class WindowJoinOperator final : public Operator {
 public:
  using Key = std::decay_t<std::invoke_result_t<KeyL, const L&>>;
  using State = WindowJoinState<Key, L, R>;

  WindowJoinOperator(KeyL key_l, KeyR key_r, Duration size, Duration offset, F fn,
                     JoinMetrics* metrics)
      : key_l_(std::move(key_l)),
        key_r_(std::move(key_r)),
        fn_(std::move(fn)),
        metrics_(metrics),
        state_(size, offset) {}

  void open() override { output_.reset(out_, info_.batch_size); }

  void process(int input, BatchBase& batch) override {
    if (input == 0) {
      const auto& b = batch_cast<L>(batch);
      require_times(b, "window_join", "left");
      const uint64_t* hashes = key_hashes(b, key_l_, hashes_);
      for (size_t i = 0; i < b.rows.size(); ++i) {
        state_.add_left(key_l_(b.rows[i]), hashes[i], b.times[i], b.rows[i]);
      }
    } else {
      const auto& b = batch_cast<R>(batch);
      require_times(b, "window_join", "right");
      const uint64_t* hashes = key_hashes(b, key_r_, hashes_);
      for (size_t i = 0; i < b.rows.size(); ++i) {
        state_.add_right(key_r_(b.rows[i]), hashes[i], b.times[i], b.rows[i]);
      }
    }
  }

  void on_watermark(Timestamp watermark) override {
    peak_rows_ = std::max(peak_rows_, state_.rows_held());
    state_.advance_watermark(watermark, [this](const L& l, const R& r, int64_t time) {
      output_.emit_with_time(time, fn_(l, r));
    });
    output_.flush();  // the fired rows precede the watermark that fired them
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

  const State& state() const { return state_; }
  State& state() { return state_; }

  bool state_size(int64_t* keys, int64_t* bytes) const override {
    return join_state_size(state_.windows_held(), state_.rows_held(), sizeof(L) + sizeof(R), keys,
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
