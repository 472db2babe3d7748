// The job of the file-source crash test: CSV files of a directory -> a slowed-down map ->
// exactly-once CSV part files, checkpointed every 30 ms.
//
//   file_crash_job <input_dir> <out_dir> <checkpoint_dir | -> [parallelism]
//
// Exits 0 once every file is read and the output published; a run killed at any moment and
// started again with the same directories resumes from the file positions of its latest
// checkpoint. Each subtask's rows come in file order, so its parts, concatenated in order, are
// the same bytes in every run.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "sluice/sluice.h"

namespace {

struct Order {
  int64_t id;
  std::string item;
  int64_t cents;
};

template <typename W>
void sluice_fields(const Order& r, W& w) {
  w("id", r.id);
  w("item", r.item);
  w("cents", r.cents);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: file_crash_job <input_dir> <out_dir> <checkpoint_dir|-> [par]\n");
    return 2;
  }
  sluice::JobOptions options;
  options.parallelism = argc > 4 ? std::atoi(argv[4]) : 2;
  options.workers = 2;
  options.metrics_address = "off";
  options.progress = sluice::Progress::kOff;
  if (std::string(argv[3]) != "-") {
    (void)options.set("checkpoint.dir", argv[3]);
    (void)options.set("checkpoint.interval", "30ms");
  }
  sluice::Environment env(options);
  sluice::read_csv(env, argv[1],
                   [](const sluice::CsvRow& r) {
                     return Order{r.int64(0), std::string(r.str(1)), r.int64(2)};
                   })
      .map([](const Order& o) {
        // About 1.5 s of work per 60,000 rows: slow enough to be killed while reading.
        if (o.id % 40 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return Order{o.id, o.item + "/" + std::to_string(o.id % 7), o.cents * 3 + 1};
      })
      .sink(sluice::sinks::csv_part_files<Order>(argv[2]));
  sluice::Status s = env.execute("file crash job");
  if (!s.is_ok()) {
    std::fprintf(stderr, "%s\n", s.to_string().c_str());
    return 1;
  }
  return 0;
}
