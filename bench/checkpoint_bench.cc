// Checkpoint costs:
//   1. throughput of the keyed window workload with a checkpoint every second vs none, measured
//      in the same run (alternating, best of `repetitions` each), and their ratio;
//   2. a checkpoint of ~100 MB of in-memory keyed state: duration, stored size, and the pause of
//      the tasks (alignment + synchronous part);
//   3. the same for a keyed process function's ValueState (the state tables and key directory of
//      the in-memory backend, cut by copy on write per page of 4,096 key slots);
//   4. what the copy-on-write cut costs the task afterwards: a pass of updates over every key of
//      such a table right after a cut (each page copied once) against the same pass without one.
//
//   build/release/bench/checkpoint_bench [events] [repetitions]
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "bench_common.h"
#include "sluice/detail/cow_map.h"

namespace sluice::bench {
namespace {

struct Event {
  uint64_t key;
  int64_t time;
};

struct Run {
  double seconds = 0;
  JobStats stats;
  int64_t checksum = 0;
};

// Runs the job built in `env`, timing it.
Run execute(Environment& env, const std::atomic<int64_t>& total, const char* name) {
  Run run;
  Status s;
  run.seconds = seconds_of([&] { s = env.execute(name); });
  if (!s.is_ok()) std::printf("FAILED: %s\n", s.to_string().c_str());
  run.stats = env.stats();
  run.checksum = total.load();
  return run;
}

std::string scratch_dir(const char* name) {
  const auto dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(dir);
  return dir.string();
}

// generator -> event time -> key_by -> tumbling 1 s count -> sink; 100,000 keys.
Run keyed_windows(uint64_t events, bool checkpoints) {
  JobOptions o;
  o.parallelism = 2;
  o.workers = 2;
  if (checkpoints) {
    (void)o.set("checkpoint.dir", scratch_dir("sluice-bench-windows"));
    (void)o.set("checkpoint.interval", "1s");
  }
  Environment env(o);
  std::atomic<int64_t> total{0};
  env.generate(events,
               [](uint64_t i) {
                 return Event{mix(i) % 100'000, static_cast<int64_t>(i / 10)};
               })
      .assign_timestamps([](const Event& e) { return e.time; }, 0)
      .key_by([](const Event& e) { return e.key; })
      .window(Tumbling{1000})
      .count()
      .map([](const WindowResult<uint64_t, int64_t>& r) { return std::pair(r.key, r.value); })
      .sink(CountSink{&total});
  return execute(env, total, "keyed windows");
}

JobOptions one_subtask_checkpointing(const char* dir) {
  JobOptions o;
  o.parallelism = 1;
  o.workers = 2;
  (void)o.set("checkpoint.dir", scratch_dir(dir));
  (void)o.set("checkpoint.interval", "1s");
  return o;
}

// `events` events over `keys` keys, keyed.
auto keyed_events(Environment& env, uint64_t events, uint64_t keys) {
  return env.generate(events,
                      [keys](uint64_t i) {
                        return Event{mix(i % keys), 1};
                      })
      .key_by([](const Event& e) { return e.key; });
}

// generator -> key_by -> running sum over `keys` keys (~`keys` * 17 B of hash table at 16 B a
// key and value, more with the table's free slots) -> sink; a checkpoint every second.
Run large_state(uint64_t events, uint64_t keys) {
  Environment env(one_subtask_checkpointing("sluice-bench-state"));
  std::atomic<int64_t> total{0};
  keyed_events(env, events, keys)
      .aggregate(
          int64_t{0}, [](int64_t& acc, const Event& e) { acc += e.time; },
          [](uint64_t k, int64_t acc) { return std::pair(k, acc); })
      .filter([](const std::pair<uint64_t, int64_t>&) { return false; })
      .sink(CountSink{&total});
  return execute(env, total, "large state");
}

// A running sum per key in a process function's ValueState.
struct SumPerKey {
  ValueState<int64_t> sum;
  void open(RuntimeContext& ctx) { sum = ctx.state<ValueState<int64_t>>("sum"); }
  void process(const Event& e, ProcessContext<uint64_t>&,
               Collector<std::pair<uint64_t, int64_t>>&) {
    sum.update(sum.value_or(0) + e.time);
  }
};

// generator -> key_by -> process function over `keys` keys -> sink; a checkpoint every second.
Run large_process_state(uint64_t events, uint64_t keys) {
  Environment env(one_subtask_checkpointing("sluice-bench-process"));
  std::atomic<int64_t> total{0};
  keyed_events(env, events, keys).process(SumPerKey{}).sink(CountSink{&total});
  return execute(env, total, "large process state");
}

void print_large_state(const char* what, uint64_t keys, const Run& run) {
  std::printf("%s: %llu keys, %.1f s, %.1f M events/s\n", what,
              static_cast<unsigned long long>(keys), run.seconds,
              static_cast<double>(keys) * 6 / run.seconds / 1e6);
  std::printf("  checkpoints %llu, failed %llu\n",
              static_cast<unsigned long long>(run.stats.checkpoints_completed),
              static_cast<unsigned long long>(run.stats.checkpoints_failed));
  std::printf("  last periodic checkpoint: %.1f ms trigger to manifest, %.1f MB stored\n",
              static_cast<double>(run.stats.checkpoint_last_duration_us) / 1e3,
              static_cast<double>(run.stats.checkpoint_last_bytes) / 1e6);
  std::printf("  worst synchronous part %.2f ms, worst pause (alignment + synchronous) %.2f ms\n",
              static_cast<double>(run.stats.checkpoint_max_sync_us) / 1e3,
              static_cast<double>(run.stats.checkpoint_max_pause_us) / 1e3);
}

// Updates every key once, in a random order (every page of the table), prefetching ahead like the
// engine's keyed operators; returns seconds.
double update_pass(detail::CowMap<uint64_t, int64_t>& map, const std::vector<uint64_t>& keys,
                   const std::vector<uint64_t>& hashes) {
  return seconds_of([&] {
    for (size_t i = 0; i < keys.size(); ++i) {
      if (i + 8 < keys.size()) map.prefetch(detail::Prehashed<uint64_t>{nullptr, hashes[i + 8]});
      map.try_emplace(detail::Prehashed<uint64_t>{&keys[i], hashes[i]}, 0).first->second += 1;
    }
  });
}

// The task's side of a copy-on-write cut: the first pass after freeze() copies every page.
void cut_cost(uint64_t keys) {
  std::vector<uint64_t> order(keys), hashes(keys);
  for (uint64_t i = 0; i < keys; ++i) order[i] = mix(i);  // a random order of distinct keys
  for (uint64_t i = 0; i < keys; ++i) hashes[i] = detail::hash_key(order[i]);
  detail::CowMap<uint64_t, int64_t> map;
  update_pass(map, order, hashes);  // fills the table
  double plain = 1e30, after_cut = 1e30, freeze = 1e30;
  for (int r = 0; r < 3; ++r) {
    plain = std::min(plain, update_pass(map, order, hashes));
    detail::CowMap<uint64_t, int64_t>::Frozen view;
    freeze = std::min(freeze, seconds_of([&] { view = map.freeze(); }));
    after_cut = std::min(after_cut, update_pass(map, order, hashes));
    view.reset();  // the writer's part is not measured here
  }
  const double pages =
      static_cast<double>(map.capacity() / detail::CowMap<uint64_t, int64_t>::kPageSlots);
  std::printf("copy-on-write cut, %llu keys, one update per key (best of 3):\n",
              static_cast<unsigned long long>(keys));
  std::printf("  freeze() (the synchronous part)   %8.3f ms\n", freeze * 1e3);
  std::printf("  pass without a cut                %8.1f ms\n", plain * 1e3);
  std::printf(
      "  first pass after a cut            %8.1f ms  (+%.1f ms: %.0f pages of 64 KB copied, "
      "%.1f us each)\n",
      after_cut * 1e3, (after_cut - plain) * 1e3, pages, (after_cut - plain) * 1e6 / pages);
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  using namespace sluice::bench;
  const uint64_t events = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200'000'000;
  const int repetitions = argc > 2 ? std::atoi(argv[2]) : 2;
  std::printf("checkpoint_bench: keyed windows, %llu events, parallelism 2, 2 workers\n",
              static_cast<unsigned long long>(events));
  double best_off = 1e30, best_on = 1e30;
  Run on;
  for (int r = 0; r < repetitions; ++r) {
    Run a = keyed_windows(events, false);
    Run b = keyed_windows(events, true);
    if (a.checksum != b.checksum || a.checksum != static_cast<int64_t>(events)) {
      std::printf("FAILED: checksums %lld / %lld\n", static_cast<long long>(a.checksum),
                  static_cast<long long>(b.checksum));
      return 1;
    }
    best_off = std::min(best_off, a.seconds);
    if (b.seconds < best_on) {
      best_on = b.seconds;
      on = b;
    }
  }
  const double off_rate = static_cast<double>(events) / best_off;
  const double on_rate = static_cast<double>(events) / best_on;
  std::printf("  no checkpoints        %8.2f M events/s\n", off_rate / 1e6);
  std::printf("  checkpoint every 1 s  %8.2f M events/s  (%llu checkpoints, worst pause %.2f ms)\n",
              on_rate / 1e6, static_cast<unsigned long long>(on.stats.checkpoints_completed),
              static_cast<double>(on.stats.checkpoint_max_pause_us) / 1e3);
  std::printf("  ratio (1 s / none)    %8.3f   (cost %.1f%%)\n", on_rate / off_rate,
              100.0 * (1 - on_rate / off_rate));

  const uint64_t keys = 6'000'000;  // a table of 8M slots x 17 B: ~136 MB in memory
  Run big = large_state(keys * 6, keys);
  print_large_state("large keyed state, aggregate (~136 MB of hash table)", keys, big);
  Run process = large_process_state(keys * 6, keys);
  print_large_state(
      "large keyed state, process function (ValueState<int64_t>: a 96 MB table, and the key "
      "directory)",
      keys, process);
  cut_cost(keys);
  std::printf("reproduce: build/release/bench/checkpoint_bench %llu %d\n",
              static_cast<unsigned long long>(events), repetitions);
  return 0;
}
