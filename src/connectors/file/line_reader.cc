#include "sluice/detail/line_reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace sluice::detail {

namespace {

bool is_regular_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<std::vector<std::string>> expand_glob(const std::string& pattern) {
  glob_t g;
  int rc = ::glob(pattern.c_str(), 0, nullptr, &g);  // glob sorts its results
  std::vector<std::string> files;
  if (rc == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      std::string path = g.gl_pathv[i];
      if (is_regular_file(path)) files.push_back(std::move(path));
    }
  }
  ::globfree(&g);
  if (rc != 0 && rc != GLOB_NOMATCH) {
    return Status::io_error(fmt::format("cannot expand glob '{}'", pattern));
  }
  if (files.empty()) {
    return Status::not_found(fmt::format("glob '{}' matches no regular file", pattern));
  }
  return files;
}

Result<std::vector<std::string>> list_directory(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return Status::io_error(
        fmt::format("cannot open directory '{}': {}", dir, std::strerror(errno)));
  }
  std::string prefix = dir.back() == '/' ? dir : dir + "/";
  std::vector<std::string> files;
  while (const dirent* entry = ::readdir(d)) {
    if (entry->d_name[0] == '.') continue;  // ".", ".." and hidden files
    std::string path = prefix + entry->d_name;
    if (is_regular_file(path)) files.push_back(std::move(path));
  }
  ::closedir(d);
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

Result<std::unique_ptr<LineReader>> LineReader::open(std::string_view spec, Options options) {
  if (options.buffer_size == 0) return Status::invalid_argument("line reader: buffer size is 0");
  auto make = [&](std::vector<std::string> files, int fd) {
    return std::unique_ptr<LineReader>(new LineReader(std::move(files), fd, options));
  };
  if (spec == "-" || spec == "stdin") return make({"stdin"}, STDIN_FILENO);
  if (spec.starts_with("fd:")) {
    int fd = -1;
    std::string_view digits = spec.substr(3);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), fd);
    if (ec != std::errc() || end != digits.data() + digits.size() || fd < 0) {
      return Status::invalid_argument(
          fmt::format("'{}': expected fd:N with N a file descriptor number", spec));
    }
    return make({std::string(spec)}, fd);
  }
  std::string path(spec);
  if (path.empty()) return Status::invalid_argument("empty input path");
  if (path.find_first_of("*?[") != std::string::npos) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> files, expand_glob(path));
    return make(std::move(files), -1);
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return Status::not_found(fmt::format("input path '{}' does not exist", path));
    }
    return Status::io_error(fmt::format("cannot access '{}': {}", path, std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> files, list_directory(path));
    return make(std::move(files), -1);
  }
  return make({path}, -1);
}

LineReader::LineReader(std::vector<std::string> files, int borrowed_fd, Options options)
    : files_(std::move(files)), borrowed_fd_(borrowed_fd), options_(options) {}

LineReader::~LineReader() { close_current(); }

const std::string& LineReader::current_file() const {
  static const std::string kNone;
  if (files_.empty()) return kNone;
  return files_[next_file_ == 0 ? 0 : next_file_ - 1];
}

LineReader::ReadStatus LineReader::next(std::string_view& line) {
  while (true) {
    if (!reading_ && !open_next_file()) return ReadStatus::kEnd;
    const char* data = buffer_.data();
    if (const void* hit = std::memchr(data + scanned_, '\n', end_ - scanned_)) {
      size_t newline = static_cast<size_t>(static_cast<const char*>(hit) - data);
      size_t length = newline - begin_;
      line = std::string_view(data + begin_, length);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      begin_ = scanned_ = newline + 1;
      byte_offset_ += length + 1;
      ++line_number_;
      return ReadStatus::kLine;
    }
    scanned_ = end_;
    if (eof_) {
      if (begin_ < end_) {  // a last line without a newline
        line = std::string_view(data + begin_, end_ - begin_);
        byte_offset_ += end_ - begin_;
        begin_ = scanned_ = end_;
        ++line_number_;
        return ReadStatus::kLine;
      }
      close_current();
      continue;
    }
    ReadStatus filled = fill();
    if (filled != ReadStatus::kLine) {
      if (filled == ReadStatus::kEnd) close_current();
      return filled;
    }
  }
}

bool LineReader::open_next_file() {
  if (!status_.is_ok()) return false;
  if (borrowed_fd_ >= 0) {
    if (next_file_ > 0) return false;
    fd_ = borrowed_fd_;
  } else {
    if (next_file_ >= files_.size()) return false;
    const std::string& path = files_[next_file_];
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      status_ = Status::io_error(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
      return false;
    }
    (void)::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  ++next_file_;
  if (buffer_.empty()) buffer_.resize(options_.buffer_size);
  reading_ = true;
  eof_ = false;
  begin_ = end_ = scanned_ = 0;
  line_number_ = 0;
  byte_offset_ = 0;
  return true;
}

Status LineReader::resume_at(uint64_t byte_offset, uint64_t line_number) {
  if (borrowed_fd_ >= 0) {
    return Status::invalid_argument(
        fmt::format("'{}' cannot be read again from a position", current_file()));
  }
  if (!reading_ && !open_next_file()) {
    return status_.is_ok() ? Status::not_found("no file to resume") : status_;
  }
  struct stat st;
  if (::fstat(fd_, &st) != 0 || static_cast<uint64_t>(st.st_size) < byte_offset) {
    return Status::invalid_argument(
        fmt::format("'{}' is shorter than the position {} it was read to; was it changed?",
                    current_file(), byte_offset));
  }
  if (::lseek(fd_, static_cast<off_t>(byte_offset), SEEK_SET) < 0) {
    return Status::io_error(
        fmt::format("cannot seek in '{}': {}", current_file(), std::strerror(errno)));
  }
  byte_offset_ = byte_offset;
  line_number_ = line_number;
  return Status::ok();
}

LineReader::ReadStatus LineReader::fill() {
  // Only a partial line is left in the buffer: move it to the front, and grow the buffer when the
  // line fills it.
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    scanned_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);

  if (borrowed_fd_ >= 0) {
    pollfd pfd{borrowed_fd_, POLLIN, 0};
    int ready = ::poll(&pfd, 1, 0);
    if (ready == 0 || (ready < 0 && errno == EINTR)) return ReadStatus::kWouldBlock;
    if (ready < 0) {
      status_ =
          Status::io_error(fmt::format("polling '{}': {}", current_file(), std::strerror(errno)));
      return ReadStatus::kEnd;
    }
  }
  while (true) {
    ssize_t n = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
    if (n > 0) {
      end_ += static_cast<size_t>(n);
      return ReadStatus::kLine;
    }
    if (n == 0) {
      eof_ = true;
      return ReadStatus::kLine;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadStatus::kWouldBlock;
    status_ = Status::io_error(fmt::format("reading '{}' after line {}: {}", current_file(),
                                           line_number_, std::strerror(errno)));
    return ReadStatus::kEnd;
  }
}

void LineReader::close_current() {
  if (fd_ >= 0 && fd_ != borrowed_fd_) ::close(fd_);
  fd_ = -1;
  reading_ = false;
}

}  // namespace sluice::detail
