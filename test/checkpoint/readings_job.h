// The rows and helpers of the savepoint tests' windowed jobs: sensor readings summed per second
// into exactly-once part files, whose published rows a test compares as a multiset.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "sluice/sluice.h"

namespace sluice::testing {

struct Reading {
  uint64_t sensor;
  int64_t time;
  int64_t value;
};

struct Sum {
  uint64_t sensor;
  int64_t start;
  int64_t value;
};

template <typename W>
void sluice_fields(const Sum& r, W& w) {
  w("sensor", r.sensor);
  w("start", r.start);
  w("value", r.value);
}

inline constexpr uint64_t kReadings = 60'000;

inline Reading reading_of(uint64_t i) {
  return Reading{(i * 7919) % 31, static_cast<int64_t>(i) - static_cast<int64_t>(i % 5),
                 static_cast<int64_t>(i % 97)};
}

// Quiet options for a test job: no endpoint, no status line, no signal handlers.
inline JobOptions quiet_job_options(int parallelism) {
  JobOptions o;
  o.parallelism = parallelism;
  o.workers = 2;
  o.metrics_address = "off";
  o.progress = Progress::kOff;
  o.handle_signals = false;
  return o;
}

// The rows of the published part files under `dir`, sorted (a multiset).
inline std::vector<std::string> published(const std::string& dir) {
  std::vector<std::string> lines;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().filename().string().rfind("part-", 0) != 0) continue;
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

// Asks for a savepoint until the job has started (NotFound until then).
inline Result<std::string> savepoint_when_running(Environment& env, const std::string& dir,
                                                  bool stop) {
  for (int i = 0; i < 500; ++i) {
    Result<std::string> r = stop ? env.stop_with_savepoint(dir) : env.trigger_savepoint(dir);
    if (r || r.status().code() != StatusCode::kNotFound) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Status::failed("the job never started");
}

}  // namespace sluice::testing
