// Keyed state benchmark: a keyed process function counting rows per key in a ValueState<int64_t>,
// against a hand-written loop doing the same with absl::flat_hash_map, in the same process.
//   build/bench/state_bench [scale] [repetitions]
// Prints events/s of both, their ratio, and the bytes of state per key (key directory + table).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <span>

#include "absl/container/flat_hash_map.h"
#include "bench_common.h"
#include "sluice/sluice.h"

using sluice::bench::CountSink;
using sluice::bench::mix;
using sluice::bench::seconds_of;

namespace {

using sluice::Collector;
using sluice::ProcessContext;
using sluice::RuntimeContext;
using sluice::ValueState;

struct Event {
  uint64_t key;
  int64_t time;
  int64_t value;
  double price;
  uint32_t a;
  uint32_t b;
};

struct MakeEvent {
  uint64_t keys;
  Event operator()(uint64_t i) const {
    const uint64_t h = mix(i);
    return Event{h % keys, static_cast<int64_t>(i), static_cast<int64_t>(h >> 40), 0.0, 0, 0};
  }
};

// Summed state sizes of the subtasks, reported from close().
struct StateTotals {
  std::mutex mutex;
  int64_t keys = 0;
  int64_t bytes = 0;
};

struct CountPerKey {
  std::shared_ptr<StateTotals> totals;
  ValueState<int64_t> count;
  void open(RuntimeContext& ctx) { count = ctx.state<ValueState<int64_t>>("count"); }
  void process(const Event&, ProcessContext<uint64_t>& ctx,
               Collector<std::pair<uint64_t, int64_t>>& out) {
    const int64_t n = count.value_or(0) + 1;
    count.update(n);
    out.emit({ctx.key(), n});
  }
  void close(RuntimeContext& ctx) {
    const sluice::OperatorStateStats s = ctx.state_stats();
    std::lock_guard<std::mutex> lock(totals->mutex);
    totals->keys += s.keys;
    totals->bytes += s.bytes;
  }
};

}  // namespace

int main(int argc, char** argv) {
  const double scale = argc > 1 ? std::atof(argv[1]) : 1.0;
  const int repetitions = argc > 2 ? std::atoi(argv[2]) : 3;
  std::printf("Sluice keyed state benchmark: count per key in ValueState<int64_t>.\n");
  std::printf("command: %s %g %d\n", argv[0], scale, repetitions);
  std::printf("Best of %d; ratio = engine events/s / hand loop (absl::flat_hash_map) events/s.\n\n",
              repetitions);
  std::printf("%-10s %4s %12s %12s %12s %7s %12s %14s\n", "keys", "par", "events", "engine ev/s",
              "hand ev/s", "ratio", "state B/key", "hand map B/key");
  int failures = 0;
  for (uint64_t keys : {uint64_t{10'000}, uint64_t{1'000'000}}) {
    const uint64_t n = std::max<uint64_t>(1, static_cast<uint64_t>(30'000'000 * scale));
    int64_t expected = 0;
    double hand = 1e30;
    double hand_bytes_per_key = 0;
    for (int r = 0; r < repetitions; ++r) {
      hand = std::min(hand, seconds_of([&] {
                        MakeEvent make{keys};
                        absl::flat_hash_map<uint64_t, int64_t> counts;
                        int64_t sum = 0;
                        for (uint64_t i = 0; i < n; ++i) sum += ++counts[make(i).key];
                        expected = sum;
                        hand_bytes_per_key =
                            static_cast<double>(counts.capacity() *
                                                (sizeof(std::pair<uint64_t, int64_t>) + 1)) /
                            static_cast<double>(counts.size());
                      }));
    }
    for (int par = 1; par <= 2; ++par) {
      double best = 1e30;
      double bytes_per_key = 0;
      for (int r = 0; r < repetitions; ++r) {
        sluice::JobOptions jo;
        jo.parallelism = par;
        jo.workers = 2;
        sluice::Environment env(jo);
        std::atomic<int64_t> total{0};
        auto totals = std::make_shared<StateTotals>();
        env.generate(n, MakeEvent{keys})
            .key_by([](const Event& e) { return e.key; })
            .process(CountPerKey{totals, {}})
            .sink(CountSink{&total});
        sluice::Status s;
        best = std::min(best, seconds_of([&] { s = env.execute("state bench"); }));
        if (!s.is_ok() || total.load() != expected) {
          std::printf("keys=%llu p=%d: FAILED (%s, checksum %lld vs %lld)\n",
                      static_cast<unsigned long long>(keys), par, s.to_string().c_str(),
                      static_cast<long long>(total.load()), static_cast<long long>(expected));
          ++failures;
        }
        bytes_per_key = static_cast<double>(totals->bytes) / static_cast<double>(totals->keys);
      }
      const double rate = static_cast<double>(n) / best;
      const double hand_rate = static_cast<double>(n) / hand;
      std::printf("%-10llu %4d %12llu %11.1fM %11.1fM %7.2f %12.1f %14.1f\n",
                  static_cast<unsigned long long>(keys), par, static_cast<unsigned long long>(n),
                  rate / 1e6, hand_rate / 1e6, rate / hand_rate, bytes_per_key, hand_bytes_per_key);
    }
  }
  return failures == 0 ? 0 : 1;
}
