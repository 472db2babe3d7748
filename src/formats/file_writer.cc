// FileWriter and write_fully; declared in sluice/detail/text_writer.h.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "sluice/detail/text_writer.h"

namespace sluice::detail {

Status write_fully(int fd, std::string_view data, std::string_view what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::io_error(fmt::format("writing '{}': {}", what, std::strerror(errno)));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok();
}

Result<std::unique_ptr<FileWriter>> FileWriter::open(const std::string& path, Options options) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::io_error(fmt::format("cannot create '{}': {}", path, std::strerror(errno)));
  }
  return std::unique_ptr<FileWriter>(new FileWriter(path, fd, options));
}

FileWriter::FileWriter(std::string path, int fd, Options options)
    : path_(std::move(path)), fd_(fd), options_(options) {
  buffer_.reserve(options_.flush_threshold);
}

FileWriter::~FileWriter() {
  if (fd_ >= 0) (void)close();
}

Status FileWriter::flush() {
  if (buffer_.empty()) return Status::ok();
  if (fd_ < 0) return Status::internal(fmt::format("'{}': write after close", path_));
  Status status = write_fully(fd_, buffer_, path_);
  if (status.is_ok()) {
    flushed_ += buffer_.size();
    buffer_.clear();
  }
  return status;
}

Status FileWriter::close() {
  if (fd_ < 0) return Status::ok();
  Status status = flush();
  if (status.is_ok() && options_.sync_on_close && ::fsync(fd_) != 0) {
    status = Status::io_error(fmt::format("fsync '{}': {}", path_, std::strerror(errno)));
  }
  if (::close(fd_) != 0 && status.is_ok()) {
    status = Status::io_error(fmt::format("closing '{}': {}", path_, std::strerror(errno)));
  }
  fd_ = -1;
  return status;
}

}  // namespace sluice::detail
