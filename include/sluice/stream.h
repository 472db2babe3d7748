// Stream<T>: a typed handle on one node of a pipeline under construction.
//
// Each transformation adds a node and returns a handle on it; `name()`, `parallelism()` and
// `disable_chaining()` configure the node just added. User functions are template parameters,
// inlined into the operators; a function with the wrong signature fails to compile with a
// message naming the transformation and the expected signature.
//
// Included by environment.h; include that (or sluice.h) instead.
#pragma once

#include <concepts>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "sluice/detail/exchange.h"
#include "sluice/detail/graph.h"
#include "sluice/detail/keyed_process_operator.h"
#include "sluice/detail/operators.h"
#include "sluice/detail/split_source.h"
#include "sluice/detail/watermark_operator.h"
#include "sluice/join_options.h"
#include "sluice/output_tag.h"
#include "sluice/watermarks.h"

namespace sluice {

class Environment;

template <typename T, typename KeyFn>
class KeyedStream;

template <typename T, typename KeyFn, typename Assigner>
class WindowedStream;

// A sink is a copyable object with `void write(std::span<const T> rows)`; optionally
// `void open(int subtask, int parallelism)` and `void finish()` (end of a bounded stream).
// Each subtask gets its own copy.
template <typename S, typename T>
concept SinkFor = std::copy_constructible<S> && requires(S& s, std::span<const T> rows) {
  s.write(rows);
};

namespace detail {

template <typename T, typename Router>
std::function<std::unique_ptr<Output>(std::unique_ptr<ChannelSet>, const ExchangeSpec&)>
make_exchange_factory(Router router) {
  return [router](std::unique_ptr<ChannelSet> channels, const ExchangeSpec& spec) {
    Router r = router;
    if constexpr (requires { r.parallelism; }) {
      r.parallelism = spec.consumer_parallelism;
      r.max_parallelism = spec.max_parallelism;
      r.prepare();
    }
    return std::unique_ptr<Output>(std::make_unique<ExchangeOutput<T, Router>>(
        std::move(channels), spec.partitioning, r, spec.batch_size, spec.flush_delay_us,
        spec.consumer_name));
  };
}

// Adapts a per-row function to the sink concept.
template <typename T, typename F>
struct RowFunctionSink {
  F fn;
  void write(std::span<const T> rows) {
    for (const T& row : rows) fn(row);
  }
};

}  // namespace detail

template <typename T>
class Stream {
 public:
  using ExchangeFactory = std::function<std::unique_ptr<detail::Output>(
      std::unique_ptr<detail::ChannelSet>, const detail::ExchangeSpec&)>;

  // A handle on output `from_port` of `node` (0: its main output, 1..: side outputs).
  Stream(Environment* env, int node,
         detail::Partitioning partitioning = detail::Partitioning::kForward,
         ExchangeFactory exchange = detail::make_exchange_factory<T>(detail::NoRouter{}),
         int from_port = 0)
      : env_(env),
        node_(node),
        from_port_(from_port),
        partitioning_(partitioning),
        exchange_(std::move(exchange)) {}

  // ---- configuration of the node this handle names ----
  Stream& name(std::string name);
  // The operator's stable id in checkpoints and savepoints. A savepoint restores into a changed
  // job by these ids: an operator takes the state stored under its id, wherever it now sits in
  // the graph, and an added operator starts empty. Without one the id is the operator's name
  // (with `#2`, `#3`… for repeated names, in the order they were added), so set uids on stateful
  // operators of a job that will change. Unique in the job; no control characters.
  Stream& uid(std::string uid);
  Stream& parallelism(int parallelism);
  // Starts a new task at this operator even where it could be chained to its input.
  Stream& disable_chaining();

  // ---- transformations ----
  template <typename F>
  auto map(F fn) -> Stream<std::decay_t<std::invoke_result_t<F, const T&>>> {
    static_assert(std::is_invocable_v<F, const T&>,
                  "map: the function must be callable as `Out fn(const T& row)`");
    using Out = std::decay_t<std::invoke_result_t<F, const T&>>;
    static_assert(!std::is_void_v<Out>, "map: the function must return the new row");
    return add<Out>("map", [fn] { return std::make_unique<detail::MapOperator<T, Out, F>>(fn); });
  }

  template <typename F>
  Stream<T> filter(F fn) {
    static_assert(std::is_invocable_r_v<bool, F, const T&>,
                  "filter: the predicate must be callable as `bool fn(const T& row)`");
    return add<T>("filter", [fn] { return std::make_unique<detail::FilterOperator<T, F>>(fn); });
  }

