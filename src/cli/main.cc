// The `sluice` command line: version, bench, savepoint and stop (a running job, over its HTTP
// endpoint), and (with the SQL layer) run and explain.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "job_client.h"
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

  // savepoint / stop: both ask the job's endpoint and print the savepoint's directory.
  std::string job = "127.0.0.1:9249";
  std::string target;
  int job_rc = 0;
  auto ask = [&](bool stop) {
    sluice::Result<std::string> path = sluice::cli::request_savepoint(job, target, stop);
    if (!path) {
      std::fprintf(stderr, "sluice: %s\n", path.status().message().c_str());
      job_rc = 1;
      return;
    }
    std::printf("%s\n", path->c_str());
  };
  CLI::App* savepoint_cmd =
      app.add_subcommand("savepoint", "Take a savepoint of a running job and print its directory");
  savepoint_cmd->add_option("--job", job, "The job's address (its option metrics.address)")
      ->capture_default_str();
  savepoint_cmd->add_option("--dir", target, "Directory the savepoint goes under")->required();
  savepoint_cmd->callback([&] { ask(false); });
  CLI::App* stop_cmd = app.add_subcommand(
      "stop", "Stop a running job with a savepoint and print the savepoint's directory");
  stop_cmd->add_option("--job", job, "The job's address (its option metrics.address)")
      ->capture_default_str();
  stop_cmd->add_option("--savepoint", target, "Directory the savepoint goes under")->required();
  stop_cmd->callback([&] { ask(true); });

  CLI11_PARSE(app, argc, argv);
  return bench_rc != 0 ? bench_rc : job_rc;
}
