// Keyed process functions: per-key logic with state and timers, the most general keyed operator.
//
//   inline constexpr sluice::OutputTag<Alert> kAlerts{"alerts", 1};
//
//   struct Detector {
//     sluice::ValueState<int64_t> since;  // created in open(), one value per key
//
//     void open(sluice::RuntimeContext& ctx) {
//       since = ctx.state<sluice::ValueState<int64_t>>("since");
//     }
//     void process(const Reading& r, sluice::ProcessContext<uint64_t>& ctx,
//                  sluice::Collector<Reading>& out) {
//       ...; ctx.timers().register_event_time(ctx.timestamp() + 30'000);
//     }
//     void on_timer(sluice::Timestamp t, sluice::TimerContext<uint64_t>& ctx,
//                   sluice::Collector<Reading>& out) {
//       ctx.output(kAlerts, Alert{ctx.key(), t});
//     }
//   };
//
//   auto result = readings.key_by(&patient_of).process(Detector{});
//   result.side_output(kAlerts).sink(...);
//
// The function object is copied once per subtask. Members: `process` (required);
// `on_timer(Timestamp, TimerContext<Key>&, Collector<Out>&)`, `open(RuntimeContext&)` and
// `close(RuntimeContext&)` (optional). Out is deduced from process's Collector parameter, or given:
// `process<Out>(fn)`. Rows emitted in process carry the input row's event time (if the stream has
// event times); rows emitted in on_timer carry the timer's time. Everything runs on the subtask's
// thread: no synchronisation is needed for members.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "sluice/detail/key_directory.h"
#include "sluice/detail/operator.h"
#include "sluice/detail/side_outputs.h"
#include "sluice/detail/state_backend.h"
#include "sluice/detail/state_table_set.h"
#include "sluice/output_tag.h"
#include "sluice/state.h"
#include "sluice/timer_service.h"

namespace sluice {

namespace detail {
template <typename T, typename K, typename KeyFn, typename F, typename Out>
class KeyedProcessOperator;
}

// Given to open() and close(): creates state handles; tells where the subtask sits.
class RuntimeContext {
 public:
  RuntimeContext(detail::StateTableSet* tables, const detail::StateBackend* backend,
                 const detail::OperatorInfo* info)
      : tables_(tables), backend_(backend), info_(info) {}

  // A handle on the state named `name` of this operator: S is ValueState<T>, MapState<K, V> or
  // ListState<T>. Asking twice for one name gives handles on the same state.
  template <typename S>
  S state(std::string_view name, std::optional<StateTtl> ttl = std::nullopt) {
    static_assert(
        requires { typename S::Table; },
        "RuntimeContext::state<S>: S must be ValueState<T>, MapState<K, V> or "
        "ListState<T>");
    return tables_->handle<S>(name, ttl);
  }

  int subtask() const { return info_->subtask; }
  int parallelism() const { return info_->parallelism; }
  int max_parallelism() const { return info_->max_parallelism; }
  const std::string& operator_name() const { return info_->name; }
  // Sizes of this subtask's state (walks the tables; not for the per-row path).
  OperatorStateStats state_stats() const { return backend_->stats(); }

 private:
  detail::StateTableSet* tables_;
  const detail::StateBackend* backend_;
  const detail::OperatorInfo* info_;
};

// Given to process(): the current key and row, timers and side outputs.
template <typename K>
class ProcessContext {
 public:
  const K& key() const { return keys_->key_of(scope_->slot); }
  // The event time of the row (of the timer, in on_timer); kMinTimestamp when the stream has no
  // event times.
  Timestamp timestamp() const { return time_; }
  bool has_timestamp() const { return has_time_; }
  Timestamp current_watermark() const { return timers_->current_watermark(); }
  TimerService& timers() { return *timers_; }
  // Sends `value` to the side output `tag`, with the current row's (or timer's) time.
  template <typename X, typename V>
  void output(const OutputTag<X>& tag, V&& value) {
    side_->emit<X>(tag.port(), X(std::forward<V>(value)));
  }

 protected:
  template <typename, typename, typename, typename, typename>
  friend class detail::KeyedProcessOperator;

  ProcessContext(const detail::KeyDirectory<K>* keys, const detail::StateScope* scope,
                 TimerService* timers, detail::SideOutputs* side)
      : keys_(keys), scope_(scope), timers_(timers), side_(side) {}

  const detail::KeyDirectory<K>* keys_;
  const detail::StateScope* scope_;
  TimerService* timers_;
  detail::SideOutputs* side_;
  Timestamp time_ = kMinTimestamp;
  bool has_time_ = false;
};

// Given to on_timer(): as ProcessContext, for the timer's key; timestamp() is the timer's time.
template <typename K>
class TimerContext : public ProcessContext<K> {
 public:
  TimeDomain time_domain() const { return domain_; }

 private:
  template <typename, typename, typename, typename, typename>
  friend class detail::KeyedProcessOperator;
  using ProcessContext<K>::ProcessContext;

  TimeDomain domain_ = TimeDomain::kEventTime;
};

}  // namespace sluice