  // `fn(row, out)` calls `out.emit(x)` for each output row x of type Out.
  template <typename Out, typename F>
  Stream<Out> flat_map(F fn) {
    static_assert(std::is_invocable_v<F, const T&, Collector<Out>&>,
                  "flat_map<Out>: the function must be callable as "
                  "`void fn(const T& row, sluice::Collector<Out>& out)`");
    return add<Out>("flat_map",
                    [fn] { return std::make_unique<detail::FlatMapOperator<T, Out, F>>(fn); });
  }

  // Partitions by key for keyed operations (reduce, aggregate, and later windows and state).
  template <typename KeyFn>
  KeyedStream<T, KeyFn> key_by(KeyFn key_fn);

  // Sends each row to the subtask owning its key's key group, without keyed operations.
  template <typename KeyFn>
  Stream<T> partition_by(KeyFn key_fn) {
    static_assert(std::is_invocable_v<KeyFn, const T&>,
                  "partition_by: the key function must be callable as `Key fn(const T& row)`");
    if constexpr (std::is_invocable_v<KeyFn, const T&>) {
      static_assert(detail::kHashableKey<std::decay_t<std::invoke_result_t<KeyFn, const T&>>>,
                    "key_by/partition_by: the key type has no stable hash; give it a function "
                    "`uint64_t sluice_hash(const Key&)` in its namespace (see "
                    "sluice/detail/key_groups.h)");
    }
    return Stream<T>(
        env_, node_, detail::Partitioning::kHash,
        detail::make_exchange_factory<T>(detail::HashRouter<KeyFn>{key_fn, 128, 1, nullptr}),
        from_port_);
  }
  // Spreads whole batches round-robin over the next operator's subtasks.
  Stream<T> rebalance() const {
    return Stream<T>(env_, node_, detail::Partitioning::kRebalance, exchange_, from_port_);
  }
  // Sends every row to every subtask of the next operator.
  Stream<T> broadcast() const {
    return Stream<T>(env_, node_, detail::Partitioning::kBroadcast, exchange_, from_port_);
  }

  // One stream of the rows of this stream and `others` (same row type).
  template <typename... Others>
  Stream<T> union_with(const Others&... others);

  // Event time: `ts_fn(row)` is the row's timestamp (ms since the epoch); each subtask (source
  // partition) generates watermarks with its own copy of `strategy` (sluice/watermarks.h), e.g.
  // bounded_out_of_orderness(5'000).with_idleness(30'000). Called directly on a split source
  // (files; detail/split_source.h), the source itself keeps a copy per split and emits the
  // minimum over its splits (detail/split_timestamps.h).
  template <typename TsFn, typename Generator>
  Stream<T> assign_timestamps(TsFn ts_fn, WatermarkStrategy<Generator> strategy) {
    static_assert(std::is_invocable_r_v<Timestamp, TsFn, const T&>,
                  "assign_timestamps: the function must be callable as `Timestamp fn(const T&)`");
    static_assert(detail::check_watermark_generator<Generator, T>());
    detail::NodeSpec& node = env_->graph().node(node_);
    if (from_port_ == 0 && node.give_split_timestamps && !node.source_event_time) {
      // The source generates times and watermarks per split; the node keeps its place (and
      // name) in the graph and passes them on.
      node.source_event_time = true;
      node.make_operator = [make = std::move(node.make_operator), give = node.give_split_timestamps,
                            ts_fn, strategy] {
        std::unique_ptr<detail::Operator> op = make();
        give(*op,
             std::make_unique<detail::SplitTimestampsFor<T, TsFn, Generator>>(ts_fn, strategy));
        return op;
      };
      return add<T>("watermarks",
                    [] { return std::make_unique<detail::SourceWatermarksOperator<T>>(); });
    }
    return add<T>("watermarks", [ts_fn, strategy] {
      return std::make_unique<detail::WatermarkOperator<T, TsFn, Generator>>(ts_fn, strategy);
    });
  }
  // The short form: watermarks trail the highest timestamp seen by `max_out_of_orderness`.
  template <typename TsFn>
  Stream<T> assign_timestamps(TsFn ts_fn, Duration max_out_of_orderness) {
    return assign_timestamps(std::move(ts_fn), bounded_out_of_orderness(max_out_of_orderness));
  }

