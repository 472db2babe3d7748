// Environment: where a typed C++ pipeline is built and run.
//
//   sluice::Environment env;
//   env.generate<Reading>(1'000'000, [](uint64_t i) { return Reading{...}; })
//      .filter([](const Reading& r) { return r.value > 0; })
//      .key_by([](const Reading& r) { return r.sensor; })
//      .aggregate(0L, [](int64_t& n, const Reading&) { ++n; },
//                 [](uint64_t sensor, int64_t n) { return SensorCount{sensor, n}; })
//      .sink(sluice::sinks::print<SensorCount>());
//   sluice::Status s = env.execute("sensor counts");
//
// Streams are cheap handles into the environment's graph; the environment must outlive them.
// execute() blocks until a bounded job ends, the job fails (an exception in a user function, with
// the operator's name), or it is cancelled (Ctrl-C, or cancel() from another thread).
//
// Thread-safety: build and execute from one thread; cancel() and the savepoint calls from any
// thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>

#include "sluice/detail/generator_source.h"
#include "sluice/detail/graph.h"
#include "sluice/options.h"
#include "sluice/status.h"

namespace sluice {

template <typename T>
class Stream;

// Options of the generator source.
struct GeneratorOptions {
  // Rows per second of wall-clock time over all subtasks; 0 = as fast as possible.
  double rate = 0;
  std::string name = "generator";
  int parallelism = 0;  // 0: the environment's default
};

class Environment {
 public:
  explicit Environment(JobOptions options = {});
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  const JobOptions& options() const { return options_; }
  detail::LogicalGraph& graph() { return graph_; }

  // Rows fn(0), fn(1), ..., fn(count - 1); count = UINT64_MAX for an unbounded stream.
  template <typename F>
  auto generate(uint64_t count, F fn, GeneratorOptions opts = {})
      -> Stream<std::decay_t<std::invoke_result_t<F, uint64_t>>>;

  // Adds a source node running `make()`'s operator; used by connectors.
  template <typename T>
  Stream<T> add_source(std::string name, int parallelism,
                       std::function<std::unique_ptr<detail::Operator>()> make);

  // Runs the job to its end. Not OK when it failed or was cancelled.
  Status execute(const std::string& job_name = "job");
  // Stops a running execute() from any thread; it returns a cancelled status.
  void cancel();
  // Takes a savepoint of the running job into `dir` and returns the savepoint's own directory
  // (`<dir>/savepoint-<id>`, self-contained) once it is complete; sinks commit it like a
  // checkpoint. Works with or without `checkpoint.dir`. Blocks the calling thread (any thread but
  // execute()'s). Not OK when it failed (the job has finished, an operator declined, the
  // checkpoint timeout passed, a write failed), and NotFound when no job is running yet.
  Result<std::string> trigger_savepoint(const std::string& dir);
  // The same, then stops the job: sources emit nothing after the savepoint's barrier, the sinks
  // commit what it covers, and execute() returns OK with stats().stopped_with_savepoint set.
  // Resume with the job option `savepoint.path` = the returned directory.
  Result<std::string> stop_with_savepoint(const std::string& dir);
  // Figures of the last execute().
  const JobStats& stats() const { return stats_; }

 private:
  JobOptions options_;
  detail::LogicalGraph graph_;
  JobStats stats_;
  // cancel() may race the end of execute(): the lock keeps the runner alive while cancel() uses
  // it. Control plane only, never taken on the data path.
  std::mutex running_mutex_;
  bool cancel_requested_ = false;  // guarded by running_mutex_
  void* running_ = nullptr;        // guarded by running_mutex_; the JobRunner while execute() runs

  Result<std::string> savepoint(const std::string& dir, bool stop);
};

}  // namespace sluice

#include "sluice/stream.h"

namespace sluice {

template <typename T>
Stream<T> Environment::add_source(std::string name, int parallelism,
                                  std::function<std::unique_ptr<detail::Operator>()> make) {
  detail::NodeSpec node;
  node.name = std::move(name);
  node.parallelism = parallelism > 0 ? parallelism : options_.parallelism;
  node.is_source = true;
  node.make_operator = std::move(make);
  return Stream<T>(this, graph_.add_node(std::move(node)));
}

template <typename F>
auto Environment::generate(uint64_t count, F fn, GeneratorOptions opts)
    -> Stream<std::decay_t<std::invoke_result_t<F, uint64_t>>> {
  static_assert(std::is_invocable_v<F, uint64_t>,
                "generate: the function must take the row index (uint64_t) and return a row");
  using T = std::decay_t<std::invoke_result_t<F, uint64_t>>;
  return add_source<T>(opts.name, opts.parallelism, [fn, count, rate = opts.rate] {
    return std::make_unique<detail::GeneratorSource<T, F>>(fn, count, rate);
  });
}

}  // namespace sluice
