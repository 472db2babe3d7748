// FileSourceShared, FileSourceBase and read_text; declared in sluice/detail/file_source.h and
// sluice/connectors/file_sources.h.
#include "sluice/detail/file_source.h"

#include <stdexcept>

#include <fmt/format.h>

#include "sluice/connectors/file_sources.h"

namespace sluice::detail {

namespace {

// How long an idle standard-input source waits before polling again.
constexpr int64_t kStreamPollDelayUs = 2000;
// Lines are read per file into a buffer of this size (grown for longer lines).
constexpr size_t kReadBufferSize = size_t{256} << 10;

bool is_stream_spec(std::string_view spec) {
  return spec == "-" || spec == "stdin" || spec.starts_with("fd:");
}

// A LineReader spec that names exactly the file `path`, even when its name looks like a glob or
// like standard input: glob characters are escaped for glob(3), which then matches only the file.
std::string literal_spec(const std::string& path) {
  if (is_stream_spec(path)) return "./" + path;
  if (path.find_first_of("*?[") == std::string::npos) return path;
  std::string escaped;
  for (char c : path) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') escaped.push_back('\\');
    escaped.push_back(c);
  }
  return escaped;
}

}  // namespace

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

std::shared_ptr<FileSourceShared> FileSourceShared::make(std::string spec,
                                                         const FileSourceOptions& options,
                                                         const char* default_name) {
  std::string name = options.name.empty() ? default_name : options.name;
  return std::shared_ptr<FileSourceShared>(
      new FileSourceShared(std::move(spec), options, std::move(name)));
}

FileSourceShared::FileSourceShared(std::string spec, const FileSourceOptions& options,
                                   std::string name)
    : spec_(std::move(spec)), options_(options), name_(std::move(name)) {}

Status FileSourceShared::open() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (opened_) return open_status_;
  opened_ = true;
  open_status_ = [&]() -> Status {
    if (options_.on_bad_record == BadRecordPolicy::kDeadLetter) {
      if (options_.dead_letter_path.empty()) {
        return Status::invalid_argument(
            "BadRecordPolicy::kDeadLetter needs a dead_letter_path in the source options");
      }
      SLUICE_ASSIGN_OR_RETURN(dead_letters_, DeadLetterWriter::open(options_.dead_letter_path));
    }
    is_stream_ = is_stream_spec(spec_);
    if (!is_stream_) {
      // Lists the files without opening them; each subtask then opens its own.
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<LineReader> lister, LineReader::open(spec_));
      files_ = lister->files();
    }
    return Status::ok();
  }();
  return open_status_;
}

FileSplits::~FileSplits() {
  // A failed or cancelled job still leaves its dead letters on disk.
  if (DeadLetterWriter* dl = shared_->dead_letters()) (void)dl->flush();
}

SplitSourceBase::Options FileSplits::options(const FileSourceShared& shared) {
  SplitSourceBase::Options options;
  options.bounded = true;
  options.batches_per_turn = 0;  // a file to its end before the next one is opened
  options.poll_delay_us = kStreamPollDelayUs;
  options.replayable = !is_stream_spec(shared.spec());
  return options;
}

std::vector<std::string> FileSplits::list() {
  Status status = shared_->open();
  if (!status.is_ok()) throw std::runtime_error(status.message());
  if (shared_->is_stream()) return {shared_->spec()};
  return shared_->files();
}

std::unique_ptr<LineReader> FileSplits::open(const SourceSplit& split) const {
  LineReader::Options options;
  options.buffer_size = kReadBufferSize;
  auto reader =
      LineReader::open(shared_->is_stream() ? shared_->spec() : literal_spec(split.id), options);
  if (!reader.is_ok()) throw std::runtime_error(reader.status().message());
  if (!split.position.empty()) {
    StateReader r(split.position);
    const uint64_t offset = r.read<uint64_t>();
    const uint64_t line = r.read<uint64_t>();
    if (r.failed() || !r.at_end()) {
      throw std::runtime_error("the checkpointed position of " + split.id + " is malformed");
    }
    if (offset > 0 || line > 0) {
      Status resumed = reader.value()->resume_at(offset, line);
      if (!resumed.is_ok()) throw std::runtime_error(resumed.message());
    }
  }
  return std::move(reader).value();
}

void FileSplits::encode_position(const LineReader& reader, std::vector<char>& out) {
  StateWriter w(&out);
  w.write(reader.byte_offset());
  w.write(reader.line_number());
}

std::string FileSplits::describe(const SourceSplit& split) const {
  if (shared_->is_stream()) return "standard input (not replayable)";
  if (split.position.empty()) return "byte 0 line 0";
  StateReader r(split.position);
  const uint64_t offset = r.read<uint64_t>();
  const uint64_t line = r.read<uint64_t>();
  return fmt::format("byte {} line {}", offset, line);
}

