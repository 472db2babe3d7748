// The job of the crash test: paced generated readings -> event time -> per sensor, tumbling
// window sums and session counts (event-time timers fire them), and tumbling sums of a keyed
// process function (MapState and event-time timers, in the job's state backend) -> exactly-once
// part files.
//
//   crash_job <out_dir> <checkpoint_dir | -> <rows> <rows_per_second> [parallelism]
//             [at-least-once]
//
// `parallelism` is that of the keyed operators and sinks; the source and the operators chained
// to it keep 2 unless SLUICE_CRASH_SOURCE says otherwise.
// Environment:
//   SLUICE_CRASH_BACKEND=rocksdb  keyed process state in RocksDB (state.dir next to the
//                                 checkpoints)
//   SLUICE_CRASH_SOURCE=rescale   the source and the operators chained to it at `parallelism`
//                                 too: a restart at another one rescales the generator
//   SLUICE_CRASH_FAULT=after-pre-commit
//                                 abort the process right after a sink subtask pre-committed a
//                                 part holding rows, before the checkpoint completes (once an
//                                 earlier checkpoint of the run has completed)
//
// Exits 0 once the input is consumed and the output published; a run killed at any moment and
// started again with the same directories resumes from its latest checkpoint.
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "sluice/sluice.h"

namespace {

constexpr int kFixedSourceParallelism = 2;

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

// Per sensor, tumbling 1 s sums: an accumulator per window end in a MapState, fired by an
// event-time timer at the window's end.
struct ProcessSums {
  sluice::MapState<int64_t, int64_t> sums;
  void open(sluice::RuntimeContext& ctx) {
    sums = ctx.state<sluice::MapState<int64_t, int64_t>>("sums");
  }
  void process(const Reading& r, sluice::ProcessContext<uint64_t>& ctx,
               sluice::Collector<Result>&) {
    const int64_t end = (r.time / 1000 + 1) * 1000;
    sums.put(end, sums.get(end).value_or(0) + r.value);
    ctx.timers().register_event_time(end);
  }
  void on_timer(sluice::Timestamp t, sluice::TimerContext<uint64_t>& ctx,
                sluice::Collector<Result>& out) {
    out.emit(Result{ctx.key(), t - 1000, t, sums.get(t).value_or(-1)});
    sums.remove(t);
  }
};

// A sink that aborts the process right after a pre-commit of a part with rows, once a checkpoint
// of this run has completed: the crash between pre-commit and commit that exactly-once delivery
// must survive, with a checkpoint to restore from.
template <typename S>
struct AbortAfterPreCommit {
  S sink;
  bool armed = false;
  bool committed = false;  // a checkpoint of this run completed
  size_t rows = 0;         // since the last pre-commit

  void open(int subtask, int parallelism, bool checkpointing) {
    sink.open(subtask, parallelism, checkpointing);
  }
  void write(std::span<const Result> batch) {
    rows += batch.size();
    sink.write(batch);
  }
  void finish() { sink.finish(); }
  sluice::Status prepare(uint64_t id, std::vector<char>& state) {
    sluice::Status s = sink.prepare(id, state);
    if (armed && committed && rows > 0) std::abort();
    rows = 0;
    return s;
  }
  sluice::Status commit(uint64_t id) {
    sluice::Status s = sink.commit(id);
    committed = true;
    return s;
  }
  sluice::Status abort(uint64_t id) { return sink.abort(id); }
  sluice::Status recover(const std::vector<std::vector<char>>& states, int old_parallelism) {
    return sink.recover(states, old_parallelism);
  }
};

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
  const char* backend = std::getenv("SLUICE_CRASH_BACKEND");
  if (backend != nullptr && std::string(backend) == "rocksdb") {
    (void)options.set("state.backend", "rocksdb");
    if (checkpoints != "-") (void)options.set("state.dir", checkpoints + ".state");
  }
  const char* source_env = std::getenv("SLUICE_CRASH_SOURCE");
  const int source_parallelism = source_env != nullptr && std::string(source_env) == "rescale"
                                     ? options.parallelism
                                     : kFixedSourceParallelism;
  const char* fault = std::getenv("SLUICE_CRASH_FAULT");
  const bool abort_after_pre_commit = fault != nullptr && std::string(fault) == "after-pre-commit";
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
          .parallelism(source_parallelism)
          .filter([](const Reading& r) { return r.sensor != 5 || (r.time / 3000) % 2 == 0; })
          .parallelism(source_parallelism)
          .assign_timestamps([](const Reading& r) { return r.time; }, 10)
          .parallelism(source_parallelism);
  auto sink = [&](const std::string& name) {
    return AbortAfterPreCommit<decltype(sluice::sinks::json_part_files<Result>(""))>{
        sluice::sinks::json_part_files<Result>(out + "/" + name, delivery), abort_after_pre_commit};
  };
  readings.key_by([](const Reading& r) { return r.sensor; })
      .window(sluice::Tumbling{1000})
      .sum([](const Reading& r) { return r.value; })
      .map([](const sluice::WindowResult<uint64_t, int64_t>& w) {
        return Result{w.key, w.window_start, w.window_end, w.value};
      })
      .sink(sink("tumbling"));
  readings.key_by([](const Reading& r) { return r.sensor; })
      .window(sluice::Session{500})
      .count()
      .map([](const sluice::WindowResult<uint64_t, int64_t>& w) {
        return Result{w.key, w.window_start, w.window_end, w.value};
      })
      .sink(sink("sessions"));
  readings.key_by([](const Reading& r) { return r.sensor; })
      .process(ProcessSums{})
      .sink(sink("process"));
  sluice::Status s = env.execute("crash job");
  if (!s.is_ok()) {
    std::fprintf(stderr, "%s\n", s.to_string().c_str());
    return 1;
  }
  return 0;
}
