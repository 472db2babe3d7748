// Joins and enrichment in the typed API.
//
// A join is a node with two inputs: the left stream on input 0 and the right one on input 1,
// each reaching the join through its own exchange. Keyed joins hash both sides by key into the
// same key groups, so equal keys meet in the same subtask; the key types of the two sides must be
// the same. Join state lives in plain typed structures (detail/*_join_state.h, lookup_table.h)
// that export and import their contents per key group, the unit a snapshot and a restore with
// another parallelism work in.
//
// Event-time joins (both inputs need assign_timestamps):
//
//   left.key_by(kl).interval_join(right.key_by(kr), lower, upper, fn)
//     emits fn(l, r) for every pair of equal keys with l.time + lower <= r.time <= l.time + upper
//     (both bounds inclusive, as in Flink), as soon as the second row of the pair arrives. The
//     output row's time is max(l.time, r.time). Rows are held per key in time order and dropped
//     once the watermark shows that nothing can still match them.
//
//   left.key_by(kl).window_join(right.key_by(kr), sluice::Tumbling{size}, fn)
//     emits fn(l, r) for every pair of equal keys in the same tumbling window [start, start+size)
//     when the watermark closes the window; output rows get the window's last millisecond. The
//     window is any type with a `Duration size` member (and optionally `Duration offset`), such as
//     sluice::Tumbling from sluice/window.h.
//
//   Rows that arrive after the watermark has passed them (or closed their window) are late: they
//   are counted in JoinMetrics::late_rows and dropped. With a watermark bound that covers the
//   input's disorder nothing is late, and the result does not depend on parallelism or batching.
//
// Enrichment (processing time):
//
//   events.key_by(k).lookup_join(table.key_by(k2), fn, {.unmatched = Unmatched::kEmit})
//     The table input is a changelog: rows of sluice::Change<V> (upsert or delete of a key), or
//     plain rows V (upserts only). The join keeps the latest row per key and calls
//     fn(event, const std::optional<V>& row) with the key's row at the moment the event is
//     processed: std::nullopt when the key has none (Unmatched::kEmit), or the event is dropped and
//     counted (Unmatched::kDrop). Output rows keep the event's time.
//
// Broadcast state:
//
//   events.connect_broadcast<Out>(rules, State{}, on_rule, fn)
//     Every subtask of the node receives every rule and keeps its own State, updated by
//     on_rule(const Rule&, State&); each event is handled by fn(const T&, const State&,
//     Collector<Out>&). Events keep their partitioning (forward or rebalance by default).
//
// Ordering caveat (lookup_join and connect_broadcast): the two inputs are separate channels and
// are not ordered with each other. A table change or rule applies to the events processed after
// it reaches the subtask, which can be before or after events that were produced earlier or later
// in another stream; different subtasks can see a rule at different moments. When a job needs the
// whole table (rules) before any event, for a bounded table, set `table_first` (`rules_first`):
// events wait until that input ends. An input without event times keeps the operator's watermark
// at its start until the input ends; give the table or rules stream timestamps when the output is
// used in event time.
#pragma once

#include <optional>
#include <type_traits>

#include "sluice/detail/broadcast_process_operator.h"
#include "sluice/detail/interval_join_operator.h"
#include "sluice/detail/lookup_join_operator.h"
#include "sluice/detail/two_input.h"
#include "sluice/detail/window_join_operator.h"
#include "sluice/join_options.h"
#include "sluice/stream.h"

