// The job of the crash test: paced generated readings -> event time -> per sensor, tumbling
// window sums and session counts (event-time timers fire them) -> exactly-once part files.
//
//   crash_job <out_dir> <checkpoint_dir | -> <rows> <rows_per_second> [parallelism]
//             [at-least-once]
//
// Exits 0 once the input is consumed and the output published; a run killed at any moment and
// started again with the same directories resumes from its latest checkpoint.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sluice/sluice.h"

namespace {

struct Reading {
  uint64_t sensor;
  int64_t time;
  int64_t value;
};

struct Result {
  uint64_t sensor;
  int64_t start;
  int64_t end;
  int64_t value;
};

template <typename W>
void sluice_fields(const Result& r, W& w) {
  w("sensor", r.sensor);
  w("start", r.start);
  w("end", r.end);
  w("value", r.value);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: crash_job <out_dir> <checkpoint_dir|-> <rows> <rate> [par]\n");
    return 2;
  }
  const std::string out = argv[1];
  const std::string checkpoints = argv[2];
  sluice::JobOptions options;
  options.parallelism = argc > 5 ? std::atoi(argv[5]) : 2;
  options.workers = 2;
  if (checkpoints != "-") {
    (void)options.set("checkpoint.dir", checkpoints);
    (void)options.set("checkpoint.interval", "40ms");
  }
  const auto delivery = argc > 6 && std::string(argv[6]) == "at-least-once"
                            ? sluice::sinks::Delivery::kAtLeastOnce
                            : sluice::sinks::Delivery::kExactlyOnce;
  sluice::Environment env(options);
  sluice::GeneratorOptions gen;
  gen.rate = std::atof(argv[4]);
  auto readings =
      env.generate(
             std::strtoull(argv[3], nullptr, 10),
             [](uint64_t i) {
               // 23 sensors; sensor 5 pauses now and then, which closes its sessions.
               const uint64_t sensor = (i * 7919) % 23;
               return Reading{sensor, static_cast<int64_t>(i) - static_cast<int64_t>(i % 7),
                              static_cast<int64_t>(i % 101)};
             },
             gen)
          .filter([](const Reading& r) { return r.sensor != 5 || (r.time / 3000) % 2 == 0; })
          .assign_timestamps([](const Reading& r) { return r.time; }, 10);
  readings.key_by([](const Reading& r) { return r.sensor; })
      .window(sluice::Tumbling{1000})
      .sum([](const Reading& r) { return r.value; })
      .map([](const sluice::WindowResult<uint64_t, int64_t>& w) {
        return Result{w.key, w.window_start, w.window_end, w.value};
      })
      .sink(sluice::sinks::json_part_files<Result>(out + "/tumbling", delivery));
  readings.key_by([](const Reading& r) { return r.sensor; })
      .window(sluice::Session{500})
      .count()
      .map([](const sluice::WindowResult<uint64_t, int64_t>& w) {
        return Result{w.key, w.window_start, w.window_end, w.value};
      })
      .sink(sluice::sinks::json_part_files<Result>(out + "/sessions", delivery));
  sluice::Status s = env.execute("crash job");
  if (!s.is_ok()) {
    std::fprintf(stderr, "%s\n", s.to_string().c_str());
    return 1;
  }
  return 0;
}
