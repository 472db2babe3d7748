// RocksDbStore: opening the database, its columns, the per-row operations, TTL and sizes.
// Snapshots per key group are in rocksdb_snapshot.cc, native checkpoints in rocksdb_checkpoint.cc.
#include "sluice/detail/rocksdb_store.h"

#include <unistd.h>

#include <cctype>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>

#include "state/rocksdb_internal.h"
#include "state/rocksdb_ttl_filter.h"

namespace sluice::detail {

namespace fs = std::filesystem;

const rocksdb::WriteOptions& write_options() {
  static const rocksdb::WriteOptions options = [] {
    rocksdb::WriteOptions o;
    o.disableWAL = true;  // checkpoints flush; a crash restarts from the last checkpoint
    return o;
  }();
  return options;
}

std::string family_name(std::string_view state) {
  return std::string(kStatePrefix) + std::string(state);
}

RocksDbStore::RocksDbStore(std::string dir, int max_parallelism)
    : dir_(std::move(dir)), max_parallelism_(max_parallelism) {}

RocksDbStore::~RocksDbStore() {
  close_db();
  std::error_code ec;
  fs::remove_all(dir_, ec);
  fs::remove_all(staging_root(), ec);
}

Result<std::unique_ptr<RocksDbStore>> RocksDbStore::open(std::string dir, int max_parallelism) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::remove_all(dir + std::string(kStagingSuffix), ec);
  fs::create_directories(dir, ec);
  if (ec) {
    return Status::invalid_argument("state.dir: cannot create '" + dir + "': " + ec.message());
  }
  std::unique_ptr<RocksDbStore> store(new RocksDbStore(std::move(dir), max_parallelism));
  Status s = store->open_db({});
  if (!s.is_ok()) return s;
  return store;
}

rocksdb::ColumnFamilyOptions RocksDbStore::family_options(const RocksColumn* column) {
  rocksdb::ColumnFamilyOptions o;
  if (column == nullptr) return o;
  // Bloom filters: most reads are point lookups, and a key's first lookup finds nothing.
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Value rows are rewritten in place in the memtable (same size, as for counters and sums),
  // which keeps one version per key there and makes an update about 1.6 times faster. Safe
  // here because nothing reads a snapshot while the task writes, and the rows a DeleteRange
  // drops (key groups another subtask owns) are never written again by this store.
  if (column->kind() == ColumnKind::kValue) o.inplace_update_support = true;
  if (column->kind() == ColumnKind::kList)
    o.merge_operator = std::make_shared<ListAppendOperator>();
  if (column->ttl().ttl > 0) {
    filters_.push_back(std::make_unique<TtlCompactionFilter>(this, column->kind(), column->ttl()));
    o.compaction_filter = filters_.back().get();
  }
  return o;
}

Status RocksDbStore::open_db(const std::vector<std::string>& existing) {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.atomic_flush = true;  // a checkpoint's flush cuts every column at the same point
  options.max_background_jobs = 2;
  options.allow_concurrent_memtable_write = false;  // required by in-place updates
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (const std::string& name : existing) {
    if (name == rocksdb::kDefaultColumnFamilyName) continue;
    const RocksColumn* c = nullptr;
    if (name.starts_with(kStatePrefix))
      c = find(std::string_view(name).substr(kStatePrefix.size()));
    families.emplace_back(name, family_options(c));
  }
  rocksdb::Status s = rocksdb::DB::Open(options, dir_, families, &handles_, &db_);
  if (!s.ok()) {
    return Status::internal("RocksDB state: cannot open '" + dir_ + "': " + s.ToString());
  }
  for (auto& c : columns_) c->set_handle(nullptr);
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    const std::string& name = h->GetName();
    if (!name.starts_with(kStatePrefix)) continue;
    if (RocksColumn* c = find(std::string_view(name).substr(kStatePrefix.size()))) c->set_handle(h);
  }
  for (auto& c : columns_) {
    if (c->handle() == nullptr) c->set_handle(create_family(family_name(c->name()), c.get()));
  }
  return Status::ok();
}

void RocksDbStore::close_db() {
  if (db_ == nullptr) return;
  for (rocksdb::ColumnFamilyHandle* h : handles_) db_->DestroyColumnFamilyHandle(h);
  handles_.clear();
  db_->Close();
  delete db_;
  db_ = nullptr;
}

rocksdb::ColumnFamilyHandle* RocksDbStore::create_family(const std::string& name,
                                                         const RocksColumn* column) {
  rocksdb::ColumnFamilyHandle* h = nullptr;
  rocksdb::Status s = db_->CreateColumnFamily(family_options(column), name, &h);
  if (!s.ok()) fail("creating column family '" + name + "'", s.ToString());
  handles_.push_back(h);
  return h;
}

rocksdb::ColumnFamilyHandle* RocksDbStore::family(std::string_view name) {
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    if (h->GetName() == name) return h;
  }
  return create_family(std::string(name), nullptr);
}

RocksColumn* RocksDbStore::column(std::string_view name, ColumnKind kind, ColumnTtl ttl) {
  if (RocksColumn* c = find(name)) {
    if (c->kind() != kind) {
      throw std::logic_error("state '" + std::string(name) +
                             "' was created before with another state type");
    }
    return c;
  }
  columns_.push_back(std::make_unique<RocksColumn>(this, std::string(name), kind, ttl));
  RocksColumn* c = columns_.back().get();
  c->set_handle(create_family(family_name(name), c));
  return c;
}

