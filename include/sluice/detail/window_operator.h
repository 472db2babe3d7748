// The window operator of the typed API: a thin shell that feeds batches of T into one of the
// window state classes (pane_windows.h, session_windows.h, count_windows.h) and turns what they
// fire into result rows. The state classes hold all windowing logic and know nothing of Batch<T>
// or the runtime, so the SQL layer drives the same code from its own operator over chunks.
//
// Per batch: the rows' key hashes come from the hash exchange (or one pass hashes every key when
// the operator is chained, at parallelism 1), and one pass adds the rows, prefetching the table
// slot of row i + kPrefetchDistance. Watermarks, firing and
// early firing run between batches. Results are emitted before the watermark that caused them,
// with event time window end - 1. Too-late rows go to side output 1 when attached (copied with
// their event time), otherwise they are counted as dropped.
//
// Thread-safety: driven by one task; the WindowStats it publishes to may be read from anywhere.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/detail/count_windows.h"
#include "sluice/detail/operator.h"
#include "sluice/detail/operators.h"
#include "sluice/detail/pane_windows.h"
#include "sluice/detail/prehashed_map.h"
#include "sluice/detail/window_functions.h"
#include "sluice/window.h"

namespace sluice::detail {

// How a window operator fires, besides its assigner and function.
struct WindowConfig {
  Duration lateness = 0;
  bool processing_time = false;  // windows on the operator's clock instead of event time
  Timestamp (*clock)() = &wall_clock_millis;
  int64_t count_every = 0;   // CountTrigger: an early result every n rows of a (key, window)
  Duration early_every = 0;  // EarlyFiring
  TimeDomain early_domain = TimeDomain::kEventTime;
  Timestamp (*early_clock)() = &wall_clock_millis;
  std::shared_ptr<WindowStats> stats;  // may be null
};

template <typename Agg>
inline constexpr bool kIsCountingAgg = false;
template <typename Agg>
inline constexpr bool kIsCountingAgg<CountingAgg<Agg>> = true;

template <typename State>
inline constexpr bool kIsCountWindows = false;
template <typename Key, typename Agg>
inline constexpr bool kIsCountWindows<CountWindows<Key, Agg>> = true;

template <typename T, typename KeyFn, typename State>
class WindowOperator final : public Operator {
 public:
  using Key = std::decay_t<std::invoke_result_t<KeyFn, const T&>>;
  using Agg = std::decay_t<decltype(std::declval<const State&>().agg())>;
  using Acc = typename State::Acc;
  using Out = ResultOf<Agg, Key>;

  WindowOperator(KeyFn key_fn, State state, WindowConfig config)
      : key_fn_(std::move(key_fn)), state_(std::move(state)), config_(std::move(config)) {}

  void open() override {
    if (config_.stats) slot_ = config_.stats->register_subtask();
    late_out_ = side_output(1);
    out_batch_.rows.reserve(info_.batch_size);
    out_batch_.times.reserve(info_.batch_size);
  }

  void process(int, BatchBase& batch) override {
    auto& b = batch_cast<T>(batch);
    const size_t n = b.rows.size();
    if (n == 0) return;
    counters_.rows += n;
    if (config_.processing_time) {
      const Timestamp now = config_.clock();
      state_.advance(now - 1, emitter());
      add_rows<false>(b, now);
    } else if (b.has_times()) {
      add_rows<true>(b, 0);
    } else if constexpr (kIsCountWindows<State>) {
      add_rows<false>(b, 0);
    } else {
      throw std::runtime_error(
          "event-time windows need event times: call assign_timestamps() before the window");
    }
    if (config_.early_every > 0 && config_.early_domain == TimeDomain::kProcessingTime) {
      maybe_fire_early_processing_time();
    }
    flush();
    if (!late_batch_.rows.empty()) {
      late_out_->emit(late_batch_);
      late_batch_.clear();
    }
    publish();
  }

