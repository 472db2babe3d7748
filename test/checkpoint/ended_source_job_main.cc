// The job of the ended-source crash test: a short bounded generator ("short", node 0,
// parallelism 1) and a long paced one ("long", parallelism 2), unioned into a keyed running count;
// the short one also feeds tumbling windows of its own. Both into exactly-once part files,
// checkpointed every 30 ms.
//
//   ended_source_job <out_dir> <checkpoint_dir | -> <short rows> <long rows> <long rows/s>
//
// The short source and its windows end long before the long source: the checkpoints taken in
// between hold them at their end. Exits 0 once both inputs are consumed and the output published;
// a run killed at any moment and started again with the same directories resumes from its latest
// checkpoint. The counts per key are 1..n whatever the interleaving of the two sources, so the
// output, sorted, is the same in every run.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sluice/sluice.h"

namespace {

struct Event {
  uint64_t key;
  int64_t time;
};

struct Count {
  uint64_t key;
  int64_t start;  // the window's start; -1 for a running count
  int64_t count;
};

template <typename W>
void sluice_fields(const Count& c, W& w) {
  w("key", c.key);
  w("start", c.start);
  w("count", c.count);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr,
                 "usage: ended_source_job <out_dir> <checkpoint_dir|-> <short rows> <long rows> "
                 "<long rows/s>\n");
    return 2;
  }
  const std::string out = argv[1];
  sluice::JobOptions options;
  options.parallelism = 2;
  options.workers = 2;
  options.metrics_address = "off";
  options.progress = sluice::Progress::kOff;
  if (std::string(argv[2]) != "-") {
    (void)options.set("checkpoint.dir", argv[2]);
    (void)options.set("checkpoint.interval", "30ms");
  }
  sluice::Environment env(options);
  sluice::GeneratorOptions short_gen;
  short_gen.name = "short";
  short_gen.parallelism = 1;
  sluice::GeneratorOptions long_gen;
  long_gen.name = "long";
  long_gen.rate = std::atof(argv[5]);
  auto short_events = env.generate(
      std::strtoull(argv[3], nullptr, 10),
      [](uint64_t i) {
        return Event{i % 13, static_cast<int64_t>(i)};
      },
      short_gen);
  auto long_events = env.generate(
      std::strtoull(argv[4], nullptr, 10),
      [](uint64_t i) {
        return Event{i % 17, static_cast<int64_t>(i)};
      },
      long_gen);
  short_events.union_with(long_events)
      .key_by([](const Event& e) { return e.key; })
      .aggregate(
          int64_t{0}, [](int64_t& n, const Event&) { ++n; },
          [](uint64_t key, int64_t n) {
            return Count{key, -1, n};
          })
      .sink(sluice::sinks::json_part_files<Count>(out + "/counts"));
  short_events.assign_timestamps([](const Event& e) { return e.time; }, 0)
      .key_by([](const Event& e) { return e.key; })
      .window(sluice::Tumbling{100})
      .count()
      .map([](const sluice::WindowResult<uint64_t, int64_t>& w) {
        return Count{w.key, w.window_start, w.value};
      })
      .sink(sluice::sinks::json_part_files<Count>(out + "/windows"));
  sluice::Status s = env.execute("ended source job");
  if (!s.is_ok()) {
    std::fprintf(stderr, "%s\n", s.to_string().c_str());
    return 1;
  }
  return 0;
}
