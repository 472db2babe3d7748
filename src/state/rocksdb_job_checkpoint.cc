#include "sluice/detail/rocksdb_job_checkpoint.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

namespace sluice::detail {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSubtaskPrefix = "s";

}  // namespace

Status snapshot_rocksdb_files(RocksDbStore& store, uint64_t id, int subtask,
                              const std::vector<StoredTimer>& timers, OperatorSnapshot& out) {
  const std::string dir = store.staging_root() + "/" + std::to_string(id);
  Result<std::vector<std::string>> files = store.stage_checkpoint(dir, timers);
  if (!files) return files.status();
  for (const std::string& f : *files) {
    BackendFile& file = out.files.emplace_back();
    file.path = f;
    file.name.append(kSubtaskPrefix).append(std::to_string(subtask)).push_back('/');
    file.name.append(fs::path(f).filename().string());
  }
  return Status::ok();
}

void release_staged_rocksdb(RocksDbStore& store, uint64_t id) {
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(store.staging_root(), ec)) {
    const std::string name = e.path().filename().string();
    if (std::strtoull(name.c_str(), nullptr, 10) <= id) fs::remove_all(e.path(), ec);
  }
}

Status restore_rocksdb_files(RocksDbStore& store, const OperatorRestore& in, int subtask,
                             int parallelism, std::vector<StoredTimer>* timers) {
  // The files of each old subtask: ".../s<k>/<file>".
  std::map<int, std::vector<std::string>> by_subtask;
  for (const std::string& f : in.files) {
    const std::string parent = fs::path(f).parent_path().filename().string();
    char* end = nullptr;
    const long k = parent.starts_with(kSubtaskPrefix)
                       ? std::strtol(parent.c_str() + kSubtaskPrefix.size(), &end, 10)
                       : -1;
    if (k < 0 || k >= in.old_parallelism || end == nullptr || *end != '\0') {
      return Status::invalid_argument("RocksDB checkpoint: file '" + f +
                                      "' is not of an old subtask");
    }
    by_subtask[static_cast<int>(k)].push_back(f);
  }
  const int max_parallelism = store.max_parallelism();
  const KeyGroupRange mine = key_group_range(subtask, parallelism, max_parallelism);
  int base = -1, base_overlap = 0;
  std::vector<int> overlapping;
  for (const auto& [k, files] : by_subtask) {
    const KeyGroupRange old = key_group_range(k, in.old_parallelism, max_parallelism);
    const int overlap = std::min(old.last, mine.last) - std::max(old.first, mine.first);
    if (overlap <= 0) continue;
    overlapping.push_back(k);
    if (overlap > base_overlap) base = k, base_overlap = overlap;
  }
  if (base < 0) return Status::ok();  // no old subtask held any of this subtask's key groups
  std::vector<std::vector<std::string>> merged;
  for (int k : overlapping) {
    if (k != base) merged.push_back(by_subtask[k]);
  }
  return store.restore_checkpoint(by_subtask[base], mine.first, mine.last - 1, timers, merged);
}

}  // namespace sluice::detail
