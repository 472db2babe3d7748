#include "runtime_benchmarks.h"
#include "bench_common.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "sluice/sluice.h"

namespace sluice::bench {
namespace {

// Five fields, 40 bytes: the tuple the issue and the published comparison use.
struct Event {
  uint64_t key;
  int64_t time;
  int64_t value;
  double price;
  uint32_t a;
  uint32_t b;
};
static_assert(sizeof(Event) == 40);

struct MakeEvent {
  uint64_t keys;
  Event operator()(uint64_t i) const {
    const uint64_t h = mix(i);
    return Event{h % keys,
                 static_cast<int64_t>(i),
                 static_cast<int64_t>(h >> 40),
                 static_cast<double>(h & 0xFFFF) * 0.01,
                 static_cast<uint32_t>(i),
                 static_cast<uint32_t>(h >> 7)};
  }
};

inline Event transform(const Event& e) {
  Event out = e;
  out.value = e.value * 3 + 1;
  out.price = e.price * 0.908;
  return out;
}
// What a sink does with a row: reads every field.
inline int64_t checksum(const Event& e) {
  return static_cast<int64_t>(e.key) + e.time + e.value + static_cast<int64_t>(e.price) +
         static_cast<int64_t>(e.a) + static_cast<int64_t>(e.b);
}
inline bool keep(const Event& e) { return (e.value & 3) != 0; }  // keeps ~3/4

// Adds a field of every row, per subtask; totals are checked against the hand loop.
struct SumSink {
  std::atomic<int64_t>* total;
  int64_t local = 0;
  void write(std::span<const Event> rows) {
    for (const Event& e : rows) local += checksum(e);
  }
  void finish() { total->fetch_add(local); }
};

struct Workload {
  std::string name;
  uint64_t events;
  uint64_t keys;
  // Builds the pipeline into env, with the checksum going to total.
  std::function<void(Environment&, std::atomic<int64_t>*, uint64_t events, uint64_t keys)> build;
  std::function<int64_t(uint64_t events, uint64_t keys)> hand_loop;
};

std::vector<Workload> workloads() {
  std::vector<Workload> w;
  w.push_back({"a source->sink", 200'000'000, 1,
               [](Environment& env, std::atomic<int64_t>* total, uint64_t n, uint64_t k) {
                 env.generate(n, MakeEvent{k}).sink(SumSink{total});
               },
               [](uint64_t n, uint64_t k) {
                 MakeEvent make{k};
                 int64_t sum = 0;
                 for (uint64_t i = 0; i < n; ++i) sum += checksum(make(i));
                 return sum;
               }});
  w.push_back({"b source->map->filter->sink", 200'000'000, 1,
               [](Environment& env, std::atomic<int64_t>* total, uint64_t n, uint64_t k) {
                 env.generate(n, MakeEvent{k})
                     .map([](const Event& e) { return transform(e); })
                     .filter([](const Event& e) { return keep(e); })
                     .sink(SumSink{total});
               },
               [](uint64_t n, uint64_t k) {
                 MakeEvent make{k};
                 int64_t sum = 0;
                 for (uint64_t i = 0; i < n; ++i) {
                   Event e = transform(make(i));
                   if (keep(e)) sum += checksum(e);
                 }
                 return sum;
               }});
  auto keyed_count = [](Environment& env, std::atomic<int64_t>* total, uint64_t n, uint64_t k) {
    env.generate(n, MakeEvent{k})
        .key_by([](const Event& e) { return e.key; })
        .aggregate(
            int64_t{0}, [](int64_t& c, const Event&) { ++c; },
            [](uint64_t key, int64_t c) { return std::make_pair(key, c); })
        .sink(CountSink{total});
  };
  auto keyed_loop = [](uint64_t n, uint64_t k) {
    MakeEvent make{k};
    absl::flat_hash_map<uint64_t, int64_t> counts;
    int64_t sum = 0;
    for (uint64_t i = 0; i < n; ++i) sum += ++counts[make(i).key];
    return sum;
  };
  w.push_back({"c keyed count 10k keys", 100'000'000, 10'000, keyed_count, keyed_loop});
  w.push_back({"c keyed count 1M keys", 50'000'000, 1'000'000, keyed_count, keyed_loop});
  w.push_back({"d hash exchange", 100'000'000, 1'000'000,
               [](Environment& env, std::atomic<int64_t>* total, uint64_t n, uint64_t k) {
                 env.generate(n, MakeEvent{k})
                     .partition_by([](const Event& e) { return e.key; })
                     .map([](const Event& e) { return transform(e); })
                     .disable_chaining()
                     .sink(SumSink{total});
               },
               [](uint64_t n, uint64_t k) {
                 MakeEvent make{k};
                 int64_t sum = 0;
                 for (uint64_t i = 0; i < n; ++i) {
                   Event e = make(i);
                   // The same per-row work without the exchange: hash the key, transform.
                   sum += checksum(transform(e)) +
                          static_cast<int64_t>(absl::Hash<uint64_t>{}(e.key) & 0);
                 }
                 return sum;
               }});
  return w;
}

}  // namespace

int run_runtime_benchmarks(const BenchOptions& options) {
  std::printf("Sluice runtime benchmarks: events of 5 fields (40 bytes), generated in process.\n");
  std::printf("Best of %d runs each; ratio = engine events/s / hand-written loop events/s.\n\n",
              options.repetitions);
  std::printf("%-30s %4s %12s %12s %12s %7s\n", "workload", "par", "events", "engine ev/s",
              "hand ev/s", "ratio");
  int failures = 0;
  for (const Workload& w : workloads()) {
    if (!options.only.empty() && w.name.find(options.only) == std::string::npos) continue;
    const uint64_t n = std::max<uint64_t>(1, static_cast<uint64_t>(w.events * options.scale));
    failures += measure_workload<int64_t>(
        w.name, n, options.repetitions, options.max_parallelism,
        [&] { return w.hand_loop(n, w.keys); },
        [&](Environment& env, std::atomic<int64_t>* total) { w.build(env, total, n, w.keys); });
  }
  std::printf("\nReproduce: build/release/src/cli/sluice bench --scale %.2f --repetitions %d%s%s\n",
              options.scale, options.repetitions, options.only.empty() ? "" : " --only ",
              options.only.c_str());
  return failures == 0 ? 0 : 1;
}

}  // namespace sluice::bench
