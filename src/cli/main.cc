// The `sluice` command line: version, bench, and (with the SQL layer) run and explain.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "runtime_benchmarks.h"

namespace {
constexpr const char* kVersion = "0.1.0";
}

int main(int argc, char** argv) {
  CLI::App app{
      "Sluice: a stream-processing engine.\n"
      "Pipelines are C++ programs built on <sluice/sluice.h> (see examples/); "
      "streaming SQL (`sluice run job.sql`) arrives with the SQL layer."};
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersion);

  app.add_subcommand("version", "Print the version")->callback([] {
    std::printf("sluice %s\n", kVersion);
  });

  sluice::bench::BenchOptions bench;
  CLI::App* bench_cmd = app.add_subcommand(
      "bench",
      "Run the runtime benchmarks and print events/s and the ratio to a hand-written loop");
  bench_cmd
      ->add_option("--scale", bench.scale, "Multiply every event count (e.g. 0.1 for a quick run)")
      ->check(CLI::PositiveNumber);
  bench_cmd->add_option("--repetitions", bench.repetitions, "Runs per figure; the best is kept")
      ->check(CLI::Range(1, 100));
  bench_cmd->add_option("--only", bench.only, "Only workloads whose name contains this text");
  int bench_rc = 0;
  bench_cmd->callback([&] { bench_rc = sluice::bench::run_runtime_benchmarks(bench); });

  CLI11_PARSE(app, argc, argv);
  return bench_rc;
}
