// The file source operator behind read_text, read_csv and read_json (sluice/connectors/
// file_sources.h): a split source (split_source.h) whose splits are files.
//
// FileSourceShared lists the files once per source. Each file is a split: its id is the path,
// its position the byte offset after the last line emitted and that line's number, so a
// checkpoint restores at any parallelism, each file going on where it was, whoever reads it
// now. A subtask reads its files one after another (FileSplitReader, the per-line loop with
// the Format inlined); FileSplits does what does not depend on the row type, out of line:
// listing, positions, the bad-record policy and the counters. Standard input and "fd:N" are one
// split, read by subtask 0, not replayable.
//
// Thread-safety: an operator belongs to one task; FileSourceShared is used by all subtasks of a
// source: it is set up under its mutex in open(), on the job's control thread, and read-only after
// that except for the dead-letter writer, which is thread-safe.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/connectors/file_source_options.h"
#include "sluice/csv_row.h"
#include "sluice/detail/csv_splitter.h"
#include "sluice/detail/dead_letter.h"
#include "sluice/detail/json_line_parser.h"
#include "sluice/detail/line_reader.h"
#include "sluice/detail/operator.h"
#include "sluice/detail/operator_snapshot.h"
#include "sluice/detail/split_source.h"
#include "sluice/json_row.h"

namespace sluice::detail {

// What the subtasks of one file source share: the spec, the options, the file list and the
// dead-letter writer, both set up by the first subtask to open.
class FileSourceShared {
 public:
  static std::shared_ptr<FileSourceShared> make(std::string spec, const FileSourceOptions& options,
                                                const char* default_name);

  const std::string& name() const { return name_; }
  const std::string& spec() const { return spec_; }
  const FileSourceOptions& options() const { return options_; }

  // Lists the files (once) and opens the dead-letter file (once); the same error for every
  // subtask when that fails.
  Status open();
  // Standard input or "fd:N": one stream, read by subtask 0.
  bool is_stream() const { return is_stream_; }
  // The sorted files of the spec. REQUIRES: open() succeeded.
  const std::vector<std::string>& files() const { return files_; }
  // Null unless the policy is kDeadLetter. REQUIRES: open() succeeded.
  DeadLetterWriter* dead_letters() const { return dead_letters_.get(); }

 private:
  FileSourceShared(std::string spec, const FileSourceOptions& options, std::string name);

  const std::string spec_;
  const FileSourceOptions options_;
  const std::string name_;
  std::mutex mutex_;
  bool opened_ = false;  // guarded by mutex_, like the members below until it is set
  Status open_status_;
  bool is_stream_ = false;
  std::vector<std::string> files_;
  std::unique_ptr<DeadLetterWriter> dead_letters_;
};

enum class ParsedLine { kRow, kIgnored, kBad };

// What the subtask of a file source does apart from parsing: its files as splits (the path is
// the split's id, the position its byte offset and line number), positions in older
// checkpoints, bad records and counters. Out of line, shared by every row type.
class FileSplits {
 public:
  explicit FileSplits(std::shared_ptr<FileSourceShared> shared) : shared_(std::move(shared)) {}
  ~FileSplits();

  static SplitSourceBase::Options options(const FileSourceShared& shared);

  const FileSourceShared& shared() const { return *shared_; }
  // Lists the files (the spec, for standard input); throws when that fails.
  std::vector<std::string> list();
  // Opens `split` at its position; throws when that fails.
  std::unique_ptr<LineReader> open(const SourceSplit& split) const;
  static void encode_position(const LineReader& reader, std::vector<char>& out);
  std::string describe(const SourceSplit& split) const;
  Status accept_restored(const SourceSplit& split, bool listed, const std::string& op) const;
  // Positions written before file sources had splits: per subtask, the file it was reading (its
  // index in the list and its name), byte offset and line number, the files i ≡ s (mod p) of the
  // list being subtask s's. Converted to splits, so they restore at any parallelism too.
  Result<std::vector<SubtaskSplits>> read_legacy_state(const OperatorRestore& in,
                                                       const std::string& op) const;

  // Applies the bad-record policy to a line of `reader`: throws for kFail.
  void reject(const OperatorInfo& info, const LineReader& reader, std::string_view reason,
              std::string_view raw_line);
  // Publishes the counters of one poll.
  void publish(OperatorMetrics* metrics, uint64_t records);
  // Flushes the dead letters and publishes what is left; before the source ends.
  void finish(OperatorMetrics* metrics);

 private:
  std::shared_ptr<FileSourceShared> shared_;
  uint64_t bad_ = 0;  // not yet published
  uint64_t dead_letters_ = 0;
};

// Reads the lines of one file (or standard input) and turns them into rows with a Format.
template <typename T, typename Format>
class FileSplitReader final : public SplitReader<T> {
 public:
  FileSplitReader(std::unique_ptr<LineReader> reader, Format* format, FileSplits* files,
                  const OperatorInfo* info)
      : reader_(std::move(reader)), format_(format), files_(files), info_(info) {}

