// RocksDbStore: snapshots and restores of one key group as a byte stream, for any checkpoint
// format and any parallelism.
//
// Format (integers native-endian):
//   u32 magic 'SLRK', u32 version 1, u32 key group, u32 column count, then per column:
//     name, u8 kind, u64 row count, then per row: key without its group bytes, value;
//   u64 timer count, then per timer: key without its group bytes, u8 domain, i64 time.
#include <string>
#include <utility>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "sluice/detail/rocksdb_store.h"
#include "state/rocksdb_internal.h"
#include "state/rocksdb_ttl_filter.h"

namespace sluice::detail {
namespace {

constexpr uint32_t kMagic = 0x4B524C53;  // "SLRK"
constexpr uint32_t kVersion = 1;
constexpr size_t kBatchBytes = 8 << 20;  // a restore commits a write batch every 8 MB

}  // namespace

void RocksDbStore::snapshot(int key_group, const std::vector<StoredTimer>& timers,
                            StateWriter& w) const {
  std::string prefix;
  append_key_group(prefix, key_group);
  w.write(kMagic);
  w.write(kVersion);
  w.write(static_cast<uint32_t>(key_group));
  w.write(static_cast<uint32_t>(columns_.size()));
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& c : columns_) {
    rows.clear();
    c->scan(prefix, [&](std::string_view key, std::string_view value) {
      std::string v(value);
      if (c->kind() == ColumnKind::kList) {
        if (!drop_expired_elements(c->ttl(), &v)) return;
      } else if (expired(c->ttl(), stamp_of(v))) {
        return;
      }
      rows.emplace_back(std::string(key.substr(prefix.size())), std::move(v));
    });
    w.write(c->name());
    w.write(static_cast<uint8_t>(c->kind()));
    w.write(static_cast<uint64_t>(rows.size()));
    for (const auto& [k, v] : rows) {
      w.write(k);
      w.write(v);
    }
  }
  uint64_t n = 0;
  for (const StoredTimer& t : timers) n += t.key_group == key_group;
  w.write(n);
  for (const StoredTimer& t : timers) {
    if (t.key_group != key_group) continue;
    w.write(t.key);
    w.write(t.domain);
    w.write(t.time);
  }
}

Status RocksDbStore::restore(int key_group, StateReader& r, std::vector<StoredTimer>* timers) {
  const std::string where = "restoring key group " + std::to_string(key_group) + ": ";
  if (r.read<uint32_t>() != kMagic || r.read<uint32_t>() != kVersion) {
    return Status::invalid_argument(where + "not a RocksDB state snapshot of this version");
  }
  if (r.read<uint32_t>() != static_cast<uint32_t>(key_group)) {
    return Status::invalid_argument(where + "the snapshot is of another key group");
  }
  std::string prefix;
  append_key_group(prefix, key_group);
  rocksdb::WriteBatch batch;
  auto commit = [&]() -> Status {
    rocksdb::Status s = db_->Write(write_options(), &batch);
    batch.Clear();
    return s.ok() ? Status::ok() : Status::internal(where + s.ToString());
  };
  const uint32_t column_count = r.read<uint32_t>();
  std::string key, value;
  for (uint32_t i = 0; i < column_count && !r.failed(); ++i) {
    const std::string name = r.read<std::string>();
    const uint8_t kind = r.read<uint8_t>();
    RocksColumn* c = find(name);
    if (!r.failed() && c == nullptr) {
      return Status::invalid_argument(where + "the snapshot holds state '" + name +
                                      "', which the operator does not create");
    }
    if (!r.failed() && static_cast<uint8_t>(c->kind()) != kind) {
      return Status::invalid_argument(where + "state '" + name + "' has another type");
    }
    const uint64_t rows = r.read<uint64_t>();
    for (uint64_t j = 0; j < rows && !r.failed(); ++j) {
      key = prefix;
      key += r.read<std::string>();
      r.read(value);
      batch.Put(c->handle(), key, value);
      if (batch.GetDataSize() >= kBatchBytes) {
        if (Status s = commit(); !s.is_ok()) return s;
      }
    }
  }
  const uint64_t timer_count = r.read<uint64_t>();
  for (uint64_t i = 0; i < timer_count && !r.failed(); ++i) {
    StoredTimer t;
    t.key_group = key_group;
    r.read(t.key);
    r.read(t.domain);
    r.read(t.time);
    if (t.domain > 1) r.fail();
    timers->push_back(std::move(t));
  }
  if (r.failed()) return Status::invalid_argument(where + "truncated or malformed snapshot");
  return commit();
}

}  // namespace sluice::detail
