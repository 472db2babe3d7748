// RocksDB state tables: the storage behind ValueState, MapState and ListState when a job runs
// with `state.backend = rocksdb`.
//
// A handle (sluice/state.h) holds either an in-memory table or one of these; it picks with one
// predictable branch per access, never a virtual call. These tables encode the current key's row
// key (the key directory keeps each key's bytes, see key_directory.h), the TTL stamp and the
// value, and make one RocksDB call (detail/rocksdb_store.h) per access. Expired entries read as
// absent and are deleted when met; compaction drops the rest.
//
// Thread-safety: owned by one operator subtask, used by its task's thread.
#pragma once

#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sluice/detail/rocksdb_store.h"
#include "sluice/detail/state_table.h"
#include "sluice/state_serializer.h"

namespace sluice::detail {

class RocksTable {
 public:
  RocksTable(RocksColumn* column, TtlPolicy ttl, const StateScope* scope)
      : column_(column), ttl_(ttl), scope_(scope) {}
  virtual ~RocksTable() = default;
  RocksTable(const RocksTable&) = delete;
  RocksTable& operator=(const RocksTable&) = delete;
  const std::string& name() const { return column_->name(); }

 protected:
  // The row key of the current key: [group][key].
  const std::string& key() const { return (*scope_->key_bytes)[scope_->slot]; }
  static int64_t stamp_of(const std::string& row) {
    int64_t stamp = 0;
    std::memcpy(&stamp, row.data(), sizeof(stamp));
    return stamp;
  }
  // Starts out_ with a stamp for a row written now.
  void begin_row() {
    out_.clear();
    const int64_t stamp = ttl_.stamp();
    const char* p = reinterpret_cast<const char*>(&stamp);
    out_.insert(out_.end(), p, p + sizeof(stamp));
  }
  std::string_view row() const { return {out_.data(), out_.size()}; }
  // Whether a stored entry stamped `stamp` is to be read as absent; refreshes the stamp of
  // `row` in place (returning true in `refreshed`) for kOnReadAndWrite.
  bool absent(std::string& row, bool* refreshed) const {
    *refreshed = false;
    if (!ttl_.enabled()) return false;
    if (ttl_.expired(stamp_of(row))) return !ttl_.return_expired();
    if (ttl_.refresh_on_read()) {
      const int64_t stamp = ttl_.stamp();
      std::memcpy(row.data(), &stamp, sizeof(stamp));
      *refreshed = true;
    }
    return false;
  }
  template <typename T>
  void decode(std::string_view bytes, T& value) const {
    StateReader r(bytes.data(), bytes.size());
    value = T{};
    r.read(value);
    if (r.failed()) throw std::runtime_error("state '" + name() + "': malformed stored value");
  }

  RocksColumn* column_;
  TtlPolicy ttl_;
  const StateScope* scope_;
  std::string buf_;        // the row last read
  std::vector<char> out_;  // the row being written
};

// One value per key.
template <typename T>
class RocksValueTable final : public RocksTable {
 public:
  static constexpr ColumnKind kKind = ColumnKind::kValue;
  using RocksTable::RocksTable;

  // nullptr when absent or expired; valid until the next call.
  const T* get() {
    if (!column_->get(key(), &buf_) || buf_.size() < sizeof(int64_t)) return nullptr;
    bool refreshed = false;
    if (absent(buf_, &refreshed)) {
      column_->remove(key());
      return nullptr;
    }
    if (refreshed) column_->put(key(), buf_);
    decode(std::string_view(buf_).substr(sizeof(int64_t)), value_);
    return &value_;
  }
  void put(const T& value) {
    begin_row();
    StateWriter(&out_).write(value);
    column_->put(key(), row());
  }
  void clear() { column_->remove(key()); }

 private:
  T value_{};
};

// A map per key: one row per map entry, under the key's row key.
template <typename K, typename V>
class RocksMapTable final : public RocksTable {
 public:
  static constexpr ColumnKind kKind = ColumnKind::kMap;
  using RocksTable::RocksTable;

