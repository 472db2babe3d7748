// The file source operator behind read_text, read_csv and read_json (sluice/connectors/
// file_sources.h).
//
// FileSourceBase does everything that does not depend on the row type, out of line: it lists the
// files once per source (FileSourceShared), reads the lines of the subtask's files one file after
// another, applies the bad-record policy and publishes the counters. FileSource<T, Format> adds
// the per-line loop, in which a Format turns a line into a row:
//
//   Parsed parse(std::string_view line, uint64_t line_number, RowVector<T>& rows, size_t& used,
//                std::string& reason);
//
// which stores a row at rows[used] (or appends it) and increments `used`, or returns kIgnored
// (a header or blank line) or kBad with `reason` set. Rows are overwritten in place from batch to
// batch, so a std::string row keeps its capacity and reading text allocates nothing in steady
// state.
//
// Thread-safety: an operator belongs to one task; FileSourceShared is used by all subtasks of a
// source: it is set up under its mutex in open(), on the job's control thread, and read-only after
// that except for the dead-letter writer, which is thread-safe.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
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

class FileSourceBase : public SourceOperator {
 public:
  explicit FileSourceBase(std::shared_ptr<FileSourceShared> shared);
  ~FileSourceBase() override;

  void open() override;
  int64_t next_poll_us() const override { return next_poll_us_; }

  // The position: the file being read (index in the sorted list, and its name to check it
  // against the list on restore), its byte offset and line number. Standard input has none.
  bool has_state() const override { return true; }
  void snapshot_state(uint64_t checkpoint_id, OperatorSnapshot& out) override;
  Status restore_state(const OperatorRestore& in) override;

  enum class Parsed { kRow, kIgnored, kBad };

 protected:
  enum class Next { kLine, kWouldBlock, kEnd };

  // The next line of this subtask's files; kEnd again and again once they are exhausted.
  Next next_line(std::string_view& line);
  // Where the last line came from.
  const std::string& current_file() const;
  uint64_t line_number() const;
  // Applies the bad-record policy to the last line: throws for kFail.
  void reject(std::string_view reason, std::string_view raw_line);
  // Publishes the counters of one poll.
  void publish(uint64_t records);
  // Flushes the dead letters and publishes what is left; before returning kEnd.
  void finish();
  SourceState idle(int64_t now_us);

 private:
  bool open_next_file();

  std::shared_ptr<FileSourceShared> shared_;
  std::unique_ptr<LineReader> reader_;
  // ---- checkpointed (the position) ----
  size_t next_file_ = 0;     // index in shared_->files() of the next file of this subtask
  size_t current_file_ = 0;  // index of the file reader_ reads
  bool exhausted_ = false;
  // ---- not checkpointed ----
  uint64_t resume_offset_ = 0;  // where the first file opened continues (a restored position)
  uint64_t resume_line_ = 0;
  uint64_t bad_ = 0;  // not yet published
  uint64_t dead_letters_ = 0;
  int64_t next_poll_us_ = 0;
};

template <typename T, typename Format>
class FileSource final : public FileSourceBase {
 public:
  FileSource(std::shared_ptr<FileSourceShared> shared, Format format)
      : FileSourceBase(std::move(shared)), format_(std::move(format)) {}

  SourceState poll(int64_t now_us) override {
    // Bounds the lines looked at per poll, so a long run of bad lines still yields to the worker.
    const size_t max_lines = 4 * info_.batch_size;
    RowVector<T>& rows = batch_.rows;
    batch_.times.clear();  // a downstream operator may have given the last batch event times
    size_t used = 0;
    size_t lines = 0;
    bool end = false;
    std::string_view line;
    while (used < info_.batch_size && lines < max_lines) {
      const Next next = next_line(line);
      if (next == Next::kWouldBlock) {
        if (lines == 0) return idle(now_us);
        break;
      }
      if (next == Next::kEnd) {
        end = true;
        break;
      }
      ++lines;
      if (format_.parse(line, line_number(), rows, used, reason_) == Parsed::kBad) {
        reject(reason_, line);
      }
    }
    if (rows.size() > used) rows.erase(rows.begin() + static_cast<ptrdiff_t>(used), rows.end());
    publish(used);
    if (used > 0) out_->emit(batch_);
    if (end && used == 0) {
      finish();
      return SourceState::kEnd;
    }
    return SourceState::kMore;
  }

 private:
  Format format_;
  Batch<T> batch_;
  std::string reason_;
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
  FileSourceBase::Parsed parse(std::string_view line, uint64_t, RowVector<std::string>& rows,
                               size_t& used, std::string&) {
    if (used < rows.size()) {
      rows[used].assign(line);
    } else {
      rows.emplace_back(line);
    }
    ++used;
    return FileSourceBase::Parsed::kRow;
  }
};

// Calls the user's parse function, turning an error recorded in the row or an exception into a
// bad record.
template <typename T, typename F, typename RowView>
FileSourceBase::Parsed parse_with(F& parse, const RowView& view, RowVector<T>& rows, size_t& used,
                                  std::string& reason) {
  try {
    T row = parse(view);
    if (const std::string* error = view.error()) {
      reason = *error;
      return FileSourceBase::Parsed::kBad;
    }
    put_row(rows, used, std::move(row));
    return FileSourceBase::Parsed::kRow;
  } catch (const std::exception& e) {
    reason = std::string("parse function threw: ") + e.what();
  } catch (...) {
    reason = "parse function threw an exception";
  }
  return FileSourceBase::Parsed::kBad;
}

template <typename T, typename F>
class CsvFormat {
 public:
  CsvFormat(F parse, char delimiter, bool header)
      : parse_(std::move(parse)), splitter_(delimiter), header_(header) {}

  FileSourceBase::Parsed parse(std::string_view line, uint64_t line_number, RowVector<T>& rows,
                               size_t& used, std::string& reason) {
    if ((header_ && line_number == 1) || is_blank(line)) return FileSourceBase::Parsed::kIgnored;
    Status split = splitter_.split(line, row_);
    if (!split.is_ok()) {
      reason = split.message();
      return FileSourceBase::Parsed::kBad;
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

  FileSourceBase::Parsed parse(std::string_view line, uint64_t, RowVector<T>& rows, size_t& used,
                               std::string& reason) {
    if (is_blank(line)) return FileSourceBase::Parsed::kIgnored;
    Status parsed = parser_->parse(line, row_);
    if (!parsed.is_ok()) {
      reason = parsed.message();
      return FileSourceBase::Parsed::kBad;
    }
    return parse_with<T>(parse_, row_, rows, used, reason);
  }

 private:
  F parse_;
  std::unique_ptr<JsonLineParser> parser_;  // not movable itself
  JsonRow row_;
};

}  // namespace sluice::detail
