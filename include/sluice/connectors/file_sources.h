// File sources: text lines, CSV and JSON lines from files, directories, globs and standard input.
//
//   auto lines = sluice::read_text(env, "logs/");                     // Stream<std::string>
//   auto trades = sluice::read_csv(env, "in/*.csv", [](const sluice::CsvRow& r) {
//     return Trade{r.int64(0), std::string(r.str(1)), r.float64(2)};
//   });
//   auto events = sluice::read_json(env, "-", [](const sluice::JsonRow& r) {
//     return Click{r.int64("user"), r.int64("/page/id")};
//   });
//
// The path spec is a file, a directory (its regular, non-hidden files), a glob, "-" or "stdin"
// for standard input, or "fd:N" for an inherited descriptor (see detail/line_reader.h). Files are
// listed once, sorted by name, when the job starts; with p subtasks, subtask s reads the files
// i ≡ s (mod p) of that list, one after another, each from its first line to its last. Standard
// input and "fd:N" are
// read by subtask 0 alone, without ever blocking a worker: when no complete line is available the
// source goes idle and polls again a few milliseconds later.
//
// Bad records. A line is bad when it is not valid CSV or JSON, when the parse function recorded an
// error in the row (CsvRow/JsonRow accessors do, e.g. a missing field or a non-number), or when the
// parse function threw. What happens is the source's BadRecordPolicy:
//   - kFail (default): the job fails with "<file> line <n>: <reason>";
//   - kSkip: the line is dropped and counted in SourceMetrics::bad_records;
//   - kDeadLetter: the line is counted and written, with its file, line number and reason, to the
//     JSON-lines file `dead_letter_path` (shared by the source's subtasks; see
//     detail/dead_letter.h for the format).
// Blank lines (empty or only spaces and tabs) in CSV and JSON input are not records and are
// ignored; read_text() returns every line, blank or not.
//
// Errors that are not about one record (a missing path, an unreadable file) fail the job when it
// starts or when reading reaches the file.
//
// Checkpoints. A file source is replayable: each file is a split (detail/split_source.h) whose
// position — the byte offset after the last line emitted and its line number, or finished — is
// in every checkpoint and savepoint under the file's path. A restore, at any parallelism, deals
// the files out again and each goes on where it was, so with part-file sinks the output is
// exactly once. The files must not change meanwhile; a file added since is read from its start,
// one being read that is gone fails the restore. Standard input and "fd:N" are not replayable
// (see docs/checkpoints.md).
//
// Event time. `assign_timestamps(ts_fn, strategy)` called directly on the stream a read_* returns
// gives the source the function: it keeps a watermark per file and emits the minimum over the
// files its subtask has not finished, so rows of a file far behind the others in event time are
// not late (a file not reached yet holds the watermark back too: windows fire as the subtask's
// last files are read). Called after another operator, it generates one watermark per subtask as
// for any stream.
#pragma once

#include <string>
#include <type_traits>

#include "sluice/connectors/file_source_options.h"
#include "sluice/csv_row.h"
#include "sluice/detail/file_source.h"
#include "sluice/environment.h"
#include "sluice/json_row.h"

namespace sluice {

// Every line, without its terminator.
Stream<std::string> read_text(Environment& env, const std::string& spec,
                              const FileSourceOptions& options = {});

// Rows `parse(row)` for each CSV line; `parse` is `T fn(const CsvRow&)`. T is deduced from parse
// unless given.
template <typename T = void, typename F>
auto read_csv(Environment& env, const std::string& spec, F parse,
              const CsvSourceOptions& options = {}) {
  static_assert(std::is_invocable_v<F, const CsvRow&>,
                "read_csv: the parse function must be callable as `T fn(const sluice::CsvRow&)`");
  using Row = std::conditional_t<std::is_void_v<T>,
                                 std::decay_t<std::invoke_result_t<F, const CsvRow&>>, T>;
  static_assert(!std::is_void_v<Row>, "read_csv: the parse function must return the row");
  using Format = detail::CsvFormat<Row, F>;
  auto shared = detail::FileSourceShared::make(spec, options, "read_csv");
  const char delimiter = options.delimiter;
  const bool header = options.header;
  Stream<Row> rows = env.add_source<Row>(shared->name(), options.parallelism, [=] {
    return std::make_unique<detail::FileSource<Row, Format>>(shared,
                                                             Format(parse, delimiter, header));
  });
  detail::mark_split_source(env.graph().node(rows.node()));
  return rows;
}

// Rows `parse(row)` for each JSON line; `parse` is `T fn(const JsonRow&)`. T is deduced from parse
// unless given.
template <typename T = void, typename F>
auto read_json(Environment& env, const std::string& spec, F parse,
               const FileSourceOptions& options = {}) {
  static_assert(std::is_invocable_v<F, const JsonRow&>,
                "read_json: the parse function must be callable as `T fn(const sluice::JsonRow&)`");
  using Row = std::conditional_t<std::is_void_v<T>,
                                 std::decay_t<std::invoke_result_t<F, const JsonRow&>>, T>;
  static_assert(!std::is_void_v<Row>, "read_json: the parse function must return the row");
  using Format = detail::JsonFormat<Row, F>;
  auto shared = detail::FileSourceShared::make(spec, options, "read_json");
  Stream<Row> rows = env.add_source<Row>(shared->name(), options.parallelism, [shared, parse] {
    return std::make_unique<detail::FileSource<Row, Format>>(shared, Format(parse));
  });
  detail::mark_split_source(env.graph().node(rows.node()));
  return rows;
}

}  // namespace sluice
