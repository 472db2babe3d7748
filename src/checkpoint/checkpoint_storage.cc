#include "checkpoint/checkpoint_storage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "checkpoint/backend_files.h"
#include "sluice/detail/key_groups.h"

namespace sluice::checkpoint {
namespace {

namespace fs = std::filesystem;

constexpr const char* kManifest = "MANIFEST";
constexpr int kZstdLevel = 1;  // fast: state is written every interval

uint64_t checksum(std::string_view bytes) { return detail::hash_bytes(bytes); }

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

std::string compress(std::string_view raw) {
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), kZstdLevel);
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

Result<std::vector<char>> decompress(std::string_view stored, uint64_t raw_size) {
  std::vector<char> out(raw_size);
  const size_t n = ZSTD_decompress(out.data(), out.size(), stored.data(), stored.size());
  if (ZSTD_isError(n) || n != raw_size) {
    return Status::invalid_argument("does not decompress to its recorded size");
  }
  return out;
}

std::string dir_name(uint64_t id) { return fmt::format("chk-{:020}", id); }

}  // namespace

std::string CheckpointStorage::path_of(uint64_t id) const { return dir_ + "/" + dir_name(id); }

Status CheckpointStorage::prepare() const {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) {
    return Status::invalid_argument(fmt::format(
        "job option 'checkpoint.dir': cannot create directory '{}': {}", dir_, ec.message()));
  }
  return Status::ok();
}

Status CheckpointStorage::write_file(const std::string& path, std::string_view data) const {
  if (fault_) SLUICE_RETURN_IF_ERROR(fault_(path));
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

Result<uint64_t> CheckpointStorage::write_to(const std::string& dir, uint64_t id,
                                             int max_parallelism,
                                             const std::vector<NodeLayout>& nodes,
                                             std::vector<SubtaskState>& states) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (!fs::create_directories(dir, ec) || ec) {
    return Status::failed(fmt::format("cannot create {}: {}", dir, ec.message()));
  }
  std::string manifest = fmt::format("sluice-checkpoint {}\nid {}\nmax_parallelism {}\n",
                                     kFormatVersion, id, max_parallelism);
  for (const NodeLayout& n : nodes) {
    manifest += fmt::format("node {} {} {}\n", n.node, n.parallelism, n.name);
    manifest += fmt::format("uid {} {}\n", n.node, n.uid.empty() ? n.name : n.uid);
  }
  uint64_t stored_bytes = 0;
  BackendFileStore backend_files(previous_complete(id));
  auto store = [&](const std::string& name, int node, char kind, int index,
                   std::string_view raw) -> Status {
    const std::string stored = compress(raw);
    SLUICE_RETURN_IF_ERROR(write_file(dir + "/" + name, stored));
    stored_bytes += stored.size();
    manifest += fmt::format("file {} {} {} {} {} {} {:016x}\n", name, node, kind, index, raw.size(),
                            stored.size(), checksum(stored));
    return Status::ok();
  };
  Status status;
  for (SubtaskState& st : states) {
    detail::OperatorSnapshot& snap = st.snapshot;
    if (snap.deferred) {
      snap.deferred(snap);
      snap.deferred = nullptr;
    }
    if (!snap.offsets.empty()) {
      manifest += fmt::format("offset {} {} {}\n", st.node, st.subtask, snap.offsets);
    }
    if (status.is_ok() && !snap.operator_state.empty()) {
      const auto& b = snap.operator_state;
      status = store(fmt::format("n{}-s{}", st.node, st.subtask), st.node, 's', st.subtask,
                     std::string_view(b.data(), b.size()));
    }
    for (const detail::KeyGroupState& g : snap.key_groups) {
      if (!status.is_ok()) break;
      status = store(fmt::format("n{}-g{}", st.node, g.key_group), st.node, 'g', g.key_group,
                     std::string_view(g.bytes.data(), g.bytes.size()));
    }
    for (const detail::BackendFile& f : snap.files) {
      if (!status.is_ok()) break;
      const std::string name = fmt::format("n{}-f/{}", st.node, f.name);
      if (fault_) status = fault_(dir + "/" + name);
      Result<StoredFile> file = status.is_ok() ? backend_files.store(f.path, name, dir + "/" + name)
                                               : Result<StoredFile>(status);
      if (!file) {
        status = file.status();
        break;
      }
      manifest += fmt::format("file {} {} f {} {} {} {:016x}\n", name, st.node, f.key_group,
                              file->size, file->size, file->checksum);
    }
  }
  if (status.is_ok()) {
    manifest += fmt::format("checksum {:016x}\n", checksum(manifest));
    const std::string tmp = dir + "/" + kManifest + ".tmp";
    status = write_file(tmp, manifest);
    if (status.is_ok() && std::rename(tmp.c_str(), (dir + "/" + kManifest).c_str()) != 0) {
      status = io_error("cannot rename", tmp);
    }
    if (status.is_ok()) status = fsync_path(dir);
    if (status.is_ok()) status = fsync_path(fs::path(dir).parent_path().string());
  }
  if (!status.is_ok()) {
    fs::remove_all(dir, ec);
    return status;
  }
  last_write_ = {backend_files.files_reused(), backend_files.files_copied(),
                 backend_files.bytes_copied()};
  return stored_bytes + backend_files.bytes_copied() + manifest.size();
}

