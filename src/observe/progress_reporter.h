// ProgressReporter: the job's progress on stderr, from the tracker's latest sample.
//
// On a terminal (or with `progress=on`) one live status line is rewritten in place twice a
// second: events in and out per second, ingestion-to-sink latency p99, the watermark and its lag,
// the last checkpoint. Otherwise (`progress=auto` without a terminal) the same figures are
// logged as a plain info line every `log_every_ms`.
//
// Thread-safety: start() and stop() from one thread.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "observe/job_tracker.h"

namespace sluice::observe {

class ProgressReporter {
 public:
  enum class Mode { kLiveLine, kLogLines };

  ProgressReporter(const JobTracker* tracker, Mode mode, int log_every_ms = 10'000);
  ~ProgressReporter();

  void start();
  // Stops; a live line is finished with a newline so later output starts on its own line.
  void stop();

  // The status text of one sample (without a line end).
  static std::string format(const HistoryPoint& p, const CheckpointRecord& last_checkpoint);

 private:
  void loop();

  const JobTracker* tracker_;
  const Mode mode_;
  const int log_every_ms_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mutex_
  bool drew_ = false;      // a live line is on screen; reporter thread only until joined
  std::thread thread_;
};

}  // namespace sluice::observe
