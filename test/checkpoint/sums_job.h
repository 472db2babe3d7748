// The rows and the sink of the checkpointed-sums jobs of the checkpoint tests: keyed running
// sums, checked by the highest sum the sink saw per key (sums only grow).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <utility>

#include <gtest/gtest.h>

#include "sluice/sluice.h"

namespace sluice::testing {

struct Row {
  uint64_t key;
  int64_t value;
  uint64_t index;
};

inline constexpr uint64_t kRows = 20'000;
inline Row row_of(uint64_t i) { return Row{(i * 7919) % 61, static_cast<int64_t>(i % 100) + 1, i}; }

inline std::map<uint64_t, int64_t> expected_sums() {
  std::map<uint64_t, int64_t> sums;
  for (uint64_t i = 0; i < kRows; ++i) sums[row_of(i).key] += row_of(i).value;
  return sums;
}

// Keeps the highest running sum seen per key, and counts rows.
struct MaxSink {
  struct Shared {
    std::mutex mutex;
    std::map<uint64_t, int64_t> max;
    uint64_t rows = 0;
  };
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  void write(std::span<const std::pair<uint64_t, int64_t>> rows) {
    std::lock_guard<std::mutex> lock(shared->mutex);
    for (const auto& [k, v] : rows) shared->max[k] = std::max(shared->max[k], v);
    shared->rows += rows.size();
  }
};

// generator (paced at 40,000 rows/s, parallelism 2) -> map (parallelism 2) that throws at row
// 12,000 once, while *fail_once is set.
inline auto failing_input(Environment& env, std::atomic<bool>* fail_once) {
  GeneratorOptions gen;
  gen.rate = 40'000;
  return env.generate(kRows, row_of, gen)
      .parallelism(2)
      .map([fail_once](const Row& r) {
        if (fail_once != nullptr && r.index == 12'000 && fail_once->exchange(false)) {
          throw std::runtime_error("injected failure");
        }
        return r;
      })
      .parallelism(2);
}

// Runs a job `run_job(options, sink, fail_once, stats)` whose input fails once while two
// in-process restarts, 10 ms apart, are allowed.
template <typename RunJob>
Status run_with_one_failure(JobOptions options, RunJob&& run_job, MaxSink sink, JobStats* stats) {
  EXPECT_TRUE(options.set("restart.attempts", "2"));
  EXPECT_TRUE(options.set("restart.backoff", "10ms"));
  std::atomic<bool> fail_once{true};
  Status s = run_job(options, sink, &fail_once, stats);
  EXPECT_FALSE(fail_once.load());
  return s;
}

}  // namespace sluice::testing
