// LineReader: the text lines of a file, a directory, a glob or standard input, one after another.
//
// The spec given to open() is one of:
//   - "-" or "stdin": standard input;
//   - "fd:N": an already open file descriptor N (for tests and for inherited pipes); the reader
//     borrows it and does not close it, nor standard input;
//   - a path containing '*', '?' or '[': a glob(3) pattern; the regular files it matches, sorted;
//   - a directory: the regular files directly in it (not in subdirectories, not hidden ones whose
//     names start with '.'), sorted by name; an empty directory yields no lines;
//   - any other path: that file.
//
// Lines come without their "\n" or "\r\n"; a last line without a newline is still a line. Files
// are read with read(2) into one large buffer (1 MiB by default) and lines are views into it, so
// reading allocates nothing in steady state; a line longer than the buffer grows the buffer.
//
// Standard input and "fd:N" never block: next() polls with a zero timeout and returns kWouldBlock
// when no complete line is available yet, so a worker thread can run other tasks and come back.
// (The descriptor is not switched to O_NONBLOCK: that flag is shared with other processes using the
// same terminal or pipe.) Regular files are read with ordinary blocking reads.
//
// Thread-safety: not thread-safe; one reader per source subtask.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/status.h"

namespace sluice::detail {

class LineReader {
 public:
  enum class ReadStatus {
    kLine,        // `line` holds the next line
    kWouldBlock,  // standard input or fd: nothing complete to read now; call again later
    kEnd,         // no more lines; check status() for an I/O error
  };

  struct Options {
    size_t buffer_size = size_t{1} << 20;
  };

  // Resolves `spec` to its files. Returns not-found naming the path when it does not exist or a
  // glob matches no regular file. Files are opened one at a time as reading reaches them.
  static Result<std::unique_ptr<LineReader>> open(std::string_view spec, Options options);
  static Result<std::unique_ptr<LineReader>> open(std::string_view spec) {
    return open(spec, Options());
  }

  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Reads the next line into `line`, which stays valid until the next call.
  ReadStatus next(std::string_view& line);

  // The files that open() resolved the spec to, in reading order ("stdin" or "fd:N" for those).
  const std::vector<std::string>& files() const { return files_; }
  // The file the last line came from.
  const std::string& current_file() const;
  // The 1-based number of the last line within current_file(); 0 before its first line.
  uint64_t line_number() const { return line_number_; }
  // Offset in current_file() of the byte after the last line and its terminator: where the next
  // line starts.
  uint64_t byte_offset() const { return byte_offset_; }
  // Continues the first file at `byte_offset`, counting its lines from `line_number` (a position
  // byte_offset() and line_number() gave, restored from a checkpoint). REQUIRES: before the first
  // next(). Not OK for standard input or "fd:N", or when the file is shorter than the offset.
  Status resume_at(uint64_t byte_offset, uint64_t line_number);
  // OK, or the I/O error that ended reading (next() then returned kEnd).
  const Status& status() const { return status_; }

 private:
  LineReader(std::vector<std::string> files, int borrowed_fd, Options options);

  // Opens the next file of files_ (or takes the borrowed descriptor) and resets the per-file
  // counters. False at the end of the list, or on error with status_ set.
  bool open_next_file();
  // Reads more bytes into the buffer, compacting or growing it first. Returns kLine when there is
  // progress (bytes added, or eof_ now set), kWouldBlock, or kEnd on an error (status_ set).
  ReadStatus fill();
  void close_current();

  std::vector<std::string> files_;
  const int borrowed_fd_;  // stdin or fd:N (not closed by us), or -1 when reading files_
  Options options_;

  int fd_ = -1;
  bool reading_ = false;  // fd_ is the current file and may hold more lines
  bool eof_ = false;      // the current file has no more bytes
  size_t next_file_ = 0;  // index in files_ of the next file to open
  std::vector<char> buffer_;
  size_t begin_ = 0;    // start of the unread bytes in buffer_
  size_t end_ = 0;      // end of the bytes read into buffer_
  size_t scanned_ = 0;  // bytes in [begin_, scanned_) are known to hold no '\n'
  uint64_t line_number_ = 0;
  uint64_t byte_offset_ = 0;
  Status status_;
};

}  // namespace sluice::detail