namespace sluice {

template <typename T, typename KeyFn>
template <typename R, typename KeyR, typename F>
auto KeyedStream<T, KeyFn>::interval_join(const KeyedStream<R, KeyR>& right, Duration lower,
                                          Duration upper, F fn, JoinOptions options) const {
  static_assert(std::is_same_v<Key, typename KeyedStream<R, KeyR>::Key>,
                "interval_join: both sides must be keyed by the same key type");
  static_assert(std::is_invocable_v<F, const T&, const R&>,
                "interval_join: the function must be callable as `Out fn(const L&, const R&)`");
  using Out = std::decay_t<std::invoke_result_t<F, const T&, const R&>>;
  static_assert(!std::is_void_v<Out>, "interval_join: the function must return the joined row");
  if (lower > upper) throw std::invalid_argument("interval_join: lower bound above upper bound");
  KeyFn kl = key_fn_;
  KeyR kr = right.key_fn();
  JoinMetrics* metrics = options.metrics;
  return detail::add_two_input<Out>(
      stream_, right.partitioned(), "interval_join", [kl, kr, lower, upper, fn, metrics] {
        return std::make_unique<detail::IntervalJoinOperator<T, R, Out, KeyFn, KeyR, F>>(
            kl, kr, lower, upper, fn, metrics);
      });
}

template <typename T, typename KeyFn>
template <typename R, typename KeyR, typename Window, typename F>
auto KeyedStream<T, KeyFn>::window_join(const KeyedStream<R, KeyR>& right, Window window, F fn,
                                        JoinOptions options) const {
  static_assert(std::is_same_v<Key, typename KeyedStream<R, KeyR>::Key>,
                "window_join: both sides must be keyed by the same key type");
  static_assert(
      requires { Duration{window.size}; },
      "window_join: the window must be tumbling, e.g. sluice::Tumbling{size_ms}");
  static_assert(std::is_invocable_v<F, const T&, const R&>,
                "window_join: the function must be callable as `Out fn(const L&, const R&)`");
  using Out = std::decay_t<std::invoke_result_t<F, const T&, const R&>>;
  static_assert(!std::is_void_v<Out>, "window_join: the function must return the joined row");
  const Duration size = window.size;
  Duration offset = 0;
  if constexpr (requires { Duration{window.offset}; }) offset = window.offset;
  if (size <= 0) throw std::invalid_argument("window_join: the window size must be > 0");
  KeyFn kl = key_fn_;
  KeyR kr = right.key_fn();
  JoinMetrics* metrics = options.metrics;
  return detail::add_two_input<Out>(
      stream_, right.partitioned(), "window_join", [kl, kr, size, offset, fn, metrics] {
        return std::make_unique<detail::WindowJoinOperator<T, R, Out, KeyFn, KeyR, F>>(
            kl, kr, size, offset, fn, metrics);
      });
}

template <typename T, typename KeyFn>
template <typename TRow, typename KeyT, typename F>
auto KeyedStream<T, KeyFn>::lookup_join(const KeyedStream<TRow, KeyT>& table, F fn,
                                        LookupJoinOptions options) const {
  using V = typename detail::ChangeTraits<TRow>::Value;
  static_assert(std::is_same_v<Key, typename KeyedStream<TRow, KeyT>::Key>,
                "lookup_join: events and table must be keyed by the same key type");
  static_assert(std::is_invocable_v<F, const T&, const std::optional<V>&>,
                "lookup_join: the function must be callable as "
                "`Out fn(const Event&, const std::optional<V>& table_row)`");
  using Out = std::decay_t<std::invoke_result_t<F, const T&, const std::optional<V>&>>;
  static_assert(!std::is_void_v<Out>, "lookup_join: the function must return the joined row");
  KeyFn ke = key_fn_;
  KeyT kt = table.key_fn();
  return detail::add_two_input<Out>(
      stream_, table.partitioned(), "lookup_join", [ke, kt, fn, options] {
        return std::make_unique<detail::LookupJoinOperator<T, TRow, Out, KeyFn, KeyT, F>>(
            ke, kt, fn, options);
      });
}

template <typename T>
template <typename Out, typename Rule, typename State, typename OnRule, typename Fn>
Stream<Out> Stream<T>::connect_broadcast(const Stream<Rule>& rules, State initial, OnRule on_rule,
                                         Fn fn, BroadcastOptions options) const {
  static_assert(
      std::is_invocable_v<OnRule, const Rule&, State&>,
      "connect_broadcast: on_rule must be callable as `void on_rule(const Rule&, State&)`");
  static_assert(std::is_invocable_v<Fn, const T&, const State&, Collector<Out>&>,
                "connect_broadcast<Out>: fn must be callable as "
                "`void fn(const T& event, const State& rules, sluice::Collector<Out>& out)`");
  const bool rules_first = options.rules_first;
  return detail::add_two_input<Out>(
      *this, rules.broadcast(), "broadcast_process", [initial, on_rule, fn, rules_first] {
        return std::make_unique<detail::BroadcastProcessOperator<T, Rule, Out, State, OnRule, Fn>>(
            initial, on_rule, fn, rules_first);
      });
}

}  // namespace sluice
