// RocksDbStore: native incremental checkpoints and restores from them.
//
// A checkpoint is RocksDB's own (Checkpoint::CreateCheckpoint: a flush, then hard links to the
// live SST files and copies of the small metadata files) made next to the working directory,
// then moved into the target directory file by file: an SST file that the previous checkpoint
// already holds (same name and size; SST files are immutable and their numbers never reused
// within one lineage) is referenced by its path there instead of being copied again. Copied files
// and the directory are fsynced before checkpoint() returns.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include "sluice/detail/rocksdb_store.h"
#include "state/rocksdb_internal.h"
#include "state/rocksdb_ttl_filter.h"

namespace sluice::detail {
namespace {

namespace fs = std::filesystem;

std::string group_bytes(int key_group) {
  std::string s;
  append_key_group(s, key_group);
  return s;
}

// Past every row key: groups are below 32768, so their first byte is below 0x80.
const std::string kEnd = "\xff\xff";

void append_time(std::string& out, Timestamp t) {
  const uint64_t u = static_cast<uint64_t>(t) ^ (uint64_t{1} << 63);  // ordered like t
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(u >> shift));
}

Timestamp read_time(std::string_view bytes) {
  uint64_t u = 0;
  for (char c : bytes) u = (u << 8) | static_cast<uint8_t>(c);
  return static_cast<Timestamp>(u ^ (uint64_t{1} << 63));
}

// fsync of a file or directory, so that a checkpoint's files survive a crash once it is reported.
std::error_code sync(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {errno, std::generic_category()};
  std::error_code ec;
  if (::fsync(fd) != 0) ec = {errno, std::generic_category()};
  ::close(fd);
  return ec;
}

Status io_error(const std::string& what, const std::error_code& ec) {
  return Status::internal("RocksDB checkpoint: " + what + ": " + ec.message());
}

// Puts `files` into `dir` (created, emptied first): SST files are immutable, so a hard link is
// enough where the filesystem allows one; the others (MANIFEST, CURRENT, OPTIONS) are written by
// the database and must be copies.
Status link_files(const std::vector<std::string>& files, const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return io_error("creating '" + dir + "'", ec);
  for (const std::string& f : files) {
    const fs::path source(f);
    const fs::path target = fs::path(dir) / source.filename();
    ec.clear();
    if (source.extension() == ".sst") fs::create_hard_link(source, target, ec);
    if (source.extension() != ".sst" || ec) {
      ec.clear();
      fs::copy_file(source, target, fs::copy_options::overwrite_existing, ec);
    }
    if (ec) return io_error("restoring '" + f + "'", ec);
  }
  return Status::ok();
}

}  // namespace

Result<std::vector<std::string>> RocksDbStore::stage_checkpoint(
    const std::string& dir, const std::vector<StoredTimer>& timers) {
  // The timers replace those of the last checkpoint; with none now and none before, the family
  // is left alone so that an unchanged state makes no new SST file.
  rocksdb::ColumnFamilyHandle* timer_family = family(kTimersFamily);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), timer_family));
  it->SeekToFirst();
  const bool had_timers = it->Valid();
  it.reset();
  if (had_timers || !timers.empty()) {
    rocksdb::WriteBatch batch;
    batch.DeleteRange(timer_family, std::string(2, '\0'), kEnd);
    std::string key;
    for (const StoredTimer& t : timers) {
      key = group_bytes(t.key_group);
      key += t.key;
      key.push_back(static_cast<char>(t.domain));
      append_time(key, t.time);
      batch.Put(timer_family, key, rocksdb::Slice());
    }
    rocksdb::Status s = db_->Write(write_options(), &batch);
    if (!s.ok()) return Status::internal("RocksDB checkpoint: writing timers: " + s.ToString());
  }

  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(fs::path(dir).parent_path(), ec);
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(db_, &raw);
  std::unique_ptr<rocksdb::Checkpoint> cp(raw);
  if (s.ok()) s = cp->CreateCheckpoint(dir, /*log_size_for_flush=*/0);
  if (!s.ok()) return Status::internal("RocksDB checkpoint: " + s.ToString());
  std::vector<std::string> files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    files.push_back(fs::absolute(e.path()).string());
  }
  if (ec) return io_error("listing '" + dir + "'", ec);
  std::sort(files.begin(), files.end());
  return files;
}

Result<RocksCheckpoint> RocksDbStore::checkpoint(const std::string& dir,
                                                 const std::vector<StoredTimer>& timers,
                                                 const std::vector<std::string>& previous) {
  const std::string staging = dir_ + ".checkpoint";
  Result<std::vector<std::string>> staged = stage_checkpoint(staging, timers);
  if (!staged) return staged.status();
  std::error_code ec;
  std::map<std::string, std::string> earlier;  // SST file name -> its path in `previous`
  for (const std::string& p : previous) {
    const fs::path path(p);
    if (path.extension() == ".sst") earlier[path.filename().string()] = p;
  }
  fs::create_directories(dir, ec);
  if (ec) return io_error("creating '" + dir + "'", ec);
  RocksCheckpoint out;
  for (const std::string& file : *staged) {
    const fs::directory_entry e(file);
    const std::string name = e.path().filename().string();
    auto it = earlier.find(name);
    if (it != earlier.end() && fs::file_size(it->second, ec) == e.file_size()) {
      out.files.push_back(it->second);
      ++out.files_reused;
      continue;
    }
    const fs::path target = fs::absolute(fs::path(dir) / name);
    fs::copy_file(e.path(), target, fs::copy_options::overwrite_existing, ec);
    if (!ec) ec = sync(target.string());
    if (ec) return io_error("copying '" + name + "' into '" + dir + "'", ec);
    out.files.push_back(target.string());
    ++out.files_copied;
    out.bytes_copied += static_cast<int64_t>(e.file_size());
  }
  fs::remove_all(staging, ec);
  if (std::error_code sync_ec = sync(dir)) return io_error("syncing '" + dir + "'", sync_ec);
  return out;
}

