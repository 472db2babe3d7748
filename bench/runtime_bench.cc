// Runs the runtime benchmarks (also available as `sluice bench`).
//   build/release/bench/runtime_bench [scale] [repetitions] [only] [max parallelism]
#include <cstdlib>

#include "runtime_benchmarks.h"

int main(int argc, char** argv) {
  sluice::bench::BenchOptions options;
  if (argc > 1) options.scale = std::atof(argv[1]);
  if (argc > 2) options.repetitions = std::atoi(argv[2]);
  if (argc > 3) options.only = argv[3];
  if (argc > 4) options.max_parallelism = std::atoi(argv[4]);
  return sluice::bench::run_runtime_benchmarks(options);
}