Status FileSplits::accept_restored(const SourceSplit& split, bool listed,
                                   const std::string& op) const {
  if (listed) return Status::ok();
  return Status::invalid_argument(
      fmt::format("operator {}: the checkpoint was reading '{}' ({}); the input no longer lists "
                  "it (files removed or renamed since?)",
                  op, split.id, describe(split)));
}

Result<std::vector<SubtaskSplits>> FileSplits::read_legacy_state(const OperatorRestore& in,
                                                                 const std::string& op) const {
  const std::vector<std::string>& files = shared_->files();
  const size_t old_parallelism = in.operator_states.size();
  std::vector<SubtaskSplits> old(old_parallelism);
  for (size_t o = 0; o < old_parallelism; ++o) {
    const std::vector<char>& bytes = in.operator_states[o];
    bool exhausted = false;
    uint64_t index = 0, offset = 0, line = 0;
    std::string name;
    if (!bytes.empty()) {
      StateReader r(bytes);
      r.read(exhausted);
      r.read(index);
      r.read(name);
      r.read(offset);
      r.read(line);
      if (r.failed() || !r.at_end()) {
        return Status::invalid_argument(
            fmt::format("operator {}: the position of old subtask {}: truncated or malformed state",
                        op, o + 1));
      }
      // Past the end of the list (a subtask without files) the name is empty.
      const std::string listed = index < files.size() ? files[index] : std::string();
      if (!exhausted && listed != name) {
        return Status::invalid_argument(fmt::format(
            "operator {}: the checkpoint was reading '{}' as file {} of its input; the input now "
            "lists {} there (files added or removed since?)",
            op, name, index, listed.empty() ? "nothing" : "'" + listed + "'"));
      }
    }
    // Subtask o read the files o, o + p, o + 2p… in that order.
    for (size_t i = o; i < files.size(); i += old_parallelism) {
      SourceSplit split{files[i], {}, false};
      if (!bytes.empty() && (exhausted || i < index)) {
        split.finished = true;
      } else if (!bytes.empty() && i == index && (offset > 0 || line > 0)) {
        StateWriter w(&split.position);
        w.write(offset);
        w.write(line);
      }
      old[o].splits.push_back(std::move(split));
    }
  }
  return old;
}

void FileSplits::reject(const OperatorInfo& info, const LineReader& reader, std::string_view reason,
                        std::string_view raw_line) {
  ++bad_;
  switch (shared_->options().on_bad_record) {
    case BadRecordPolicy::kFail:
      throw std::runtime_error(
          fmt::format("{} line {}: {}", reader.current_file(), reader.line_number(), reason));
    case BadRecordPolicy::kSkip:
      break;
    case BadRecordPolicy::kDeadLetter: {
      Status status = shared_->dead_letters()->write(info.name, reader.current_file(),
                                                     reader.line_number(), reason, raw_line);
      if (!status.is_ok()) throw std::runtime_error(status.message());
      ++dead_letters_;
      break;
    }
  }
}

void FileSplits::publish(OperatorMetrics* metrics, uint64_t records) {
  if (metrics != nullptr) {
    metrics->bad_records.add(bad_);
    metrics->dead_lettered.add(dead_letters_);
  }
  SourceMetrics* counters = shared_->options().metrics;
  if (counters == nullptr) {
    bad_ = dead_letters_ = 0;
    return;
  }
  if (records > 0) counters->records.fetch_add(records, std::memory_order_relaxed);
  if (bad_ > 0) counters->bad_records.fetch_add(bad_, std::memory_order_relaxed);
  if (dead_letters_ > 0) {
    counters->dead_letters.fetch_add(dead_letters_, std::memory_order_relaxed);
  }
  bad_ = dead_letters_ = 0;
}

void FileSplits::finish(OperatorMetrics* metrics) {
  publish(metrics, 0);
  if (DeadLetterWriter* dl = shared_->dead_letters()) {
    Status status = dl->flush();
    if (!status.is_ok()) throw std::runtime_error(status.message());
  }
}

}  // namespace sluice::detail

namespace sluice {

Stream<std::string> read_text(Environment& env, const std::string& spec,
                              const FileSourceOptions& options) {
  auto shared = detail::FileSourceShared::make(spec, options, "read_text");
  Stream<std::string> lines =
      env.add_source<std::string>(shared->name(), options.parallelism, [shared] {
        return std::make_unique<detail::FileSource<std::string, detail::TextFormat>>(
            shared, detail::TextFormat());
      });
  detail::mark_split_source(env.graph().node(lines.node()));
  return lines;
}

}  // namespace sluice
