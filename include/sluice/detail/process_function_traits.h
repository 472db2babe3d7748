// Compile-time reading of a keyed process function's members: the output row type deduced from
// `process`, and which optional members exist. KeyedStream::process turns a mismatch into a
// static_assert naming the expected signature.
#pragma once

#include <type_traits>

#include "sluice/detail/operators.h"
#include "sluice/process_function.h"

namespace sluice::detail {

template <typename M>
struct ProcessMember {
  using Out = void;
};
template <typename C, typename A, typename Ctx, typename O>
struct ProcessMember<void (C::*)(A, Ctx, Collector<O>&)> {
  using Out = O;
};
template <typename C, typename A, typename Ctx, typename O>
struct ProcessMember<void (C::*)(A, Ctx, Collector<O>&) const> {
  using Out = O;
};
template <typename C, typename A, typename Ctx, typename O>
struct ProcessMember<void (C::*)(A, Ctx, Collector<O>&) noexcept> {
  using Out = O;
};

// The Out of `void F::process(const T&, ProcessContext<K>&, Collector<Out>&)`; void when F has
// no single non-template `process`.
template <typename F>
struct DeducedProcessOutput {
  using type = void;
};
template <typename F>
requires requires { &F::process; }
struct DeducedProcessOutput<F> {
  using type = typename ProcessMember<decltype(&F::process)>::Out;
};

template <typename F, typename T, typename K, typename Out>
inline constexpr bool kHasProcess = requires(F& f, const T& row, ProcessContext<K>& ctx,
                                             Collector<Out>& out) {
  f.process(row, ctx, out);
};

template <typename F, typename K, typename Out>
inline constexpr bool kHasOnTimer = requires(F& f, Timestamp t, TimerContext<K>& ctx,
                                             Collector<Out>& out) {
  f.on_timer(t, ctx, out);
};

template <typename F>
inline constexpr bool kHasOpen = requires(F& f, RuntimeContext& ctx) {
  f.open(ctx);
};

template <typename F>
inline constexpr bool kHasClose = requires(F& f, RuntimeContext& ctx) {
  f.close(ctx);
};

// Checks F's members for KeyedStream::process; true when F is usable (each failed check has
// already reported itself).
template <typename F, typename T, typename K, typename Out>
constexpr bool check_process_function() {
  static_assert(std::is_copy_constructible_v<F>,
                "process: the function object must be copyable (one copy per subtask)");
  static_assert(!std::is_void_v<Out>,
                "process: cannot deduce Out from F::process (missing, a template or overloaded); "
                "write `void process(const T& row, sluice::ProcessContext<Key>& ctx, "
                "sluice::Collector<Out>& out)` or call process<Out>(fn)");
  if constexpr (!std::is_void_v<Out>) {
    static_assert(kHasProcess<F, T, K, Out>,
                  "process: F must have `void process(const T& row, sluice::ProcessContext<Key>& "
                  "ctx, sluice::Collector<Out>& out)`, with T the row type and Key the key type");
    static_assert(
        kHasOnTimer<F, K, Out> || !requires { &F::on_timer; },
        "process: F::on_timer must be `void on_timer(sluice::Timestamp t, "
        "sluice::TimerContext<Key>& ctx, sluice::Collector<Out>& out)`");
  }
  static_assert(
      kHasOpen<F> || !requires { &F::open; },
      "process: F::open must be `void open(sluice::RuntimeContext& ctx)`");
  static_assert(
      kHasClose<F> || !requires { &F::close; },
      "process: F::close must be `void close(sluice::RuntimeContext& ctx)`");
  return true;
}

}  // namespace sluice::detail