  void on_watermark(Timestamp wm) override {
    if (config_.processing_time) {
      state_.advance(config_.clock() - 1, emitter());
    } else {
      state_.advance(wm, emitter());
      if (config_.early_every > 0 && config_.early_domain == TimeDomain::kEventTime &&
          wm != kMaxTimestamp &&
          (last_early_ == kMinTimestamp ||
           floor_to(wm, config_.early_every) > floor_to(last_early_, config_.early_every))) {
        last_early_ = wm;
        state_.fire_early(emitter());
      }
    }
    if (config_.early_every > 0 && config_.early_domain == TimeDomain::kProcessingTime) {
      maybe_fire_early_processing_time();
    }
    flush();
    counters_.state_entries = state_.entries();
    counters_.state_bytes = state_.state_bytes();
    publish();
    Operator::on_watermark(wm);
  }

  void on_end() override {
    state_.advance(kMaxTimestamp, emitter());
    if constexpr (kIsCountWindows<State>) state_.finish(emitter());
    flush();
    counters_.state_entries = state_.entries();
    counters_.state_bytes = state_.state_bytes();
    publish();
    end_outputs();
  }

  // Checkpoints: the watermark of the window state as operator-wide state, the entries (key,
  // window, accumulator, and for count windows the row count) per key group. A restore at another
  // parallelism takes the lowest old watermark: a window that some old subtask had fired and
  // another had not may then fire again.
  bool has_state() const override { return true; }
  // State that can freeze() (pane windows) leaves the entries to the checkpoint writer.
  void snapshot_state(uint64_t, OperatorSnapshot& out) override {
    if constexpr (kSerializable<Key> && kSerializable<Acc>) {
      StateWriter(&out.operator_state).write(state_.watermark());
      if constexpr (requires { state_.freeze(); }) {
        auto frozen = std::make_shared<decltype(state_.freeze())>(state_.freeze());
        out.deferred = [frozen, max_parallelism = info_.max_parallelism](OperatorSnapshot& to) {
          write_entries(*frozen, max_parallelism, to);
          *frozen = {};
        };
      } else {
        write_entries(state_, info_.max_parallelism, out);
      }
    } else {
      (void)out;
      throw std::runtime_error(
          "the window's key or accumulator type cannot be checkpointed: specialise "
          "sluice::StateSerializer<T> (see sluice/state_serializer.h)");
    }
  }
  Status restore_state(const OperatorRestore& in) override {
    if constexpr (kSerializable<Key> && kSerializable<Acc>) {
      const bool same = in.old_parallelism == info_.parallelism;
      Timestamp wm = kMaxTimestamp;
      for (size_t i = 0; i < in.operator_states.size(); ++i) {
        if ((same && static_cast<int>(i) != info_.subtask) || in.operator_states[i].empty()) {
          continue;
        }
        StateReader r(in.operator_states[i]);
        wm = std::min(wm, r.read<Timestamp>());
      }
      if (wm != kMaxTimestamp) state_.restore_watermark(wm);
      return read_key_groups(in, info_.display(), [&](int, StateReader& r) {
        while (!r.at_end() && !r.failed()) {
          Key key{};
          Window w;
          Acc acc = state_.agg().create();
          r.read(key);
          r.read(w.start);
          r.read(w.end);
          r.read(acc);
          if constexpr (kIsCountWindows<State>) {
            const int64_t rows = r.read<int64_t>();
            if (!r.failed()) state_.restore_entry(key, w, acc, rows);
          } else {
            if (!r.failed()) state_.restore_entry(key, w, acc);
          }
        }
        return Status::ok();
      });
    } else {
      (void)in;
      return Status::invalid_argument("operator " + info_.display() +
                                      ": its state type cannot be restored");
    }
  }

  // The entries of `state` (the window state or a frozen view of it) per key group.
  template <typename Entries>
  static void write_entries(const Entries& state, int max_parallelism, OperatorSnapshot& out) {
    KeyGroupWriter groups(max_parallelism);
    state.for_each_entry(max_parallelism,
                         [&](int g, const Key& key, const Window& w, const Acc& acc, auto... rows) {
                           StateWriter& to = groups.group(g);
                           to.write(key);
                           to.write(w.start);
                           to.write(w.end);
                           to.write(acc);
                           (to.write(static_cast<int64_t>(rows)), ...);
                         });
    groups.finish(out);
  }

