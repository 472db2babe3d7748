// Text output for sinks: a buffered file writer and the JSON and CSV field encoders.
//
// A sink encodes each record into a reused std::string with append_json_string() /
// append_csv_field() (or appends straight into FileWriter::buffer()), and hands the bytes to a
// FileWriter, which writes them to the file in large write(2) calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sluice/status.h"

namespace sluice::detail {

// Appends `s` to `out` as a JSON string literal, quotes included. Quotes, backslashes and control
// characters are escaped (\n, \t, ... or \u00XX). Valid UTF-8 is copied as is; each byte that is
// not part of a valid UTF-8 sequence is written as \u00XX (its Latin-1 reading), so the output is
// always valid JSON whatever the input bytes.
void append_json_string(std::string& out, std::string_view s);

// Appends `s` to `out` as one CSV field: as is, or, when it contains the delimiter, a quote, a
// carriage return or a newline, or starts or ends with a space, quoted with inner quotes doubled
// (RFC 4180).
void append_csv_field(std::string& out, std::string_view s, char delimiter);

// FileWriter: buffered output to one file, created or truncated on open.
//
// Data is kept in memory until the buffer holds `flush_threshold` bytes, then written with
// write(2). close() writes what is left, fsyncs when asked, and closes the file; a writer destroyed
// without close() writes what it can and loses any error, so call close().
//
// Thread-safety: not thread-safe; one writer per sink subtask.
class FileWriter {
 public:
  struct Options {
    size_t flush_threshold = size_t{1} << 20;
    bool sync_on_close = false;  // fsync(2) in close(), for durability across power loss
  };

  // Creates `path` (mode 0644) or truncates it. The parent directory must exist.
  static Result<std::unique_ptr<FileWriter>> open(const std::string& path, Options options);
  static Result<std::unique_ptr<FileWriter>> open(const std::string& path) {
    return open(path, Options());
  }

  ~FileWriter();
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  // Buffers `data`; writes the buffer out when it reaches the threshold.
  // REQUIRES: not closed.
  Status append(std::string_view data) {
    buffer_.append(data);
    return maybe_flush();
  }
  // For encoding in place: append to buffer() directly, then call maybe_flush().
  std::string& buffer() { return buffer_; }
  Status maybe_flush() {
    return buffer_.size() >= options_.flush_threshold ? flush() : Status::ok();
  }

  // Writes the buffer to the file (not fsync).
  Status flush();
  // Flushes, fsyncs if Options::sync_on_close, and closes. Further calls return OK and do nothing.
  Status close();

  const std::string& path() const { return path_; }
  // Bytes handed to append() or buffer() so far, written or not.
  uint64_t bytes_appended() const { return flushed_ + buffer_.size(); }

 private:
  FileWriter(std::string path, int fd, Options options);

  std::string path_;
  int fd_;
  Options options_;
  std::string buffer_;
  uint64_t flushed_ = 0;
};

// Writes all of `data` to `fd`, retrying on short writes and EINTR. `what` names the file in
// errors.
Status write_fully(int fd, std::string_view data, std::string_view what);

}  // namespace sluice::detail
