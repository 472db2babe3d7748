#include "checkpoint/checkpoint_storage.h"

#include <zstd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "sluice/detail/key_groups.h"

namespace sluice::checkpoint {
namespace {

namespace fs = std::filesystem;

constexpr int kZstdLevel = 1;  // fast: state is written every interval

uint64_t checksum(std::string_view bytes) { return detail::hash_bytes(bytes); }

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

// The backend files a manifest names: name -> size and checksum.
std::map<std::string, StoredFile> backend_files_of(const std::string& manifest) {
  std::map<std::string, StoredFile> files;
  std::istringstream lines(manifest);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream in(line);
    std::string word, name, sum;
    int node = 0, index = 0;
    char kind = 0;
    uint64_t raw = 0, stored = 0;
    if (!(in >> word) || word != "file") continue;
    if (!(in >> name >> node >> kind >> index >> raw >> stored >> sum) || kind != 'f') continue;
    files[name] = StoredFile{stored, std::strtoull(sum.c_str(), nullptr, 16)};
  }
  return files;
}

}  // namespace

Result<WrittenCheckpoint> CheckpointStorage::write(uint64_t id, int max_parallelism,
                                                   const std::vector<NodeLayout>& nodes,
                                                   std::vector<SubtaskState>& states) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointWriter> writer,
                          store_->begin(id, earlier_files(id)));
  return write_to(*writer, id, max_parallelism, nodes, states);
}

Result<WrittenCheckpoint> CheckpointStorage::write_savepoint(const std::string& target, uint64_t id,
                                                             int max_parallelism,
                                                             const std::vector<NodeLayout>& nodes,
                                                             std::vector<SubtaskState>& states) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointWriter> writer,
                          store_->begin_savepoint(target, id, earlier_files(id)));
  return write_to(*writer, id, max_parallelism, nodes, states);
}

// On failure `writer` is dropped uncommitted, which removes what it wrote.
Result<WrittenCheckpoint> CheckpointStorage::write_to(CheckpointWriter& writer, uint64_t id,
                                                      int max_parallelism,
                                                      const std::vector<NodeLayout>& nodes,
                                                      std::vector<SubtaskState>& states) {
  std::string manifest = fmt::format("sluice-checkpoint {}\nid {}\nmax_parallelism {}\n",
                                     kFormatVersion, id, max_parallelism);
  for (const NodeLayout& n : nodes) {
    manifest += fmt::format("node {} {} {}\n", n.node, n.parallelism, n.name);
    manifest += fmt::format("uid {} {}\n", n.node, n.uid.empty() ? n.name : n.uid);
  }
  uint64_t stored_bytes = 0;
  auto store = [&](const std::string& name, int node, char kind, int index,
                   std::string_view raw) -> Status {
    const std::string stored = compress(raw);
    SLUICE_RETURN_IF_ERROR(writer.write_file(name, stored));
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
      Result<StoredFile> file = writer.store_backend_file(f.path, name);
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
    status = writer.commit(manifest);
  }
  if (!status.is_ok()) return status;
  last_write_ = writer.backend_files();
  return WrittenCheckpoint{writer.location(),
                           stored_bytes + last_write_.bytes_copied + manifest.size()};
}

Result<LoadedCheckpoint> CheckpointStorage::load_location(const std::string& location) const {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointReader> reader,
                          store_->open_location(location));
  return load_at(*reader, 0);
}

// `id` 0: the one the manifest names.
Result<LoadedCheckpoint> CheckpointStorage::load_at(CheckpointReader& reader, uint64_t id) {
  LoadedCheckpoint cp;
  cp.id = id;
  cp.dir = reader.location();
  Result<std::string> text = reader.read_manifest();
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
      cp.has_operator_ids = version >= 2;
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
      if (kind == 'f') {  // stored as the backend wrote it; the backend opens it locally
        Result<std::string> local = reader.local_path(name);
        if (!local) return local.status();
        const std::string& path = *local;
        std::error_code ec;
        Result<uint64_t> sum = checksum_of_file(path);
        if (!sum) return sum.status();
        if (fs::file_size(path, ec) != stored || fmt::format("{:016x}", *sum) != sum_text) {
          return Status::invalid_argument("file " + name + " does not match its checksum");
        }
        it->second.files.push_back(path);
        continue;
      }
      Result<std::string> bytes = reader.read_file(name);
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

EarlierFiles CheckpointStorage::earlier_files(uint64_t id) const {
  const std::vector<uint64_t> ids = complete_ids();
  auto it = std::lower_bound(ids.begin(), ids.end(), id);
  if (it == ids.begin()) return {};
  EarlierFiles earlier;
  earlier.id = *std::prev(it);
  Result<std::unique_ptr<CheckpointReader>> reader = store_->open(earlier.id);
  Result<std::string> manifest =
      reader ? (*reader)->read_manifest() : Result<std::string>(reader.status());
  if (manifest) earlier.files = backend_files_of(*manifest);
  return earlier;
}

std::optional<LoadedCheckpoint> CheckpointStorage::load_latest(
    std::vector<std::string>* warnings) const {
  std::vector<uint64_t> ids = complete_ids();
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
    Result<std::unique_ptr<CheckpointReader>> reader = store_->open(*it);
    Result<LoadedCheckpoint> cp =
        reader ? load_at(**reader, *it) : Result<LoadedCheckpoint>(reader.status());
    if (cp) return std::move(*cp);
    if (warnings != nullptr) {
      const std::string where =
          reader ? (*reader)->location() : fmt::format("{} in {}", *it, store_->location());
      warnings->push_back(fmt::format("checkpoint {} is corrupt or partial ({}); skipped", where,
                                      cp.status().message()));
    }
  }
  return std::nullopt;
}

}  // namespace sluice::checkpoint