  // For snapshots and tests: the window state and this subtask's counters.
  State& state() { return state_; }
  const State& state() const { return state_; }
  const WindowCounters& counters() const { return counters_; }

 private:
  auto emitter() {
    return [this](const Key& key, const Acc& acc, const Window& w, Firing f) {
      emit_result(key, acc, w, f);
    };
  }

  template <bool kRowTimes>
  void add_rows(Batch<T>& b, Timestamp constant_time) {
    const size_t n = b.rows.size();
    const uint64_t* hashes = key_hashes(b, key_fn_, hashes_);
    auto emit = emitter();
    for (size_t i = 0; i < n; ++i) {
      if (i + kPrefetchDistance < n) {
        state_.prefetch(Prehashed<Key>{nullptr, hashes[i + kPrefetchDistance]}, 0);
      }
      const T& row = b.rows[i];
      const Timestamp t = kRowTimes ? b.times[i] : constant_time;
      const auto& key = key_fn_(row);
      Added<Acc> added = state_.add(Prehashed<Key>{&key, hashes[i]}, t, row, emit);
      if (added.acc == nullptr) [[unlikely]] {
        late(row, t);
        continue;
      }
      if (added.late_update) [[unlikely]] {
        ++counters_.late_updates;
        continue;
      }
      if constexpr (kIsCountingAgg<Agg>) {
        if (config_.count_every > 0 && added.acc->rows % config_.count_every == 0) {
          emit_result(key, *added.acc, added.window, Firing::kEarly);
        }
      }
    }
  }

  void late(const T& row, Timestamp t) {
    if (late_out_ == nullptr) {
      ++counters_.late_dropped;
      return;
    }
    ++counters_.late_to_side_output;
    late_batch_.rows.push_back(row);
    late_batch_.times.push_back(t);
  }

  void emit_result(const Key& key, const Acc& acc, const Window& w, Firing f) {
    out_batch_.rows.push_back(state_.agg().result(key, acc, w, f));
    out_batch_.times.push_back(w.end - 1);
    switch (f) {
      case Firing::kEarly:
        ++counters_.results_early;
        break;
      case Firing::kOnTime:
        ++counters_.results_on_time;
        break;
      case Firing::kLate:
        ++counters_.results_late;
        break;
    }
    if (out_batch_.rows.size() >= info_.batch_size) flush();
  }

  void flush() {
    if (out_batch_.rows.empty()) return;
    out_->emit(out_batch_);
    out_batch_.clear();
  }

  void maybe_fire_early_processing_time() {
    const Timestamp now = config_.early_clock();
    if (now < next_early_) return;
    next_early_ = floor_to(now, config_.early_every) + config_.early_every;
    state_.fire_early(emitter());
  }

  void publish() {
    if (slot_ != nullptr) slot_->publish(counters_);
    if (metrics_ != nullptr) {
      metrics_->late_dropped.set_total(counters_.late_dropped);
      metrics_->state_keys.set(static_cast<int64_t>(counters_.state_entries));
      metrics_->state_bytes.set(static_cast<int64_t>(counters_.state_bytes));
    }
  }

  KeyFn key_fn_;
  // ---- checkpointed ----
  State state_;
  // ---- not checkpointed ----
  WindowConfig config_;
  WindowCounters counters_;
  WindowStats::Slot* slot_ = nullptr;
  Output* late_out_ = nullptr;
  Timestamp last_early_ = kMinTimestamp;
  Timestamp next_early_ = kMinTimestamp;
  std::vector<uint64_t> hashes_;  // per row of the current batch, when it came without
  Batch<Out> out_batch_;
  Batch<T> late_batch_;
};

}  // namespace sluice::detail