RocksColumn* RocksDbStore::find(std::string_view name) const {
  for (const auto& c : columns_) {
    if (c->name() == name) return c.get();
  }
  return nullptr;
}

void RocksDbStore::publish_clocks(Timestamp processing_now, Timestamp event_now) {
  processing_now_.store(processing_now, std::memory_order_relaxed);
  event_now_.store(event_now, std::memory_order_relaxed);
}

bool RocksDbStore::expired(const ColumnTtl& ttl, int64_t stamp) const {
  if (ttl.ttl <= 0) return false;
  const Timestamp now =
      (ttl.event_time ? event_now_ : processing_now_).load(std::memory_order_relaxed);
  return ttl_expired(stamp, now, ttl.ttl);
}

bool RocksDbStore::drop_expired_elements(const ColumnTtl& ttl, std::string* list) const {
  size_t out = 0;
  size_t at = 0;
  while (at + kElementHeader <= list->size()) {
    int64_t stamp = 0;
    uint32_t size = 0;
    std::memcpy(&stamp, list->data() + at, sizeof(stamp));
    std::memcpy(&size, list->data() + at + sizeof(stamp), sizeof(size));
    const size_t length = kElementHeader + size;
    if (at + length > list->size()) break;
    if (!expired(ttl, stamp)) {
      if (out != at) std::memmove(list->data() + out, list->data() + at, length);
      out += length;
    }
    at += length;
  }
  list->resize(out);
  return out > 0;
}

Status RocksDbStore::compact() {
  rocksdb::CompactRangeOptions o;
  o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    rocksdb::Status s = db_->CompactRange(o, h, nullptr, nullptr);
    if (!s.ok()) return Status::internal("RocksDB state: compaction failed: " + s.ToString());
  }
  return Status::ok();
}

std::vector<StateStats> RocksDbStore::stats() const {
  std::vector<StateStats> out;
  for (const auto& c : columns_) {
    uint64_t keys = 0, sst = 0, memtables = 0;
    db_->GetIntProperty(c->handle(), rocksdb::DB::Properties::kEstimateNumKeys, &keys);
    db_->GetIntProperty(c->handle(), rocksdb::DB::Properties::kTotalSstFilesSize, &sst);
    db_->GetIntProperty(c->handle(), rocksdb::DB::Properties::kCurSizeAllMemTables, &memtables);
    out.push_back(
        StateStats{c->name(), static_cast<int64_t>(keys), static_cast<int64_t>(sst + memtables)});
  }
  return out;
}

std::string subtask_state_dir(const std::string& base, std::string_view operator_name,
                              int subtask) {
  static std::atomic<uint64_t> counter{0};
  std::string name;
  for (char c : operator_name)
    name.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return (fs::path(base) / (std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
                            name + "-" + std::to_string(subtask)))
      .string();
}

void RocksDbStore::fail(std::string_view what, const std::string& status) const {
  throw std::runtime_error("RocksDB state in '" + dir_ + "': " + std::string(what) + ": " + status);
}

// ---- RocksColumn ----

bool RocksColumn::get(std::string_view key, std::string* value) const {
  rocksdb::Status s = store_->db()->Get(rocksdb::ReadOptions(), handle_,
                                        rocksdb::Slice(key.data(), key.size()), value);
  if (s.IsNotFound()) return false;
  if (!s.ok()) store_->fail("reading state '" + name_ + "'", s.ToString());
  return true;
}

void RocksColumn::put(std::string_view key, std::string_view value) {
  rocksdb::Status s =
      store_->db()->Put(write_options(), handle_, rocksdb::Slice(key.data(), key.size()),
                        rocksdb::Slice(value.data(), value.size()));
  if (!s.ok()) store_->fail("writing state '" + name_ + "'", s.ToString());
}

void RocksColumn::merge(std::string_view key, std::string_view value) {
  rocksdb::Status s =
      store_->db()->Merge(write_options(), handle_, rocksdb::Slice(key.data(), key.size()),
                          rocksdb::Slice(value.data(), value.size()));
  if (!s.ok()) store_->fail("appending to state '" + name_ + "'", s.ToString());
}

void RocksColumn::remove(std::string_view key) {
  rocksdb::Status s =
      store_->db()->Delete(write_options(), handle_, rocksdb::Slice(key.data(), key.size()));
  if (!s.ok()) store_->fail("deleting from state '" + name_ + "'", s.ToString());
}

void RocksColumn::remove_prefix(std::string_view prefix) {
  std::vector<std::string> keys;
  scan(prefix, [&](std::string_view k, std::string_view) { keys.emplace_back(k); });
  for (const std::string& k : keys) remove(k);
}

void RocksColumn::scan(std::string_view prefix,
                       const std::function<void(std::string_view, std::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(store_->db()->NewIterator(rocksdb::ReadOptions(), handle_));
  const rocksdb::Slice p(prefix.data(), prefix.size());
  for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next()) {
    fn(std::string_view(it->key().data(), it->key().size()),
       std::string_view(it->value().data(), it->value().size()));
  }
  if (!it->status().ok()) store_->fail("scanning state '" + name_ + "'", it->status().ToString());
}

}  // namespace sluice::detail
