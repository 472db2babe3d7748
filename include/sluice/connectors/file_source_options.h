// Options of the file sources (see file_sources.h): the bad-record policy and the counters.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace sluice {

enum class BadRecordPolicy { kFail, kSkip, kDeadLetter };

// Counters of one source over all its subtasks, published once per batch. Read them while the
// job runs (approximate) or after execute() returns (exact).
struct SourceMetrics {
  std::atomic<uint64_t> records{0};       // rows emitted
  std::atomic<uint64_t> bad_records{0};   // bad lines, whatever the policy did with them
  std::atomic<uint64_t> dead_letters{0};  // bad lines written to the dead-letter file
};

struct FileSourceOptions {
  std::string name;     // empty: "read_text", "read_csv" or "read_json"
  int parallelism = 0;  // 0: the environment's default
  BadRecordPolicy on_bad_record = BadRecordPolicy::kFail;
  // REQUIRED with kDeadLetter. Created with its directories when missing; appended to.
  std::string dead_letter_path;
  // Where to count records and bad records; must outlive the job. Optional.
  SourceMetrics* metrics = nullptr;
};

struct CsvSourceOptions : FileSourceOptions {
  bool header = false;  // the first line of each file names the columns: skip it
  char delimiter = ',';
};

}  // namespace sluice