  // Ends the stream in `sink`: a sink object (see SinkFor) or a function `void fn(const T&)`.
  // A function is called from every subtask of the sink; synchronise what it shares.
  template <typename S>
  Stream<T> sink(S sink) {
    if constexpr (SinkFor<S, T>) {
      return add<T>("sink", [sink] { return std::make_unique<detail::SinkOperator<T, S>>(sink); });
    } else {
      static_assert(std::is_invocable_v<S, const T&>,
                    "sink: expected a sink object with `write(std::span<const T>)` or a function "
                    "`void fn(const T& row)`");
      using Adapter = detail::RowFunctionSink<T, S>;
      return add<T>("sink", [sink] {
        return std::make_unique<detail::SinkOperator<T, Adapter>>(Adapter{sink});
      });
    }
  }

  // The side output `tag` of the operator this handle names (e.g. a process function's
  // `ctx.output(tag, x)`).
  template <typename X>
  Stream<X> side_output(const OutputTag<X>& tag) const {
    return Stream<X>(env_, node_, detail::Partitioning::kForward,
                     detail::make_exchange_factory<X>(detail::NoRouter{}), tag.port());
  }

  // Processes this stream's rows against rules sent to every subtask (sluice/joins.h).
  template <typename Out, typename Rule, typename State, typename OnRule, typename Fn>
  Stream<Out> connect_broadcast(const Stream<Rule>& rules, State initial, OnRule on_rule, Fn fn,
                                BroadcastOptions options = {}) const;

  Environment* environment() const { return env_; }
  int node() const { return node_; }

  // The edge that feeds input `port` of node `to` from this handle, with its partitioning.
  detail::EdgeSpec edge_to(int to, int port) const {
    return detail::EdgeSpec{.from = node_,
                            .to = to,
                            .port = port,
                            .from_port = from_port_,
                            .partitioning = partitioning_,
                            .make_exchange = exchange_};
  }

  // Adds a one-input node fed by this stream; the building block of every transformation.
  template <typename Out>
  Stream<Out> add(std::string default_name,
                  std::function<std::unique_ptr<detail::Operator>()> make) const;

 private:
  template <typename>
  friend class Stream;

  Environment* env_;
  int node_;
  int from_port_ = 0;
  detail::Partitioning partitioning_;
  ExchangeFactory exchange_;
};

template <typename T, typename KeyFn>
class KeyedStream {
 public:
  using Key = std::decay_t<std::invoke_result_t<KeyFn, const T&>>;

  KeyedStream(Stream<T> partitioned, KeyFn key_fn)
      : stream_(std::move(partitioned)), key_fn_(std::move(key_fn)) {}

  // Running reduce: each row becomes `fn(reduced_so_far, row)` for its key.
  template <typename F>
  Stream<T> reduce(F fn) {
    static_assert(std::is_invocable_r_v<T, F, const T&, const T&>,
                  "reduce: the function must be callable as `T fn(const T& acc, const T& row)`");
    KeyFn key_fn = key_fn_;
    return stream_.template add<T>("reduce", [key_fn, fn] {
      return std::make_unique<detail::KeyedReduceOperator<T, KeyFn, F>>(key_fn, fn);
    });
  }

  // Running aggregate: `add(acc, row)` updates the key's accumulator (starting at `init`);
  // `result(key, acc)` is emitted for every row.
  template <typename Acc, typename AddFn, typename ResultFn>
  auto aggregate(Acc init, AddFn add, ResultFn result)
      -> Stream<std::decay_t<std::invoke_result_t<ResultFn, const Key&, const Acc&>>> {
    static_assert(std::is_invocable_v<AddFn, Acc&, const T&>,
                  "aggregate: `add` must be callable as `void add(Acc& acc, const T& row)`");
    static_assert(std::is_invocable_v<ResultFn, const Key&, const Acc&>,
                  "aggregate: `result` must be callable as `Out result(const Key&, const Acc&)`");
    using Out = std::decay_t<std::invoke_result_t<ResultFn, const Key&, const Acc&>>;
    KeyFn key_fn = key_fn_;
    return stream_.template add<Out>("aggregate", [key_fn, init, add, result] {
      return std::make_unique<detail::KeyedAggregateOperator<T, Out, KeyFn, Acc, AddFn, ResultFn>>(
          key_fn, init, add, result);
    });
  }