Status RocksDbStore::restore_checkpoint(const std::vector<std::string>& files, int first_group,
                                        int last_group, std::vector<StoredTimer>* timers,
                                        const std::vector<std::vector<std::string>>& merged) {
  auto restore = [&]() -> Status {
    close_db();
    SLUICE_RETURN_IF_ERROR(link_files(files, dir_));
    std::vector<std::string> families;
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir_, &families);
    if (!s.ok())
      return Status::invalid_argument("RocksDB checkpoint: not a checkpoint: " + s.ToString());
    if (Status st = open_db(families); !st.is_ok()) return st;

    for (rocksdb::ColumnFamilyHandle* h : handles_) {
      if (first_group > 0)
        s = db_->DeleteRange(write_options(), h, group_bytes(0), group_bytes(first_group));
      if (s.ok() && last_group + 1 < max_parallelism_) {
        s = db_->DeleteRange(write_options(), h, group_bytes(last_group + 1), kEnd);
      }
      if (!s.ok())
        return Status::internal("RocksDB checkpoint: dropping key groups: " + s.ToString());
    }
    for (const std::vector<std::string>& other : merged) {
      SLUICE_RETURN_IF_ERROR(merge_checkpoint(other, first_group, last_group));
    }
    rocksdb::ColumnFamilyHandle* timer_family = family(kTimersFamily);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), timer_family));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string_view k(it->key().data(), it->key().size());
      if (k.size() < 2 + 1 + 8)
        return Status::invalid_argument("RocksDB checkpoint: malformed timer");
      StoredTimer t;
      t.key_group = (static_cast<uint8_t>(k[0]) << 8) | static_cast<uint8_t>(k[1]);
      t.key = std::string(k.substr(2, k.size() - 11));
      t.domain = static_cast<uint8_t>(k[k.size() - 9]);
      t.time = read_time(k.substr(k.size() - 8));
      timers->push_back(std::move(t));
    }
    if (!it->status().ok())
      return Status::internal("RocksDB checkpoint: " + it->status().ToString());
    it.reset();
    s = db_->DeleteRange(write_options(), timer_family, std::string(2, '\0'), kEnd);
    return s.ok() ? Status::ok() : Status::internal("RocksDB checkpoint: " + s.ToString());
  };
  Status result = restore();
  if (!result.is_ok() && db_ == nullptr) {
    // The files could not be opened as a database: leave an empty, usable one behind (the
    // caller fails the job).
    std::error_code ec;
    fs::remove_all(dir_, ec);
    fs::create_directories(dir_, ec);
    if (Status empty = open_db({}); !empty.is_ok()) fail("reopening", empty.message());
  }
  return result;
}

Status RocksDbStore::merge_checkpoint(const std::vector<std::string>& files, int first_group,
                                      int last_group) {
  const std::string dir = dir_ + ".merge";
  SLUICE_RETURN_IF_ERROR(link_files(files, dir));
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names);
  if (!s.ok())
    return Status::invalid_argument("RocksDB checkpoint: not a checkpoint: " + s.ToString());
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& name : names) {
    rocksdb::ColumnFamilyOptions o;
    // List rows may still be merge operands: they read back merged.
    const RocksColumn* c = name.starts_with(kStatePrefix)
                               ? find(std::string_view(name).substr(kStatePrefix.size()))
                               : nullptr;
    if (c != nullptr && c->kind() == ColumnKind::kList)
      o.merge_operator = std::make_shared<ListAppendOperator>();
    families.emplace_back(name, o);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir, families, &handles, &raw);
  if (!s.ok())
    return Status::internal("RocksDB checkpoint: cannot open '" + dir + "': " + s.ToString());
  std::unique_ptr<rocksdb::DB> other(raw);
  const std::string from = group_bytes(first_group);
  const std::string to = last_group + 1 < max_parallelism_ ? group_bytes(last_group + 1) : kEnd;
  rocksdb::WriteBatch batch;
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    if (!s.ok()) break;
    if (h->GetName() == rocksdb::kDefaultColumnFamilyName) continue;
    rocksdb::ColumnFamilyHandle* target = family(h->GetName());
    std::unique_ptr<rocksdb::Iterator> it(other->NewIterator(rocksdb::ReadOptions(), h));
    for (it->Seek(from); s.ok() && it->Valid() && it->key().compare(to) < 0; it->Next()) {
      s = batch.Put(target, it->key(), it->value());
      if (s.ok() && batch.GetDataSize() >= (8 << 20)) {
        s = db_->Write(write_options(), &batch);
        batch.Clear();
      }
    }
    if (s.ok()) s = it->status();
  }
  if (s.ok()) s = db_->Write(write_options(), &batch);
  for (rocksdb::ColumnFamilyHandle* h : handles) other->DestroyColumnFamilyHandle(h);
  other.reset();
  std::error_code ec;
  fs::remove_all(dir, ec);
  return s.ok() ? Status::ok() : Status::internal("RocksDB checkpoint: merging: " + s.ToString());
}

}  // namespace sluice::detail
