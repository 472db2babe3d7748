// DeadLetterWriter: where a source puts the records it could not parse.
//
// A bad record is data, not an exception: instead of failing the job, a source configured with a
// dead-letter file writes the raw record there with where it came from and why it was rejected, one
// JSON object per line:
//
//   {"source":"trades","file":"in/a.csv","line":7,"reason":"column 3 (index 2): expected a number,
//    got 'x'","record":"7,ACME,x"}
//
// Every string is JSON-escaped; bytes that are not valid UTF-8 are written as \u00XX, so the file
// is valid JSON lines whatever the input held.
//
// Thread-safety: safe to share between the subtasks of one source. write() and flush() take a
// mutex; dead letters are off the hot path (one per bad record), so the lock costs nothing that
// matters. Records are buffered and written when the buffer fills, on flush() and on destruction.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "sluice/status.h"

namespace sluice::detail {

class DeadLetterWriter {
 public:
  // Opens `path` for appending, creating it and its parent directories when missing.
  static Result<std::unique_ptr<DeadLetterWriter>> open(const std::string& path);

  ~DeadLetterWriter();
  DeadLetterWriter(const DeadLetterWriter&) = delete;
  DeadLetterWriter& operator=(const DeadLetterWriter&) = delete;

  // Buffers one dead-letter line; writes the buffer out when it is large.
  Status write(std::string_view source_name, std::string_view file, uint64_t line,
               std::string_view reason, std::string_view raw_record);
  // Writes buffered lines to the file.
  Status flush();

  const std::string& path() const { return path_; }

 private:
  DeadLetterWriter(std::string path, int fd);
  Status flush_locked();

  const std::string path_;
  const int fd_;
  std::mutex mutex_;
  std::string buffer_;  // guarded by mutex_
};

}  // namespace sluice::detail