  const V* get(const K& map_key) {
    const std::string& k = entry_key(map_key);
    if (!column_->get(k, &buf_)) return nullptr;
    bool refreshed = false;
    if (absent(buf_, &refreshed)) {
      column_->remove(k);
      return nullptr;
    }
    if (refreshed) column_->put(k, buf_);
    decode(std::string_view(buf_).substr(sizeof(int64_t)), value_);
    return &value_;
  }
  void put(const K& map_key, const V& value) {
    begin_row();
    StateWriter(&out_).write(value);
    column_->put(entry_key(map_key), row());
  }
  bool remove(const K& map_key) {
    const std::string& k = entry_key(map_key);
    if (!column_->get(k, &buf_)) return false;
    column_->remove(k);
    return true;
  }
  template <typename Fn>
  void for_each(Fn&& fn) {
    const std::string prefix = key();
    K map_key{};
    column_->scan(prefix, [&](std::string_view k, std::string_view v) {
      std::string row(v);
      bool refreshed = false;
      if (absent(row, &refreshed)) {
        column_->remove(k);
        return;
      }
      if (refreshed) column_->put(k, row);
      decode(k.substr(prefix.size()), map_key);
      decode(std::string_view(row).substr(sizeof(int64_t)), value_);
      fn(static_cast<const K&>(map_key), static_cast<const V&>(value_));
    });
  }
  size_t size() {
    size_t n = 0;
    for_each([&](const K&, const V&) { ++n; });
    return n;
  }
  void clear() { column_->remove_prefix(key()); }

 private:
  const std::string& entry_key(const K& map_key) {
    key_buf_.clear();
    StateWriter(&key_buf_).write(map_key);
    entry_ = key();
    entry_.append(key_buf_.data(), key_buf_.size());
    return entry_;
  }

  V value_{};
  std::vector<char> key_buf_;
  std::string entry_;
};

// A list per key: one row of elements ([i64 stamp][u32 size][element])*, appended by merge.
template <typename T>
class RocksListTable final : public RocksTable {
 public:
  static constexpr ColumnKind kKind = ColumnKind::kList;
  using RocksTable::RocksTable;

  void add(const T& value) {
    begin_row();
    const size_t size_at = out_.size();
    out_.resize(out_.size() + sizeof(uint32_t));
    StateWriter(&out_).write(value);
    const uint32_t size = static_cast<uint32_t>(out_.size() - size_at - sizeof(uint32_t));
    std::memcpy(out_.data() + size_at, &size, sizeof(size));
    column_->merge(key(), row());
  }
  // fn(const T&) for every element not expired, in insertion order; drops expired ones.
  template <typename Fn>
  void for_each(Fn&& fn) {
    if (!column_->get(key(), &buf_)) return;
    std::string kept;
    bool changed = false;
    size_t at = 0;
    constexpr size_t kHeader = sizeof(int64_t) + sizeof(uint32_t);
    while (at + kHeader <= buf_.size()) {
      uint32_t size = 0;
      std::memcpy(&size, buf_.data() + at + sizeof(int64_t), sizeof(size));
      if (at + kHeader + size > buf_.size()) break;
      std::string element = buf_.substr(at, kHeader + size);
      at += kHeader + size;
      bool refreshed = false;
      if (absent(element, &refreshed)) {
        changed = true;
        continue;
      }
      changed |= refreshed;
      decode(std::string_view(element).substr(kHeader), value_);
      fn(static_cast<const T&>(value_));
      kept += element;
    }
    if (!changed) return;
    if (kept.empty()) {
      column_->remove(key());
    } else {
      column_->put(key(), kept);
    }
  }
  size_t size() {
    size_t n = 0;
    for_each([&](const T&) { ++n; });
    return n;
  }
  void clear() { column_->remove(key()); }

 private:
  T value_{};
};

}  // namespace sluice::detail
