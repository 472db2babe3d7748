// Window benchmarks: keyed windows through the engine at parallelism 1 and 2, against a
// hand-written single-threaded loop doing the same work in the same process (same results,
// checked by a checksum). Event time: 1M events per event-second, timestamp(i) = i / 1000 ms.
//
//   build/bench/window_bench [scale] [repetitions] [only]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "bench_common.h"
#include "sluice/detail/pane_windows.h"
#include "sluice/detail/session_windows.h"
#include "sluice/detail/window_functions.h"
#include "sluice/sluice.h"

namespace sluice::bench {
namespace {

using Event = KeyedEvent;
using MakeEvent = MakeKeyedEvent;

inline uint64_t result_checksum(uint64_t key, Timestamp end, int64_t value) {
  return mix(key ^ static_cast<uint64_t>(end) * 31) + static_cast<uint64_t>(value);
}

template <typename R>
struct ChecksumSink {
  std::atomic<uint64_t>* total;
  uint64_t local = 0;
  void write(std::span<const R> rows) {
    for (const R& r : rows) local += result_checksum(r.key, r.window_end, r.value);
  }
  void finish() { total->fetch_add(local); }
};

using CountResult = WindowResult<uint64_t, int64_t>;

struct Workload {
  std::string name;
  uint64_t events;
  MakeEvent make;
  std::function<void(Environment&, std::atomic<uint64_t>*, uint64_t, MakeEvent)> build;
  std::function<uint64_t(uint64_t, MakeEvent)> hand_loop;
};

auto keyed(Environment& env, uint64_t n, MakeEvent make) {
  return env.generate(n, make)
      .assign_timestamps([](const Event& e) { return e.time; }, 0)
      .key_by([](const Event& e) { return e.key; });
}

// Hand loop of a tumbling count: one map per window, emitted when time passes its end.
uint64_t tumbling_count_loop(uint64_t n, MakeEvent make) {
  absl::flat_hash_map<uint64_t, int64_t> counts;
  uint64_t sum = 0;
  Timestamp window = 0;
  auto flush = [&] {
    for (auto& [k, c] : counts) sum += result_checksum(k, window + 1000, c);
    counts.clear();
  };
  for (uint64_t i = 0; i < n; ++i) {
    const Event e = make(i);
    const Timestamp w = e.time - e.time % 1000;
    if (w != window) {
      flush();
      window = w;
    }
    ++counts[e.key];
  }
  flush();
  return sum;
}

// Hand loop of a hopping (10 s, 1 s) sum: 1-second panes merged per window, as the engine does.
uint64_t hopping_sum_loop(uint64_t n, MakeEvent make) {
  std::vector<absl::flat_hash_map<uint64_t, int64_t>> panes;  // by second
  uint64_t sum = 0;
  for (uint64_t i = 0; i < n; ++i) {
    const Event e = make(i);
    const size_t p = static_cast<size_t>(e.time / 1000);
    if (panes.size() <= p) panes.resize(p + 1);
    panes[p][e.key] += e.value;
  }
  absl::flat_hash_map<uint64_t, int64_t> window;
  const int64_t last = static_cast<int64_t>(panes.size()) - 1;
  for (int64_t end_pane = 0; end_pane <= last + 9; ++end_pane) {  // window (end_pane-9 .. end_pane)
    window.clear();
    for (int64_t p = std::max<int64_t>(0, end_pane - 9); p <= std::min(end_pane, last); ++p) {
      for (auto& [k, v] : panes[static_cast<size_t>(p)]) window[k] += v;
    }
    for (auto& [k, v] : window) sum += result_checksum(k, (end_pane + 1) * 1000, v);
  }
  return sum;
}

// Hand loop of session counts (gap 1 s) over in-order events.
uint64_t session_count_loop(uint64_t n, MakeEvent make) {
  struct S {
    Timestamp last;
    int64_t count;
  };
  absl::flat_hash_map<uint64_t, S> open;
  uint64_t sum = 0;
  for (uint64_t i = 0; i < n; ++i) {
    const Event e = make(i);
    auto [it, inserted] = open.try_emplace(e.key, S{e.time, 0});
    if (!inserted && e.time >= it->second.last + 1000) {
      sum += result_checksum(e.key, it->second.last + 1000, it->second.count);
      it->second.count = 0;
    }
    it->second.last = e.time;
    ++it->second.count;
  }
  for (auto& [k, s] : open) sum += result_checksum(k, s.last + 1000, s.count);
  return sum;
}

std::vector<Workload> workloads() {
  std::vector<Workload> w;
  auto tumbling = [](Environment& env, std::atomic<uint64_t>* total, uint64_t n, MakeEvent m) {
    keyed(env, n, m).window(Tumbling{1000}).count().sink(ChecksumSink<CountResult>{total});
  };
  w.push_back({"tumbling count 10k keys", 100'000'000, {10'000}, tumbling, tumbling_count_loop});
  w.push_back({"tumbling count 1M keys", 50'000'000, {1'000'000}, tumbling, tumbling_count_loop});
  w.push_back({"hopping 10s/1s sum 10k keys",
               100'000'000,
               {10'000},
               [](Environment& env, std::atomic<uint64_t>* total, uint64_t n, MakeEvent m) {
                 keyed(env, n, m)
                     .window(Hopping{10'000, 1000})
                     .sum([](const Event& e) { return e.value; })
                     .sink(ChecksumSink<CountResult>{total});
               },
               hopping_sum_loop});
  w.push_back(
      {"session count gap 1s",
       100'000'000,
       {0, 10'000},
       [](Environment& env, std::atomic<uint64_t>* total, uint64_t n, MakeEvent m) {
         keyed(env, n, m).window(Session{1000}).count().sink(ChecksumSink<CountResult>{total});
       },
       session_count_loop});
  return w;
}

// Bytes of window state per key: one window's table of `keys` entries, as the operator holds it.
template <typename State>
double bytes_per_key(State state, uint64_t keys) {
  auto ignore = [](auto&&...) {};
  for (uint64_t k = 0; k < keys; ++k) {
    Event e{k, 0, 1};
    state.add(detail::Prehashed<uint64_t>{&e.key, detail::hash_key(e.key)}, 0, e, ignore);
  }
  return static_cast<double>(state.state_bytes()) / static_cast<double>(keys);
}

int run(double scale, int repetitions, const std::string& only) {
  std::printf(
      "Sluice window benchmarks: 1M events per event-second (timestamp(i) = i / 1000 ms),\n");
  std::printf(
      "events of 3 fields generated in process; best of %d; ratio = engine / hand loop.\n\n",
      repetitions);
  std::printf("%-30s %4s %12s %12s %12s %7s\n", "workload", "par", "events", "engine ev/s",
              "hand ev/s", "ratio");
  int failures = 0;
  for (const Workload& w : workloads()) {
    if (!only.empty() && w.name.find(only) == std::string::npos) continue;
    const uint64_t n = std::max<uint64_t>(1000, static_cast<uint64_t>(w.events * scale));
    failures += measure_workload<uint64_t>(
        w.name, n, repetitions, 2, [&] { return w.hand_loop(n, w.make); },
        [&](Environment& env, std::atomic<uint64_t>* total) { w.build(env, total, n, w.make); });
  }
  using Count = detail::CountAgg<uint64_t>;
  using Sum = detail::SumAgg<uint64_t, Event, int64_t (*)(const Event&)>;
  std::printf("\nState per key (one window's table, slots + control bytes + table header):\n");
  for (uint64_t keys : {10'000ull, 1'000'000ull}) {
    std::printf("  tumbling count, %7llu keys: %5.1f bytes/key (key 8 + count 8 per slot)\n",
                static_cast<unsigned long long>(keys),
                bytes_per_key(detail::PaneWindows<uint64_t, Count>(Count{}, 1000, 1000, 0), keys));
  }
  std::printf("  hopping sum pane,  %7llu keys: %5.1f bytes/key per 1 s pane (10 panes live)\n",
              10'000ull,
              bytes_per_key(detail::PaneWindows<uint64_t, Sum>(
                                Sum{[](const Event& e) { return e.value; }}, 10'000, 1000, 0),
                            10'000));
  std::printf("  session count,     %7llu keys: %5.1f bytes/key (session 40 + timer 24)\n",
              10'000ull,
              bytes_per_key(detail::SessionWindows<uint64_t, Count>(Count{}, 1000, 0), 10'000));
  std::printf("\nReproduce: build/bench/window_bench %.2f %d%s%s\n", scale, repetitions,
              only.empty() ? "" : " ", only.c_str());
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  const double scale = argc > 1 ? std::atof(argv[1]) : 1.0;
  const int repetitions = argc > 2 ? std::atoi(argv[2]) : 3;
  const std::string only = argc > 3 ? argv[3] : "";
  return sluice::bench::run(scale, repetitions, only);
}
