#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <system_error>

#include <fmt/format.h>

#include "sluice/detail/dead_letter.h"
#include "sluice/detail/text_writer.h"

namespace sluice::detail {

namespace {
constexpr size_t kFlushThreshold = 64 * 1024;
}

Result<std::unique_ptr<DeadLetterWriter>> DeadLetterWriter::open(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return Status::io_error(fmt::format("cannot create directory '{}' for dead letters: {}",
                                          parent.string(), ec.message()));
    }
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::io_error(
        fmt::format("cannot open dead-letter file '{}': {}", path, std::strerror(errno)));
  }
  return std::unique_ptr<DeadLetterWriter>(new DeadLetterWriter(path, fd));
}

DeadLetterWriter::DeadLetterWriter(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

DeadLetterWriter::~DeadLetterWriter() {
  (void)flush();
  ::close(fd_);
}

Status DeadLetterWriter::write(std::string_view source_name, std::string_view file, uint64_t line,
                               std::string_view reason, std::string_view raw_record) {
  std::lock_guard<std::mutex> lock(mutex_);
  buffer_.append("{\"source\":");
  append_json_string(buffer_, source_name);
  buffer_.append(",\"file\":");
  append_json_string(buffer_, file);
  fmt::format_to(std::back_inserter(buffer_), ",\"line\":{},\"reason\":", line);
  append_json_string(buffer_, reason);
  buffer_.append(",\"record\":");
  append_json_string(buffer_, raw_record);
  buffer_.append("}\n");
  return buffer_.size() >= kFlushThreshold ? flush_locked() : Status::ok();
}

Status DeadLetterWriter::flush() {
  std::lock_guard<std::mutex> lock(mutex_);
  return flush_locked();
}

Status DeadLetterWriter::flush_locked() {
  if (buffer_.empty()) return Status::ok();
  // O_APPEND with whole lines per write(2) keeps lines from other processes appending to the same
  // file from interleaving (for local file systems and writes of a sane size).
  Status status = write_fully(fd_, buffer_, path_);
  buffer_.clear();  // on error, drop rather than write a half line twice
  return status;
}

}  // namespace sluice::detail
