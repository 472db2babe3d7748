// The runtime benchmarks of docs/benchmarks.md: each workload through the engine at parallelism
// 1 and 2, and the same work as a hand-written single-threaded loop in the same process; the
// figure that matters is the ratio engine / hand loop, which machine noise affects least.
#pragma once

#include <cstdint>
#include <string>

namespace sluice::bench {

struct BenchOptions {
  double scale = 1.0;       // multiplies every event count
  int repetitions = 3;      // best of
  std::string only;         // run only workloads whose name contains this
  int max_parallelism = 2;  // the engine runs at parallelism 1 .. this
};

// Runs the workloads and prints a table and the command that reproduces it. Returns 0 on success.
int run_runtime_benchmarks(const BenchOptions& options);

}  // namespace sluice::bench