std::vector<uint64_t> CheckpointStorage::complete_ids() const {
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

void CheckpointStorage::retain(size_t keep) const {
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

Result<LoadedCheckpoint> CheckpointStorage::load_directory(const std::string& dir) {
  return load_at(dir, 0);
}

// `id` 0: the one the manifest names.
Result<LoadedCheckpoint> CheckpointStorage::load_at(const std::string& dir, uint64_t id) {
  LoadedCheckpoint cp;
  cp.id = id;
  cp.dir = dir;
  Result<std::string> text = read_whole(cp.dir + "/" + kManifest);
  if (!text) return text.status();
  const size_t sum_at = text->rfind("checksum ");
  if (sum_at == std::string::npos ||
      fmt::format("checksum {:016x}\n", checksum(std::string_view(*text).substr(0, sum_at))) !=
          text->substr(sum_at)) {
    return Status::invalid_argument("the manifest's checksum does not match");
  }
  std::istringstream lines(text->substr(0, sum_at));
  std::string line;
  bool header = false;
  while (std::getline(lines, line)) {
    std::istringstream in(line);
    std::string word;
    in >> word;
    if (word == "sluice-checkpoint") {
      int version = 0;
      in >> version;
      if (version < kOldestFormatVersion || version > kFormatVersion) {
        return Status::invalid_argument(fmt::format("format version {} (this build reads {} to {})",
                                                    version, kOldestFormatVersion, kFormatVersion));
      }
      cp.format_version = version;
      header = true;
    } else if (word == "id" && id == 0) {
      in >> cp.id;
    } else if (word == "max_parallelism") {
      in >> cp.max_parallelism;
    } else if (word == "node") {
      int node = 0, parallelism = 0;
      in >> node >> parallelism;
      std::string name;
      std::getline(in >> std::ws, name);
      NodeState& n = cp.nodes[node];
      n.name = name;
      n.parallelism = parallelism;
      n.operator_states.resize(static_cast<size_t>(parallelism));
      n.offsets.resize(static_cast<size_t>(parallelism));
    } else if (word == "uid") {
      int node = 0;
      in >> node;
      std::string uid;
      in.get();  // the one space before the uid, which may itself start with spaces
      std::getline(in, uid);
      auto it = cp.nodes.find(node);
      if (it == cp.nodes.end() || uid.empty()) {
        return Status::invalid_argument("a uid line of an unknown node");
      }
      it->second.uid = std::move(uid);
    } else if (word == "offset") {
      int node = 0, subtask = 0;
      in >> node >> subtask;
      std::string text_offset;
      std::getline(in >> std::ws, text_offset);
      auto it = cp.nodes.find(node);
      if (it != cp.nodes.end() && subtask >= 0 && subtask < it->second.parallelism) {
        it->second.offsets[static_cast<size_t>(subtask)] = text_offset;
      }
    } else if (word == "file") {
      std::string name, sum_text;
      int node = 0, index = 0;
      char kind = 0;
      uint64_t raw = 0, stored = 0;
      in >> name >> node >> kind >> index >> raw >> stored >> sum_text;
      auto it = cp.nodes.find(node);
      if (it == cp.nodes.end()) return Status::invalid_argument("file of an unknown node");
      if (kind == 'f') {  // stored as the backend wrote it; the backend reads it in place
        const std::string path = cp.dir + "/" + name;
        std::error_code ec;
        Result<uint64_t> sum = checksum_of_file(path);
        if (!sum) return sum.status();
        if (fs::file_size(path, ec) != stored || fmt::format("{:016x}", *sum) != sum_text) {
          return Status::invalid_argument("file " + name + " does not match its checksum");
        }
        it->second.files.push_back(path);
        continue;
      }
      Result<std::string> bytes = read_whole(cp.dir + "/" + name);
      if (!bytes) return bytes.status();
      if (bytes->size() != stored || fmt::format("{:016x}", checksum(*bytes)) != sum_text) {
        return Status::invalid_argument("file " + name + " does not match its checksum");
      }
      Result<std::vector<char>> data = decompress(*bytes, raw);
      if (!data) return Status::invalid_argument("file " + name + " " + data.status().message());
      if (kind == 's' && index >= 0 && index < it->second.parallelism) {
        it->second.operator_states[static_cast<size_t>(index)] = std::move(*data);
      } else if (kind == 'g' && index >= 0 && index < cp.max_parallelism) {
        it->second.key_groups[index] = std::move(*data);
      } else {
        return Status::invalid_argument("file " + name + " has an impossible index");
      }
    }
  }
  if (!header) return Status::invalid_argument("not a checkpoint manifest");
  return cp;
}

std::string CheckpointStorage::previous_complete(uint64_t id) const {
  const std::vector<uint64_t> ids = complete_ids();
  auto it = std::lower_bound(ids.begin(), ids.end(), id);
  return it == ids.begin() ? std::string() : path_of(*std::prev(it));
}

std::optional<LoadedCheckpoint> CheckpointStorage::load_latest(
    std::vector<std::string>* warnings) const {
  std::vector<uint64_t> ids = complete_ids();
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
    Result<LoadedCheckpoint> cp = load_at(path_of(*it), *it);
    if (cp) return std::move(*cp);
    if (warnings != nullptr) {
      warnings->push_back(fmt::format("checkpoint {} is corrupt or partial ({}); skipped",
                                      path_of(*it), cp.status().message()));
    }
  }
  return std::nullopt;
}

}  // namespace sluice::checkpoint
