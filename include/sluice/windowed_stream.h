// WindowedStream: `keyed.window(assigner)`, configured with a trigger and allowed lateness, and
// closed by a window function that returns the results. See sluice/window.h for the semantics.
//
//   auto counts = stream.key_by(key).window(sluice::Tumbling{1000}).allowed_lateness(500).count();
//   counts.sink(...);          // WindowResult<Key, int64_t>, event time window end - 1
//   counts.late().sink(...);   // rows too late even for the allowed lateness
//   counts.stats()->totals();  // WindowCounters, after (or during) execute()
//
// Included by stream.h; include that (or sluice.h) instead.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "sluice/detail/count_windows.h"
#include "sluice/detail/pane_windows.h"
#include "sluice/detail/session_windows.h"
#include "sluice/detail/window_functions.h"
#include "sluice/detail/window_operator.h"
#include "sluice/window.h"

namespace sluice {

template <typename T>
class Stream;

// The results of a window function, plus the window's late rows and figures.
template <typename Out, typename T>
class WindowedResult : public Stream<Out> {
 public:
  WindowedResult(Stream<Out> results, std::shared_ptr<WindowStats> stats)
      : Stream<Out>(std::move(results)), stats_(std::move(stats)) {}

  // Rows later than the allowed lateness, with their event times (side output 1). Without this
  // call they are counted in stats()->totals().late_dropped.
  Stream<T> late() const {
    return Stream<T>(this->environment(), this->node(), detail::Partitioning::kForward,
                     detail::make_exchange_factory<T>(detail::NoRouter{}), 1);
  }
  // The window operator's counters, summed over its subtasks (live while the job runs).
  std::shared_ptr<const WindowStats> stats() const { return stats_; }

 private:
  std::shared_ptr<WindowStats> stats_;
};

template <typename T, typename KeyFn, typename Assigner>
class WindowedStream {
 public:
  using Key = std::decay_t<std::invoke_result_t<KeyFn, const T&>>;

  WindowedStream(Stream<T> partitioned, KeyFn key_fn, Assigner assigner)
      : stream_(std::move(partitioned)), key_fn_(std::move(key_fn)), assigner_(assigner) {}

  // ---- configuration ----
  // Late rows within `lateness` ms of a fired window's end update it (see sluice/window.h).
  WindowedStream& allowed_lateness(Duration lateness) {
    config_.lateness = lateness;
    return *this;
  }
  WindowedStream& trigger(EventTimeTrigger) {
    config_.processing_time = false;
    return *this;
  }
  WindowedStream& trigger(ProcessingTimeTrigger t) {
    config_.processing_time = true;
    config_.clock = t.clock;
    return *this;
  }
  WindowedStream& trigger(CountTrigger t) {
    config_.count_every = t.count;
    return *this;
  }
  WindowedStream& trigger(EarlyFiring t) {
    config_.early_every = t.every;
    config_.early_domain = t.domain;
    config_.early_clock = t.clock;
    return *this;
  }

  // ---- window functions ----
  // Rows per (key, window): WindowResult<Key, int64_t>.
  auto count() { return build("window count", detail::CountAgg<Key>{}); }
  // Sum, min, max, mean of `field(row)`: WindowResult<Key, Field> (mean: WindowResult<Key,
  // double>).
  template <typename F>
  auto sum(F field) {
    check_field<F>();
    return build("window sum", detail::SumAgg<Key, T, F>{field});
  }
  template <typename F>
  auto min(F field) {
    check_field<F>();
    return build("window min", detail::MinAgg<Key, T, F>{field});
  }
  template <typename F>
  auto max(F field) {
    check_field<F>();
    return build("window max", detail::MaxAgg<Key, T, F>{field});
  }
  template <typename F>
  auto avg(F field) {
    check_field<F>();
    return build("window avg", detail::AvgAgg<Key, T, F>{field});
  }
  // A user aggregate with `Acc create()`, `void add(Acc&, const T&)`, `void merge(Acc&, const
  // Acc&)` and `Out result(const Key&, const Acc&, const Window&)` (optionally `, Firing`).
  template <typename U>
  auto aggregate(U user) {
    using Acc = std::decay_t<decltype(user.create())>;
    static_assert(std::is_invocable_v<decltype(&U::add), const U&, Acc&, const T&>,
                  "aggregate: needs `void add(Acc&, const T&) const`");
    static_assert(std::is_invocable_v<decltype(&U::merge), const U&, Acc&, const Acc&>,
                  "aggregate: needs `void merge(Acc&, const Acc&) const`");
    return build("window aggregate", detail::UserAgg<Key, T, U>{std::move(user)});
  }
  // Full-window function: `Out fn(const Key&, const Window&, std::span<const T> rows)`
  // (optionally `, Firing`), called with every row of the window. Keeps every row in state.
  template <typename F>
  auto process(F fn) {
    static_assert(
        std::is_invocable_v<const F&, const Key&, const Window&, std::span<const T>> ||
            std::is_invocable_v<const F&, const Key&, const Window&, std::span<const T>, Firing>,
        "process: the function must be callable as "
        "`Out fn(const Key&, const sluice::Window&, std::span<const T> rows)`");
    return build("window process", detail::ProcessAgg<Key, T, F>{std::move(fn)});
  }