  SplitStatus read(RowVector<T>& rows, size_t& used, size_t limit) override {
    // Bounds the lines looked at per call, so a long run of bad lines still yields to the worker.
    const size_t max_lines = 4 * limit;
    size_t lines = 0;
    std::string_view line;
    while (used < limit && lines < max_lines) {
      switch (reader_->next(line)) {
        case LineReader::ReadStatus::kLine:
          break;
        case LineReader::ReadStatus::kWouldBlock:
          return SplitStatus::kNothingNow;
        case LineReader::ReadStatus::kEnd:
          if (!reader_->status().is_ok()) throw std::runtime_error(reader_->status().message());
          return SplitStatus::kEnd;
      }
      ++lines;
      if (format_->parse(line, reader_->line_number(), rows, used, reason_) == ParsedLine::kBad) {
        files_->reject(*info_, *reader_, reason_, line);
      }
    }
    return SplitStatus::kMore;
  }

  void position(std::vector<char>& out) const override {
    FileSplits::encode_position(*reader_, out);
  }

 private:
  std::unique_ptr<LineReader> reader_;
  Format* format_;     // the subtask's; one split is read at a time
  FileSplits* files_;  // the subtask's
  const OperatorInfo* info_;
  std::string reason_;
};

// A file source subtask: a split source whose splits are the files of its spec, read one after
// another (a file to its end before the next), each line parsed by a Format:
//
//   ParsedLine parse(std::string_view line, uint64_t line_number, RowVector<T>& rows,
//                    size_t& used, std::string& reason);
//
// which stores a row at rows[used] (or appends it) and increments `used`, or returns kIgnored
// (a header or blank line) or kBad with `reason` set. Rows are overwritten in place from batch to
// batch, so a std::string row keeps its capacity and reading text allocates nothing in steady
// state.
template <typename T, typename Format>
class FileSource final : public SplitSource<T> {
 public:
  FileSource(std::shared_ptr<FileSourceShared> shared, Format format)
      : SplitSource<T>(FileSplits::options(*shared)),
        files_(std::move(shared)),
        format_(std::move(format)) {}

 protected:
  std::vector<std::string> list_splits() override { return files_.list(); }
  std::unique_ptr<SplitReader<T>> make_reader(const SourceSplit& split) override {
    return std::make_unique<FileSplitReader<T, Format>>(files_.open(split), &format_, &files_,
                                                        &this->info_);
  }
  std::string describe_position(const SourceSplit& split) const override {
    return files_.describe(split);
  }
  Status accept_restored(const SourceSplit& split, bool listed) const override {
    return files_.accept_restored(split, listed, this->info_.display());
  }
  Result<std::vector<SubtaskSplits>> read_legacy_state(const OperatorRestore& in) override {
    return files_.read_legacy_state(in, this->info_.display());
  }
  void polled(size_t rows) override { files_.publish(this->metrics_, rows); }
  void ending() override { files_.finish(this->metrics_); }

 private:
  FileSplits files_;
  Format format_;
};

// Stores `row` in the slot rows[used], reusing the slots of the previous batch.
template <typename T>
void put_row(RowVector<T>& rows, size_t& used, T&& row) {
  if (used < rows.size()) {
    rows[used] = std::move(row);
  } else {
    rows.push_back(std::move(row));
  }
  ++used;
}

bool is_blank(std::string_view line);

struct TextFormat {
  ParsedLine parse(std::string_view line, uint64_t, RowVector<std::string>& rows, size_t& used,
                   std::string&) {
    if (used < rows.size()) {
      rows[used].assign(line);
    } else {
      rows.emplace_back(line);
    }
    ++used;
    return ParsedLine::kRow;
  }
};

// Calls the user's parse function, turning an error recorded in the row or an exception into a
// bad record.
template <typename T, typename F, typename RowView>
ParsedLine parse_with(F& parse, const RowView& view, RowVector<T>& rows, size_t& used,
                      std::string& reason) {
  try {
    T row = parse(view);
    if (const std::string* error = view.error()) {
      reason = *error;
      return ParsedLine::kBad;
    }
    put_row(rows, used, std::move(row));
    return ParsedLine::kRow;
  } catch (const std::exception& e) {
    reason = std::string("parse function threw: ") + e.what();
  } catch (...) {
    reason = "parse function threw an exception";
  }
  return ParsedLine::kBad;
}

template <typename T, typename F>
class CsvFormat {
 public:
  CsvFormat(F parse, char delimiter, bool header)
      : parse_(std::move(parse)), splitter_(delimiter), header_(header) {}

  ParsedLine parse(std::string_view line, uint64_t line_number, RowVector<T>& rows, size_t& used,
                   std::string& reason) {
    if ((header_ && line_number == 1) || is_blank(line)) return ParsedLine::kIgnored;
    Status split = splitter_.split(line, row_);
    if (!split.is_ok()) {
      reason = split.message();
      return ParsedLine::kBad;
    }
    return parse_with<T>(parse_, row_, rows, used, reason);
  }

 private:
  F parse_;
  CsvSplitter splitter_;
  CsvRow row_;
  bool header_;
};

template <typename T, typename F>
class JsonFormat {
 public:
  explicit JsonFormat(F parse)
      : parse_(std::move(parse)), parser_(std::make_unique<JsonLineParser>()) {}

  ParsedLine parse(std::string_view line, uint64_t, RowVector<T>& rows, size_t& used,
                   std::string& reason) {
    if (is_blank(line)) return ParsedLine::kIgnored;
    Status parsed = parser_->parse(line, row_);
    if (!parsed.is_ok()) {
      reason = parsed.message();
      return ParsedLine::kBad;
    }
    return parse_with<T>(parse_, row_, rows, used, reason);
  }

 private:
  F parse_;
  std::unique_ptr<JsonLineParser> parser_;  // not movable itself
  JsonRow row_;
};

}  // namespace sluice::detail
