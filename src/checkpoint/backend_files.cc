#include "checkpoint/backend_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace sluice::checkpoint {
namespace {

namespace fs = std::filesystem;

Status fsync_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::failed(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::ok()
                 : Status::failed(fmt::format("cannot fsync {}: {}", path, std::strerror(errno)));
}

// Whether two paths are links to one inode: the backend staged a file the previous checkpoint
// stored (a restore linked it into the database).
bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {
  }, sb{};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

}  // namespace

Result<StoredFile> BackendFileStore::store(const std::string& source, const std::string& name,
                                           const std::string& target) {
  std::error_code ec;
  fs::create_directories(fs::path(target).parent_path(), ec);
  if (ec)
    return Status::failed(fmt::format("cannot create directory of {}: {}", target, ec.message()));
  const uint64_t size = fs::file_size(source, ec);
  if (ec) return Status::failed(fmt::format("cannot read {}: {}", source, ec.message()));
  auto it = previous_.find(name);
  if (fs::path(name).extension() == ".sst" && it != previous_.end() && it->second.size == size) {
    const std::string earlier = previous_dir_ + "/" + name;
    auto same_bytes = [&] {
      Result<uint64_t> sum = checksum_of_file(source);
      return sum && *sum == it->second.checksum;
    };
    if (same_file(source, earlier) || same_bytes()) {
      fs::create_hard_link(earlier, target, ec);
      if (!ec) {
        ++reused_;
        return it->second;
      }
      ec.clear();  // no link possible: store it afresh
    }
  }
  fs::create_hard_link(source, target, ec);
  if (ec) {
    ec.clear();
    fs::copy_file(source, target, fs::copy_options::overwrite_existing, ec);
    if (ec)
      return Status::failed(fmt::format("cannot copy {} to {}: {}", source, target, ec.message()));
  }
  SLUICE_RETURN_IF_ERROR(fsync_file(target));
  Result<uint64_t> sum = checksum_of_file(target);
  if (!sum) return sum.status();
  ++copied_;
  bytes_copied_ += size;
  return StoredFile{size, *sum};
}

}  // namespace sluice::checkpoint