 private:
  template <typename F>
  static void check_field() {
    static_assert(std::is_invocable_v<F, const T&>,
                  "window sum/min/max/avg: the field function must be callable as "
                  "`Number fn(const T& row)`");
  }

  template <typename Agg>
  auto build(std::string name, Agg agg) {
    using Out = detail::ResultOf<Agg, Key>;
    auto stats = std::make_shared<WindowStats>();
    detail::WindowConfig config = config_;
    config.stats = stats;
    KeyFn key_fn = key_fn_;
    Assigner assigner = assigner_;
    validate();
    Stream<Out> out = stream_.template add<Out>(std::move(name), [key_fn, assigner, agg, config] {
      if constexpr (std::is_same_v<Assigner, Tumbling> || std::is_same_v<Assigner, Session>) {
        if (config.count_every > 0) {
          using Counting = detail::CountingAgg<Agg>;
          return make_operator(key_fn, assigner, Counting{agg}, config);
        }
      }
      return make_operator(key_fn, assigner, agg, config);
    });
    return WindowedResult<Out, T>(std::move(out), std::move(stats));
  }

  template <typename A>
  static std::unique_ptr<detail::Operator> make_operator(const KeyFn& key_fn,
                                                         const Assigner& assigner, A agg,
                                                         const detail::WindowConfig& config) {
    auto make = [&](auto state) -> std::unique_ptr<detail::Operator> {
      return std::make_unique<detail::WindowOperator<T, KeyFn, decltype(state)>>(
          key_fn, std::move(state), config);
    };
    if constexpr (std::is_same_v<Assigner, Tumbling>) {
      return make(detail::PaneWindows<Key, A>(agg, assigner.size, assigner.size, config.lateness));
    } else if constexpr (std::is_same_v<Assigner, Hopping>) {
      return make(detail::PaneWindows<Key, A>(agg, assigner.size, assigner.slide, config.lateness));
    } else if constexpr (std::is_same_v<Assigner, Session>) {
      return make(detail::SessionWindows<Key, A>(agg, assigner.gap, config.lateness));
    } else {
      static_assert(std::is_same_v<Assigner, GlobalCount>,
                    "window: the assigner must be Tumbling, Hopping, Session or GlobalCount");
      return make(detail::CountWindows<Key, A>(agg, assigner.count));
    }
  }

  // Programmer errors in the window's configuration, reported when the pipeline is built.
  void validate() const {
    if constexpr (std::is_same_v<Assigner, Tumbling>) {
      if (assigner_.size <= 0) throw std::invalid_argument("Tumbling: size must be > 0");
    } else if constexpr (std::is_same_v<Assigner, Hopping>) {
      if (assigner_.size <= 0 || assigner_.slide <= 0 || assigner_.slide > assigner_.size) {
        throw std::invalid_argument("Hopping: needs 0 < slide <= size");
      }
    } else if constexpr (std::is_same_v<Assigner, Session>) {
      if (assigner_.gap <= 0) throw std::invalid_argument("Session: gap must be > 0");
    } else {
      if (assigner_.count <= 0) throw std::invalid_argument("GlobalCount: count must be > 0");
    }
    if (config_.lateness < 0) throw std::invalid_argument("allowed_lateness must be >= 0");
    if (config_.count_every > 0 && !std::is_same_v<Assigner, Tumbling> &&
        !std::is_same_v<Assigner, Session>) {
      throw std::invalid_argument("CountTrigger applies to Tumbling and Session windows");
    }
    if (config_.early_every < 0) throw std::invalid_argument("EarlyFiring: every must be > 0");
  }

  Stream<T> stream_;
  KeyFn key_fn_;
  Assigner assigner_;
  detail::WindowConfig config_;
};

}  // namespace sluice
