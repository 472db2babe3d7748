// Window functions: how a window's rows become its result.
//
// Every window function is an aggregate with
//   using Acc = ...;                       the per-(key, window) state: a few machine words for
//                                          the built-ins, the row list for process()
//   Acc create() const;
//   void add(Acc& acc, const In& in) const;
//   void merge(Acc& into, const Acc& from) const;   (session merges, hopping panes)
//   Out result(const Key& key, const Acc& acc, const Window& w, Firing firing) const;
// The window state classes (pane_windows.h, session_windows.h, count_windows.h) know only
// create/add/merge; the operator calls result() when a window fires. `In` is whatever the caller
// feeds: a typed row here, a (chunk, row index) reference for the SQL layer.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/window.h"

namespace sluice::detail {

template <typename Key, typename Value>
WindowResult<Key, Value> make_result(const Key& key, const Window& w, Value v, Firing f) {
  return WindowResult<Key, Value>{key, w.start, w.end, std::move(v), f};
}

template <typename Key>
struct CountAgg {
  using Acc = int64_t;
  Acc create() const { return 0; }
  template <typename In>
  void add(Acc& acc, const In&) const {
    ++acc;
  }
  void merge(Acc& into, const Acc& from) const { into += from; }
  WindowResult<Key, int64_t> result(const Key& k, const Acc& acc, const Window& w, Firing f) const {
    return make_result(k, w, acc, f);
  }
};

template <typename Key, typename In, typename F>
using FieldOf = std::decay_t<std::invoke_result_t<F, const In&>>;

template <typename Key, typename In, typename F>
struct SumAgg {
  using Acc = FieldOf<Key, In, F>;
  F field;
  Acc create() const { return Acc{}; }
  void add(Acc& acc, const In& in) const { acc += field(in); }
  void merge(Acc& into, const Acc& from) const { into += from; }
  WindowResult<Key, Acc> result(const Key& k, const Acc& acc, const Window& w, Firing f) const {
    return make_result(k, w, acc, f);
  }
};

template <typename Key, typename In, typename F>
struct MinAgg {
  using Acc = FieldOf<Key, In, F>;
  F field;
  Acc create() const { return std::numeric_limits<Acc>::max(); }
  void add(Acc& acc, const In& in) const {
    const Acc v = field(in);
    if (v < acc) acc = v;
  }
  void merge(Acc& into, const Acc& from) const {
    if (from < into) into = from;
  }
  WindowResult<Key, Acc> result(const Key& k, const Acc& acc, const Window& w, Firing f) const {
    return make_result(k, w, acc, f);
  }
};

template <typename Key, typename In, typename F>
struct MaxAgg {
  using Acc = FieldOf<Key, In, F>;
  F field;
  Acc create() const { return std::numeric_limits<Acc>::lowest(); }
  void add(Acc& acc, const In& in) const {
    const Acc v = field(in);
    if (acc < v) acc = v;
  }
  void merge(Acc& into, const Acc& from) const {
    if (into < from) into = from;
  }
  WindowResult<Key, Acc> result(const Key& k, const Acc& acc, const Window& w, Firing f) const {
    return make_result(k, w, acc, f);
  }
};

template <typename Key, typename In, typename F>
struct AvgAgg {
  using Acc = Average;
  F field;
  Acc create() const { return Acc{}; }
  void add(Acc& acc, const In& in) const {
    acc.sum += static_cast<double>(field(in));
    ++acc.count;
  }
  void merge(Acc& into, const Acc& from) const {
    into.sum += from.sum;
    into.count += from.count;
  }
  WindowResult<Key, double> result(const Key& k, const Acc& acc, const Window& w, Firing f) const {
    return make_result(k, w, acc.value(), f);
  }
};

// A user aggregate: `Acc create()`, `void add(Acc&, const T&)`, `void merge(Acc&, const Acc&)`,
// `Out result(const Key&, const Acc&, const Window&)` (or with a trailing `Firing`).
template <typename Key, typename In, typename U>
struct UserAgg {
  using Acc = std::decay_t<decltype(std::declval<const U&>().create())>;
  U user;
  Acc create() const { return user.create(); }
  void add(Acc& acc, const In& in) const { user.add(acc, in); }
  void merge(Acc& into, const Acc& from) const { user.merge(into, from); }
  auto result(const Key& k, const Acc& acc, const Window& w, Firing f) const {
    if constexpr (std::is_invocable_v<decltype(&U::result), const U&, const Key&, const Acc&,
                                      const Window&, Firing>) {
      return user.result(k, acc, w, f);
    } else {
      (void)f;
      return user.result(k, acc, w);
    }
  }
};

// Full-window function: keeps every row; `fn(key, window, rows)` (optionally with a trailing
// `Firing`) returns the result. Rows are in arrival order (per subtask); merged sessions
// concatenate. This is the one window function whose state grows with the rows.
template <typename Key, typename In, typename F>
struct ProcessAgg {
  using Acc = std::vector<In>;
  F fn;
  Acc create() const { return Acc{}; }
  void add(Acc& acc, const In& in) const { acc.push_back(in); }
  void merge(Acc& into, const Acc& from) const {
    into.insert(into.end(), from.begin(), from.end());
  }
  auto result(const Key& k, const Acc& acc, const Window& w, Firing f) const {
    std::span<const In> rows(acc.data(), acc.size());
    if constexpr (std::is_invocable_v<const F&, const Key&, const Window&, std::span<const In>,
                                      Firing>) {
      return fn(k, w, rows, f);
    } else {
      (void)f;
      return fn(k, w, rows);
    }
  }
};

// Counts the rows of a (key, window) beside another aggregate's state (for CountTrigger).
template <typename Agg>
struct CountingAgg {
  struct Acc {
    typename Agg::Acc inner;
    int64_t rows = 0;
  };
  Agg agg;
  Acc create() const { return Acc{agg.create(), 0}; }
  template <typename In>
  void add(Acc& acc, const In& in) const {
    agg.add(acc.inner, in);
    ++acc.rows;
  }
  void merge(Acc& into, const Acc& from) const {
    agg.merge(into.inner, from.inner);
    into.rows += from.rows;
  }
  template <typename Key>
  auto result(const Key& k, const Acc& acc, const Window& w, Firing f) const {
    return agg.result(k, acc.inner, w, f);
  }
};

template <typename Agg, typename Key>
using ResultOf = decltype(std::declval<const Agg&>().result(
    std::declval<const Key&>(), std::declval<const typename Agg::Acc&>(), Window{},
    Firing::kOnTime));

}  // namespace sluice::detail
