// Helpers of the window tests: outputs that record what an operator emits, and a driver that
// runs a window operator over a scripted sequence of batches and watermarks.
#pragma once

#include <cstdint>
#include <ostream>
#include <tuple>
#include <vector>

#include "sluice/detail/operator.h"
#include "sluice/detail/window_operator.h"
#include "sluice/window.h"

namespace sluice::testing {

struct Event {
  uint64_t key;
  int64_t time;
  int64_t value;
  auto operator<=>(const Event&) const = default;
  bool operator==(const Event&) const = default;
};
inline std::ostream& operator<<(std::ostream& os, const Event& e) {
  return os << "{k" << e.key << " t" << e.time << " v" << e.value << "}";
}

struct EventKey {
  uint64_t operator()(const Event& e) const { return e.key; }
};
struct EventValue {
  int64_t operator()(const Event& e) const { return e.value; }
};

template <typename T>
class CollectOutput final : public detail::Output {
 public:
  void emit(detail::BatchBase& batch) override {
    auto& b = detail::batch_cast<T>(batch);
    for (size_t i = 0; i < b.rows.size(); ++i) {
      rows.push_back(b.rows[i]);
      times.push_back(b.has_times() ? b.times[i] : kMinTimestamp);
    }
  }
  void emit_watermark(Timestamp w) override { watermarks.push_back(w); }
  void emit_idle(bool) override {}
  void emit_barrier(uint64_t) override {}
  void emit_end() override { ended = true; }

  std::vector<T> rows;
  std::vector<Timestamp> times;
  std::vector<Timestamp> watermarks;
  bool ended = false;
};

// One step of a script: a batch of rows (with their times) or a watermark.
struct Step {
  bool is_watermark = false;
  Timestamp watermark = 0;
  std::vector<Event> rows;
};

// Drives a WindowOperator<Event, EventKey, State> directly, without the runtime.
template <typename State>
class WindowHarness {
 public:
  using Op = detail::WindowOperator<Event, EventKey, State>;
  using Out = typename Op::Out;

  WindowHarness(State state, detail::WindowConfig config, bool late_output,
                size_t out_batch_size = 3)
      : op_(EventKey{}, std::move(state), std::move(config)) {
    op_.set_info(detail::OperatorInfo{"window", 0, 1, 128, out_batch_size});
    op_.set_output(&out_);
    if (late_output) op_.set_side_output(1, &late_);
    op_.open();
  }

  void run(const std::vector<Step>& steps) {
    for (const Step& s : steps) {
      if (s.is_watermark) {
        op_.on_watermark(s.watermark);
      } else {
        detail::Batch<Event> b;
        for (const Event& e : s.rows) {
          b.rows.push_back(e);
          b.times.push_back(e.time);
        }
        op_.process(0, b);
      }
    }
  }
  void end() { op_.on_end(); }

  Op& op() { return op_; }
  CollectOutput<Out>& out() { return out_; }
  CollectOutput<Event>& late() { return late_; }

 private:
  Op op_;
  CollectOutput<Out> out_;
  CollectOutput<Event> late_;
};

}  // namespace sluice::testing
