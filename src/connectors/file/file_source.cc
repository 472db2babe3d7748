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

FileSourceBase::FileSourceBase(std::shared_ptr<FileSourceShared> shared)
    : shared_(std::move(shared)) {}

FileSourceBase::~FileSourceBase() {
  // A failed or cancelled job still leaves its dead letters on disk.
  if (DeadLetterWriter* dl = shared_->dead_letters()) (void)dl->flush();
}

void FileSourceBase::open() {
  Status status = shared_->open();
  if (!status.is_ok()) throw std::runtime_error(status.message());
  next_file_ = static_cast<size_t>(info_.subtask);
  if (shared_->is_stream() && info_.subtask != 0) exhausted_ = true;
}

bool FileSourceBase::open_next_file() {
  reader_.reset();
  const bool stream = shared_->is_stream();
  if (next_file_ >= (stream ? 1 : shared_->files().size())) return false;
  LineReader::Options options;
  options.buffer_size = kReadBufferSize;
  auto reader = LineReader::open(
      stream ? shared_->spec() : literal_spec(shared_->files()[next_file_]), options);
  if (!reader.is_ok()) throw std::runtime_error(reader.status().message());
  reader_ = std::move(reader).value();
  current_file_ = next_file_;
  next_file_ += stream ? 1 : static_cast<size_t>(info_.parallelism);
  if (resume_offset_ > 0 || resume_line_ > 0) {
    Status resumed = reader_->resume_at(resume_offset_, resume_line_);
    if (!resumed.is_ok()) throw std::runtime_error(resumed.message());
    resume_offset_ = resume_line_ = 0;
  }
  return true;
}

void FileSourceBase::snapshot_state(uint64_t, OperatorSnapshot& out) {
  if (shared_->is_stream()) {
    out.offsets = "standard input (not replayable)";
    return;
  }
  // Between polls every line read has been emitted: the reader's position is the cut.
  const bool reading = reader_ != nullptr;
  const uint64_t index = reading ? current_file_ : next_file_;
  const uint64_t offset = reading ? reader_->byte_offset() : 0;
  const uint64_t line = reading ? reader_->line_number() : 0;
  const std::string name = index < shared_->files().size() ? shared_->files()[index] : "";
  StateWriter w(&out.operator_state);
  w.write(exhausted_);
  w.write(index);
  w.write(name);
  w.write(offset);
  w.write(line);
  out.offsets = exhausted_ ? std::string("at the end")
                           : fmt::format("file {} byte {} line {}", name, offset, line);
}

Status FileSourceBase::restore_state(const OperatorRestore& in) {
  if (shared_->is_stream()) return Status::ok();  // nothing to replay: read on from here
  uint64_t index = 0, offset = 0, line = 0;
  std::string name;
  bool exhausted = false;
  Status s =
      read_own_state(in, info_.subtask, info_.parallelism, info_.display(), [&](StateReader& r) {
        r.read(exhausted);
        r.read(index);
        r.read(name);
        r.read(offset);
        r.read(line);
      });
  if (!s.is_ok() || in.operator_states[static_cast<size_t>(info_.subtask)].empty()) return s;
  const std::vector<std::string>& files = shared_->files();
  // Past the end of the list (a subtask without files) the name is empty.
  const std::string listed = index < files.size() ? files[index] : std::string();
  if (!exhausted && listed != name) {
    return Status::invalid_argument(fmt::format(
        "operator {}: the checkpoint was reading '{}' as file {} of its input; the input now "
        "lists {} there (files added or removed since?)",
        info_.display(), name, index, listed.empty() ? "nothing" : "'" + listed + "'"));
  }
  reader_.reset();
  exhausted_ = exhausted;
  next_file_ = static_cast<size_t>(index);
  resume_offset_ = offset;
  resume_line_ = line;
  return Status::ok();
}

FileSourceBase::Next FileSourceBase::next_line(std::string_view& line) {
  while (!exhausted_) {
    if (reader_ == nullptr && !open_next_file()) {
      exhausted_ = true;
      break;
    }
    switch (reader_->next(line)) {
      case LineReader::ReadStatus::kLine:
        return Next::kLine;
      case LineReader::ReadStatus::kWouldBlock:
        return Next::kWouldBlock;
      case LineReader::ReadStatus::kEnd:
        if (!reader_->status().is_ok()) throw std::runtime_error(reader_->status().message());
        if (!open_next_file()) exhausted_ = true;
        break;
    }
  }
  return Next::kEnd;
}

const std::string& FileSourceBase::current_file() const {
  static const std::string kNone;
  return reader_ != nullptr ? reader_->current_file() : kNone;
}

uint64_t FileSourceBase::line_number() const {
  return reader_ != nullptr ? reader_->line_number() : 0;
}

void FileSourceBase::reject(std::string_view reason, std::string_view raw_line) {
  ++bad_;
  switch (shared_->options().on_bad_record) {
    case BadRecordPolicy::kFail:
      throw std::runtime_error(
          fmt::format("{} line {}: {}", current_file(), line_number(), reason));
    case BadRecordPolicy::kSkip:
      break;
    case BadRecordPolicy::kDeadLetter: {
      Status status = shared_->dead_letters()->write(info_.name, current_file(), line_number(),
                                                     reason, raw_line);
      if (!status.is_ok()) throw std::runtime_error(status.message());
      ++dead_letters_;
      break;
    }
  }
}

void FileSourceBase::publish(uint64_t records) {
  if (metrics_ != nullptr) {
    metrics_->bad_records.add(bad_);
    metrics_->dead_lettered.add(dead_letters_);
  }
  SourceMetrics* metrics = shared_->options().metrics;
  if (metrics == nullptr) {
    bad_ = dead_letters_ = 0;
    return;
  }
  if (records > 0) metrics->records.fetch_add(records, std::memory_order_relaxed);
  if (bad_ > 0) metrics->bad_records.fetch_add(bad_, std::memory_order_relaxed);
  if (dead_letters_ > 0) metrics->dead_letters.fetch_add(dead_letters_, std::memory_order_relaxed);
  bad_ = dead_letters_ = 0;
}

void FileSourceBase::finish() {
  publish(0);
  if (DeadLetterWriter* dl = shared_->dead_letters()) {
    Status status = dl->flush();
    if (!status.is_ok()) throw std::runtime_error(status.message());
  }
}

SourceState FileSourceBase::idle(int64_t now_us) {
  next_poll_us_ = now_us + kStreamPollDelayUs;
  return SourceState::kIdle;
}

}  // namespace sluice::detail

namespace sluice {

Stream<std::string> read_text(Environment& env, const std::string& spec,
                              const FileSourceOptions& options) {
  auto shared = detail::FileSourceShared::make(spec, options, "read_text");
  return env.add_source<std::string>(shared->name(), options.parallelism, [shared] {
    return std::make_unique<detail::FileSource<std::string, detail::TextFormat>>(
        shared, detail::TextFormat());
  });
}

}  // namespace sluice
