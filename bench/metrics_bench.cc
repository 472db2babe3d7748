// Metrics on against metrics off, in one run: the cost of collecting the figures the metrics
// endpoint, the REST API and the status line serve (per-batch counters, slice time accounting,
// sink latency histograms) and of serving them (the endpoint, its sampler once a second).
//
// Each workload runs at parallelism 1 and 2 on two worker threads, alternately with
// `metrics.address=off` and with the endpoint on a loopback port (scraped by nobody; the sampler
// still reads every counter once a second), `repetitions` times each; the best run of each side is
// kept and the ratio on/off printed, by wall time and by the process's CPU time; and the median of
// the ratios of runs next to each other in time (off first and on first in turn), which drifting
// machine load affects least.
// Checksums must agree. The bar: on/off >= 0.97.
//
//   build/release/bench/metrics_bench [scale = 0.25] [repetitions = 15]
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "bench_common.h"
#include "sluice/sluice.h"

namespace sluice::bench {
namespace {

using Event = KeyedEvent;
using MakeEvent = MakeKeyedEvent;

// Sums a checksum of every result row of type R per subtask.
template <typename R, typename Fn>
struct SumSink {
  std::atomic<uint64_t>* total;
  Fn checksum;
  uint64_t local = 0;
  void write(std::span<const R> rows) {
    for (const R& r : rows) local += checksum(r);
  }
  void finish() { total->fetch_add(local); }
};
template <typename R, typename Fn>
SumSink<R, Fn> sum_sink(std::atomic<uint64_t>* total, Fn fn) {
  return SumSink<R, Fn>{total, fn};
}

struct Workload {
  std::string name;
  uint64_t events;
  std::function<void(Environment&, std::atomic<uint64_t>*, uint64_t)> build;
};

std::vector<Workload> workloads() {
  std::vector<Workload> w;
  w.push_back({"keyed tumbling window count", 50'000'000,
               [](Environment& env, std::atomic<uint64_t>* total, uint64_t n) {
                 using R = WindowResult<uint64_t, int64_t>;
                 env.generate(n, MakeEvent{10'000})
                     .assign_timestamps([](const Event& e) { return e.time; }, 0)
                     .key_by([](const Event& e) { return e.key; })
                     .window(Tumbling{1000})
                     .count()
                     .sink(sum_sink<R>(total, [](const R& r) {
                       return mix(r.key ^ static_cast<uint64_t>(r.window_end)) +
                              static_cast<uint64_t>(r.value);
                     }));
               }});
  w.push_back({"map -> filter", 200'000'000,
               [](Environment& env, std::atomic<uint64_t>* total, uint64_t n) {
                 env.generate(n, MakeEvent{1'000'000})
                     .map([](Event e) {
                       e.value *= 3;
                       return e;
                     })
                     .filter([](const Event& e) { return (e.key & 3) != 0; })
                     .sink(sum_sink<Event>(total, [](const Event& e) {
                       return e.key + static_cast<uint64_t>(e.value);
                     }));
               }});
  w.push_back({"keyed running count", 100'000'000,
               [](Environment& env, std::atomic<uint64_t>* total, uint64_t n) {
                 using R = std::pair<uint64_t, int64_t>;
                 env.generate(n, MakeEvent{10'000})
                     .key_by([](const Event& e) { return e.key; })
                     .aggregate(
                         int64_t{0}, [](int64_t& c, const Event&) { ++c; },
                         [](uint64_t k, int64_t c) { return R(k, c); })
                     .sink(sum_sink<R>(total, [](const R& r) {
                       return r.first + static_cast<uint64_t>(r.second);
                     }));
               }});
  return w;
}

struct Side {
  double best = 1e30;      // wall seconds
  double best_cpu = 1e30;  // CPU seconds of the whole process (workers, sampler, server)
  double last = 0;         // wall seconds of the latest run
  uint64_t checksum = 0;
  int failures = 0;
};

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

void run_once(const Workload& w, uint64_t events, int parallelism, bool metrics, Side& side) {
  JobOptions options;
  options.parallelism = parallelism;
  options.workers = 2;
  options.progress = Progress::kOff;
  options.metrics_address = metrics ? "127.0.0.1:19249" : "off";
  Environment env(options);
  std::atomic<uint64_t> total{0};
  w.build(env, &total, events);
  Status s;
  const double cpu_before = cpu_seconds();
  side.last = seconds_of([&] { s = env.execute(w.name); });
  side.best = std::min(side.best, side.last);
  side.best_cpu = std::min(side.best_cpu, cpu_seconds() - cpu_before);
  if (!s.is_ok()) {
    std::printf("%s: FAILED: %s\n", w.name.c_str(), s.to_string().c_str());
    ++side.failures;
  }
  if (side.checksum != 0 && side.checksum != total.load()) ++side.failures;
  side.checksum = total.load();
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  using namespace sluice::bench;
  if (argc > 1 && std::string(argv[1]) == "one") {
    // One run of one side, for an instruction count (bench/metrics_instructions.sh):
    //   metrics_bench one <workload 0..2> <parallelism> <on|off> <events>
    if (argc != 6) {
      std::fprintf(stderr, "usage: metrics_bench one <workload> <parallelism> <on|off> <events>\n");
      return 2;
    }
    const std::vector<Workload> all = workloads();
    const auto index = static_cast<size_t>(std::atoi(argv[2]));
    if (index >= all.size()) return 2;
    Side side;
    run_once(all[index], std::strtoull(argv[5], nullptr, 10), std::atoi(argv[3]),
             std::string(argv[4]) == "on", side);
    std::printf("%s: checksum %llu\n", all[index].name.c_str(),
                static_cast<unsigned long long>(side.checksum));
    return side.failures == 0 ? 0 : 1;
  }
  const double scale = argc > 1 ? std::atof(argv[1]) : 0.25;
  const int repetitions = argc > 2 ? std::atoi(argv[2]) : 15;
  std::printf("metrics on vs off: best of %d paired runs each (order alternating); 2 workers\n\n",
              repetitions);
  std::printf("%-30s %4s %12s %12s %12s %7s %13s %13s %7s %7s\n", "workload", "par", "events",
              "off ev/s", "on ev/s", "on/off", "off ev/cpu-s", "on ev/cpu-s", "on/off", "median");
  int failures = 0;
  double worst = 1e30, worst_cpu = 1e30, worst_median = 1e30;
  for (const Workload& w : workloads()) {
    const auto events = static_cast<uint64_t>(static_cast<double>(w.events) * scale);
    for (int par = 1; par <= 2; ++par) {
      Side off, on;
      std::vector<double> paired;  // off/on of runs next to each other in time
      for (int r = 0; r < repetitions; ++r) {
        // Which side runs first alternates, so a bias of the first or second run of a pair
        // (caches, clock ramp, the previous run's threads winding down) cancels out.
        const bool off_first = r % 2 == 0;
        run_once(w, events, par, !off_first, off_first ? off : on);
        run_once(w, events, par, off_first, off_first ? on : off);
        paired.push_back(off.last / on.last);
      }
      std::sort(paired.begin(), paired.end());
      const double median = paired[paired.size() / 2];
      worst_median = std::min(worst_median, median);
      if (off.checksum != on.checksum) ++failures;
      failures += off.failures + on.failures;
      const double ratio = off.best / on.best;
      const double cpu_ratio = off.best_cpu / on.best_cpu;
      worst = std::min(worst, ratio);
      worst_cpu = std::min(worst_cpu, cpu_ratio);
      const auto n = static_cast<double>(events);
      std::printf("%-30s %4d %12llu %11.1fM %11.1fM %7.3f %12.1fM %12.1fM %7.3f %7.3f\n",
                  w.name.c_str(), par, static_cast<unsigned long long>(events), n / off.best / 1e6,
                  n / on.best / 1e6, ratio, n / off.best_cpu / 1e6, n / on.best_cpu / 1e6,
                  cpu_ratio, median);
    }
  }
  std::printf(
      "\nworst on/off ratio: %.3f best-of by wall time, %.3f best-of by CPU time, %.3f median of "
      "paired runs (bar: 0.97)%s\n",
      worst, worst_cpu, worst_median, failures ? "; FAILURES" : "");
  std::printf("command: build/release/bench/metrics_bench %g %d\n", scale, repetitions);
  return failures == 0 ? 0 : 1;
}
