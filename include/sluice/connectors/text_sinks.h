// Text sinks: rows printed to standard output or written to CSV and JSON-lines files.
//
//   stream.sink(sluice::sinks::print<KeyCount>());          // key=7 count=3
//   stream.sink(sluice::sinks::print_json<KeyCount>());     // {"key":7,"count":3}
//   stream.sink(sluice::sinks::csv_file<KeyCount>("out/counts.csv"));
//   stream.sink(sluice::sinks::json_file<KeyCount>("out/counts.jsonl"));
//
// Rows are encoded through their field description (sluice/fields.h) by the encoders of
// sluice/detail/row_encoder.h, into a buffer each subtask reuses: no allocation per row.
//
// Standard output: each batch is encoded into whole lines and written with one write(2) under a
// process-wide lock, so lines of different subtasks and sinks never interleave mid-line.
//
// Files: with parallelism 1 the sink writes `path`; with parallelism p > 1 subtask s writes `path`
// with ".<s>" inserted before the extension of its last component (out/counts.csv becomes
// out/counts.0.csv, out/counts.1.csv, ...; a name without an extension gets ".<s>" appended). Each
// file is created or truncated when the job starts, written in large blocks, and closed when the
// input ends; its directory must exist. A CSV file starts with a header line naming the columns
// (nested fields as `outer.inner`), taken from a default-constructed row, or from the first row
// when the type has no default constructor (then an empty input writes an empty file).
//
// Errors (a file that cannot be created, a failed write) fail the job with the file's name.
//
// Thread-safety: each subtask owns its copy of a sink; only the stdout lock is shared.
#pragma once

#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "sluice/detail/row_encoder.h"
#include "sluice/detail/text_writer.h"
#include "sluice/status.h"

namespace sluice {
namespace detail {

// Writes `data` to `fd` in full while holding the process-wide output lock.
Status write_locked(int fd, std::string_view data);

// `path` for subtask `subtask` of `parallelism` (see the file comment); `path` when parallelism
// is 1.
std::string subtask_path(const std::string& path, int subtask, int parallelism);

inline void throw_if_error(const Status& status) {
  if (!status.is_ok()) throw std::runtime_error(status.message());
}

}  // namespace detail

namespace sinks {

inline constexpr int kStdout = 1;

// Encodes each batch into whole lines and writes them to a descriptor (standard output unless
// told otherwise; the descriptor is borrowed, never closed).
template <typename T, typename Encoder>
class PrintSink {
 public:
  explicit PrintSink(int fd) : fd_(fd) {}
  void write(std::span<const T> rows) {
    buffer_.clear();
    for (const T& row : rows) encoder_.append_row(buffer_, row);
    detail::throw_if_error(detail::write_locked(fd_, buffer_));
  }

 private:
  int fd_;
  Encoder encoder_;
  std::string buffer_;
};

// Readable lines, `key=7 count=3`.
template <typename T>
PrintSink<T, detail::TextRowEncoder> print(int fd = kStdout) {
  return PrintSink<T, detail::TextRowEncoder>(fd);
}

// JSON lines, `{"key":7,"count":3}`.
template <typename T>
PrintSink<T, detail::JsonRowEncoder> print_json(int fd = kStdout) {
  return PrintSink<T, detail::JsonRowEncoder>(fd);
}

// Writes encoded rows to one file per subtask (see the file comment for the names).
template <typename T, typename Encoder>
class FileSink {
 public:
  FileSink(std::string path, Encoder encoder, bool header)
      : path_(std::move(path)), encoder_(encoder), header_(header) {}
  // A copy is a fresh, unopened sink: each subtask opens its own file.
  FileSink(const FileSink& other)
      : path_(other.path_), encoder_(other.encoder_), header_(other.header_) {}

  void open(int subtask, int parallelism) {
    auto writer = detail::FileWriter::open(detail::subtask_path(path_, subtask, parallelism));
    detail::throw_if_error(writer.status());
    writer_ = std::move(writer).value();
    if constexpr (std::is_default_constructible_v<T>) write_header(T{});
  }

  void write(std::span<const T> rows) {
    std::string& buffer = writer_->buffer();
    if constexpr (!std::is_default_constructible_v<T>) {
      if (!rows.empty()) write_header(rows.front());
    }
    for (const T& row : rows) encoder_.append_row(buffer, row);
    detail::throw_if_error(writer_->maybe_flush());
  }

  void finish() { detail::throw_if_error(writer_->close()); }

 private:
  void write_header(const T& sample) {
    if constexpr (requires(std::string & out) { encoder_.append_header(out, sample); }) {
      if (header_) encoder_.append_header(writer_->buffer(), sample);
    }
    header_ = false;
  }

  std::string path_;
  Encoder encoder_;
  bool header_;  // a header is still to be written
  std::unique_ptr<detail::FileWriter> writer_;
};

struct CsvFileOptions {
  bool header = true;
  char delimiter = ',';
};

template <typename T>
FileSink<T, detail::CsvRowEncoder> csv_file(std::string path, CsvFileOptions options = {}) {
  return FileSink<T, detail::CsvRowEncoder>(
      std::move(path), detail::CsvRowEncoder(options.delimiter), options.header);
}

template <typename T>
FileSink<T, detail::JsonRowEncoder> json_file(std::string path) {
  return FileSink<T, detail::JsonRowEncoder>(std::move(path), detail::JsonRowEncoder(), false);
}

}  // namespace sinks
}  // namespace sluice