  // Runs the keyed process function `fn` (see sluice/process_function.h): per-key state, timers
  // and side outputs. Out is deduced from fn's `process` member unless given.
  template <typename Out = void, typename F>
  auto process(F fn) {
    using O = std::conditional_t<std::is_void_v<Out>,
                                 typename detail::DeducedProcessOutput<F>::type, Out>;
    if constexpr (detail::check_process_function<F, T, Key, O>() && !std::is_void_v<O>) {
      KeyFn key_fn = key_fn_;
      return stream_.template add<O>("process", [key_fn, fn] {
        return std::make_unique<detail::KeyedProcessOperator<T, Key, KeyFn, F, O>>(key_fn, fn);
      });
    }
  }

  // Windows per key: `assigner` is Tumbling, Hopping, Session or GlobalCount (sluice/window.h);
  // configure the trigger and lateness, then pick a window function (count, sum, ..., process).
  template <typename Assigner>
  WindowedStream<T, KeyFn, Assigner> window(Assigner assigner) {
    return WindowedStream<T, KeyFn, Assigner>(stream_, key_fn_, assigner);
  }

  // Joins with another keyed stream (sluice/joins.h): rows of equal keys whose times satisfy
  // l.time + lower <= r.time <= l.time + upper; in the same tumbling window; or an enrichment
  // with the latest row per key of a changelog (the table).
  template <typename R, typename KeyR, typename F>
  auto interval_join(const KeyedStream<R, KeyR>& right, Duration lower, Duration upper, F fn,
                     JoinOptions options = {}) const;
  template <typename R, typename KeyR, typename Window, typename F>
  auto window_join(const KeyedStream<R, KeyR>& right, Window window, F fn,
                   JoinOptions options = {}) const;
  template <typename TRow, typename KeyT, typename F>
  auto lookup_join(const KeyedStream<TRow, KeyT>& table, F fn,
                   LookupJoinOptions options = {}) const;

  const KeyFn& key_fn() const { return key_fn_; }
  const Stream<T>& partitioned() const { return stream_; }

 private:
  Stream<T> stream_;
  KeyFn key_fn_;
};

}  // namespace sluice

// ---- member templates that need Environment ----
#include "sluice/environment.h"
#include "sluice/windowed_stream.h"

namespace sluice {

template <typename T>
template <typename Out>
Stream<Out> Stream<T>::add(std::string default_name,
                           std::function<std::unique_ptr<detail::Operator>()> make) const {
  detail::LogicalGraph& g = env_->graph();
  detail::NodeSpec node;
  node.name = std::move(default_name);
  node.parallelism = env_->options().parallelism;
  node.make_operator = std::move(make);
  int id = g.add_node(std::move(node));
  g.add_edge(detail::EdgeSpec{.from = node_,
                              .to = id,
                              .port = 0,
                              .from_port = from_port_,
                              .partitioning = partitioning_,
                              .make_exchange = exchange_});
  return Stream<Out>(env_, id);
}

template <typename T>
Stream<T>& Stream<T>::name(std::string name) {
  env_->graph().node(node_).name = std::move(name);
  return *this;
}

template <typename T>
Stream<T>& Stream<T>::uid(std::string uid) {
  env_->graph().node(node_).uid = std::move(uid);
  return *this;
}

template <typename T>
Stream<T>& Stream<T>::parallelism(int parallelism) {
  env_->graph().node(node_).parallelism = parallelism;
  return *this;
}

template <typename T>
Stream<T>& Stream<T>::disable_chaining() {
  env_->graph().node(node_).chain_with_upstream = false;
  return *this;
}

template <typename T>
template <typename KeyFn>
KeyedStream<T, KeyFn> Stream<T>::key_by(KeyFn key_fn) {
  static_assert(std::is_invocable_v<KeyFn, const T&>,
                "key_by: the key function must be callable as `Key fn(const T& row)`");
  return KeyedStream<T, KeyFn>(partition_by(key_fn), key_fn);
}

template <typename T>
template <typename... Others>
Stream<T> Stream<T>::union_with(const Others&... others) {
  static_assert((std::is_same_v<Others, Stream<T>> && ...),
                "union_with: every stream must have the same row type");
  Stream<T> u = add<T>("union", [] { return std::make_unique<detail::UnionOperator<T>>(); });
  (env_->graph().add_edge(detail::EdgeSpec{.from = others.node_,
                                           .to = u.node_,
                                           .port = 0,
                                           .from_port = others.from_port_,
                                           .partitioning = others.partitioning_,
                                           .make_exchange = others.exchange_}),
   ...);
  return u;
}

}  // namespace sluice

#include "sluice/joins.h"  // NOLINT: the join members, defined after Stream
