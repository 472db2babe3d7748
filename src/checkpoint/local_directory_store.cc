#include "checkpoint/local_directory_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "checkpoint/backend_files.h"

namespace sluice::checkpoint {
namespace {

namespace fs = std::filesystem;

constexpr const char* kManifest = "MANIFEST";

using FaultHook = std::function<Status(const std::string&)>;

Status io_error(const std::string& what, const std::string& path) {
  return Status::failed(fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}

Status fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return io_error("cannot open", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::ok() : io_error("cannot fsync", path);
}

Result<std::string> read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::not_found("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Status write_whole(const FaultHook& fault, const std::string& path, std::string_view data) {
  if (fault) SLUICE_RETURN_IF_ERROR(fault(path));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot create", path);
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = io_error("cannot write", path);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = io_error("cannot fsync", path);
    ::close(fd);
    return s;
  }
  return ::close(fd) == 0 ? Status::ok() : io_error("cannot close", path);
}

std::string dir_name(uint64_t id) { return fmt::format("chk-{:020}", id); }

// `<target>/savepoint-<id>`, or with a suffix when a savepoint of another run has that name.
std::string savepoint_dir(const std::string& target, uint64_t id) {
  const std::string base = fmt::format("{}/savepoint-{}", target, id);
  std::error_code ec;
  std::string dir = base;
  for (int n = 2; fs::exists(dir, ec); ++n) dir = fmt::format("{}-{}", base, n);
  return dir;
}

class DirectoryWriter final : public CheckpointWriter {
 public:
  DirectoryWriter(std::string dir, const std::string& earlier_dir, EarlierFiles earlier,
                  FaultHook fault)
      : dir_(std::move(dir)),
        backend_files_(earlier_dir, std::move(earlier.files)),
        fault_(std::move(fault)) {}
  ~DirectoryWriter() override {
    std::error_code ec;
    if (!committed_) fs::remove_all(dir_, ec);
  }

  const std::string& location() const override { return dir_; }

  Status write_file(const std::string& name, std::string_view bytes) override {
    return write_whole(fault_, dir_ + "/" + name, bytes);
  }

  Result<StoredFile> store_backend_file(const std::string& source,
                                        const std::string& name) override {
    const std::string target = dir_ + "/" + name;
    if (fault_) SLUICE_RETURN_IF_ERROR(fault_(target));
    return backend_files_.store(source, name, target);
  }

  Status commit(std::string_view manifest) override {
    const std::string tmp = dir_ + "/" + kManifest + ".tmp";
    Status status = write_whole(fault_, tmp, manifest);
    if (status.is_ok() && std::rename(tmp.c_str(), (dir_ + "/" + kManifest).c_str()) != 0) {
      status = io_error("cannot rename", tmp);
    }
    if (status.is_ok()) status = fsync_path(dir_);
    if (status.is_ok()) status = fsync_path(fs::path(dir_).parent_path().string());
    committed_ = status.is_ok();
    return status;
  }

  BackendFileFigures backend_files() const override {
    return {backend_files_.files_reused(), backend_files_.files_copied(),
            backend_files_.bytes_copied()};
  }

 private:
  std::string dir_;
  BackendFileStore backend_files_;
  FaultHook fault_;
  bool committed_ = false;
};

class DirectoryReader final : public CheckpointReader {
 public:
  explicit DirectoryReader(std::string dir) : dir_(std::move(dir)) {}

  const std::string& location() const override { return dir_; }
  Result<std::string> read_manifest() override { return read_whole(dir_ + "/" + kManifest); }
  Result<std::string> read_file(const std::string& name) override {
    return read_whole(dir_ + "/" + name);
  }
  // Read in place: the backend links or copies it into its working directory.
  Result<std::string> local_path(const std::string& name) override { return dir_ + "/" + name; }

 private:
  std::string dir_;
};

}  // namespace

std::string LocalDirectoryStore::path_of(uint64_t id) const { return dir_ + "/" + dir_name(id); }

Status LocalDirectoryStore::prepare() {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) {
    return Status::invalid_argument(fmt::format(
        "job option 'checkpoint.dir': cannot create directory '{}': {}", dir_, ec.message()));
  }
  return Status::ok();
}

Result<std::unique_ptr<CheckpointWriter>> LocalDirectoryStore::begin_at(
    const std::string& dir, EarlierFiles earlier) const {
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (!fs::create_directories(dir, ec) || ec) {
    return Status::failed(fmt::format("cannot create {}: {}", dir, ec.message()));
  }
  const std::string earlier_dir = earlier.id != 0 ? path_of(earlier.id) : std::string();
  return std::unique_ptr<CheckpointWriter>(
      std::make_unique<DirectoryWriter>(dir, earlier_dir, std::move(earlier), fault_));
}

Result<std::unique_ptr<CheckpointWriter>> LocalDirectoryStore::begin(uint64_t id,
                                                                     EarlierFiles earlier) {
  return begin_at(path_of(id), std::move(earlier));
}

Result<std::unique_ptr<CheckpointWriter>> LocalDirectoryStore::begin_savepoint(
    const std::string& target, uint64_t id, EarlierFiles earlier) {
  return begin_at(savepoint_dir(target, id), std::move(earlier));
}

Result<std::unique_ptr<CheckpointReader>> LocalDirectoryStore::open(uint64_t id) const {
  return open_location(path_of(id));
}

Result<std::unique_ptr<CheckpointReader>> LocalDirectoryStore::open_location(
    const std::string& location) const {
  return std::unique_ptr<CheckpointReader>(std::make_unique<DirectoryReader>(location));
}

std::vector<uint64_t> LocalDirectoryStore::complete_ids() const {
  std::vector<uint64_t> ids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("chk-", 0) != 0) continue;
    if (!fs::exists(entry.path() / kManifest, ec)) continue;
    ids.push_back(std::strtoull(name.c_str() + 4, nullptr, 10));
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

void LocalDirectoryStore::retain(size_t keep) {
  const std::vector<uint64_t> ids = complete_ids();
  if (ids.empty()) return;
  const uint64_t oldest_kept = ids.size() > keep ? ids[ids.size() - keep] : ids.front();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("chk-", 0) != 0) continue;
    const uint64_t id = std::strtoull(name.c_str() + 4, nullptr, 10);
    const bool complete = fs::exists(entry.path() / kManifest, ec);
    if (id < oldest_kept || (!complete && id < ids.back())) fs::remove_all(entry.path(), ec);
  }
}

}  // namespace sluice::checkpoint
