// RocksDbStore: the RocksDB database behind the keyed state of one operator subtask, seen as
// byte strings. The typed tables (detail/rocksdb_state_table.h) encode keys and values; this
// class, compiled once in src/state, owns the database, one column family per named state, the
// TTL compaction filters, snapshots per key group and the native incremental checkpoints.
//
// Layout. Every row key starts with its key group as two big-endian bytes, so the rows of a key
// group are one contiguous range (selected by prefix, dropped by DeleteRange):
//   value state  [group][key]            -> [i64 stamp][value]
//   map state    [group][key][map key]   -> [i64 stamp][value]
//   list state   [group][key]            -> ([i64 stamp][u32 size][element])*  (appended by merge)
//   timers       [group][key][u8 domain][i64 time]  (written only into native checkpoints)
// Stamps are the TTL stamps of detail/state_table.h (0 without TTL). Keys and values are encoded
// with sluice::StateWriter, which is prefix-free, so a key's map rows are the rows under
// [group][key]. The write-ahead log is off: durability comes from checkpoints.
//
// Errors of the database on the per-row path throw std::runtime_error (the operator turns it into
// a job failure naming itself); control-path calls return Status.
//
// Thread-safety: one subtask's thread calls everything; RocksDB's background threads only read
// the clocks published by publish_clocks().
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/detail/key_groups.h"
#include "sluice/state_serializer.h"
#include "sluice/state_stats.h"
#include "sluice/status.h"
#include "sluice/time.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class CompactionFilter;
struct ColumnFamilyOptions;
}  // namespace rocksdb

namespace sluice::detail {

enum class ColumnKind : uint8_t { kValue = 0, kMap = 1, kList = 2 };

// How a column's entries expire; ttl == 0 means never.
struct ColumnTtl {
  Duration ttl = 0;
  bool event_time = false;
};

class RocksDbStore;

// One named state: a column family. Calls are direct (no virtual dispatch); each is one RocksDB
// operation.
class RocksColumn {
 public:
  RocksColumn(RocksDbStore* store, std::string name, ColumnKind kind, ColumnTtl ttl)
      : store_(store), name_(std::move(name)), kind_(kind), ttl_(ttl) {}

  const std::string& name() const { return name_; }
  ColumnKind kind() const { return kind_; }
  const ColumnTtl& ttl() const { return ttl_; }

  // False when `key` has no row.
  bool get(std::string_view key, std::string* value) const;
  void put(std::string_view key, std::string_view value);
  void merge(std::string_view key, std::string_view value);  // list columns: appends
  void remove(std::string_view key);
  // Removes every row whose key starts with `prefix`.
  void remove_prefix(std::string_view prefix);
  // fn(key, value) for every row whose key starts with `prefix`, in key order.
  void scan(std::string_view prefix,
            const std::function<void(std::string_view, std::string_view)>& fn) const;

  rocksdb::ColumnFamilyHandle* handle() const { return handle_; }
  void set_handle(rocksdb::ColumnFamilyHandle* h) { handle_ = h; }

 private:
  RocksDbStore* store_;
  std::string name_;
  ColumnKind kind_;
  ColumnTtl ttl_;
  rocksdb::ColumnFamilyHandle* handle_ = nullptr;
};

// What a native checkpoint consists of: every file's path, and what this checkpoint copied.
struct RocksCheckpoint {
  std::vector<std::string> files;  // absolute paths; SST files may live in earlier checkpoints
  int files_copied = 0;
  int files_reused = 0;  // SST files already in the previous checkpoint, not copied again
  int64_t bytes_copied = 0;
};

// A timer as the store keeps it in checkpoints: the encoded key without its group.
struct StoredTimer {
  int key_group = 0;
  std::string key;
  uint8_t domain = 0;
  Timestamp time = 0;
};

class RocksDbStore {
 public:
  // Opens a new, empty database in `dir` (created; anything there is removed first). The
  // directory is removed again when the store is destroyed.
  static Result<std::unique_ptr<RocksDbStore>> open(std::string dir, int max_parallelism);
  ~RocksDbStore();
  RocksDbStore(const RocksDbStore&) = delete;
  RocksDbStore& operator=(const RocksDbStore&) = delete;

  // The column of state `name`, created on first use. Throws std::logic_error when `name` was
  // created before with another kind.
  RocksColumn* column(std::string_view name, ColumnKind kind, ColumnTtl ttl);
  RocksColumn* find(std::string_view name) const;
  const std::vector<std::unique_ptr<RocksColumn>>& columns() const { return columns_; }

  // The clocks TTL compaction measures ages on; the backend publishes its scope's clocks
  // between batches.
  void publish_clocks(Timestamp processing_now, Timestamp event_now);
  // Whether an entry stamped `stamp` of `column` is expired at the published clocks.
  bool expired(const ColumnTtl& ttl, int64_t stamp) const;
  // Drops the expired elements of a list row; false when none is left.
  bool drop_expired_elements(const ColumnTtl& ttl, std::string* list) const;

  // ---- key groups (byte streams, any checkpoint format, any parallelism) ----
  // Writes the rows of `key_group` of every column (expired entries left out), then `timers`.
  void snapshot(int key_group, const std::vector<StoredTimer>& timers, StateWriter& w) const;
  // Adds what snapshot() wrote; the timers are handed back. REQUIRES: every column of the
  // snapshot exists.
  Status restore(int key_group, StateReader& r, std::vector<StoredTimer>* timers);

  // ---- native incremental checkpoints ----
  // Writes `timers` into the checkpoint's timer column, flushes, and makes a RocksDB checkpoint
  // in `dir` (replaced): hard links to the live SST files and copies of the small metadata
  // files, so it costs a flush, not a copy of the state. Returns the files' absolute paths.
  Result<std::vector<std::string>> stage_checkpoint(const std::string& dir,
                                                    const std::vector<StoredTimer>& timers);
  // Writes `timers` into the checkpoint's timer column, flushes, and makes a checkpoint in `dir`
  // (created): SST files already listed in `previous` are referenced, not copied.
  Result<RocksCheckpoint> checkpoint(const std::string& dir, const std::vector<StoredTimer>& timers,
                                     const std::vector<std::string>& previous);
  // Replaces the database with the checkpoint made of `files`, keeps key groups
  // [first_group, last_group] only (DeleteRange for the others), adds the rows of those groups
  // from each checkpoint of `merged` (other subtasks' checkpoints, when subtasks merge) and
  // hands back the timers.
  // Columns created before keep their RocksColumn (re-bound to the restored family); families
  // of the checkpoint that no column asks for are kept as they are.
  Status restore_checkpoint(const std::vector<std::string>& files, int first_group, int last_group,
                            std::vector<StoredTimer>* timers,
                            const std::vector<std::vector<std::string>>& merged = {});
  // Compacts every column (the TTL filter runs); for tests and tools.
  Status compact();

  // Approximate sizes: estimated keys and bytes (SST files and memtables) per column.
  std::vector<StateStats> stats() const;

  rocksdb::DB* db() const { return db_; }
  const std::string& dir() const { return dir_; }
  // Where checkpoints of the job are staged (stage_checkpoint), next to dir(); removed with the
  // store.
  std::string staging_root() const { return dir_ + std::string(kStagingSuffix); }
  static constexpr std::string_view kStagingSuffix = ".staging";
  int max_parallelism() const { return max_parallelism_; }
  [[noreturn]] void fail(std::string_view what, const std::string& status) const;

 private:
  RocksDbStore(std::string dir, int max_parallelism);
  // Opens the database in dir_ with the column families `existing` (besides the default one),
  // binds the columns to their families and creates the families of columns not among them.
  Status open_db(const std::vector<std::string>& existing);
  void close_db();
  // Copies the rows of key groups [first_group, last_group] of the checkpoint made of `files`
  // into this database.
  Status merge_checkpoint(const std::vector<std::string>& files, int first_group, int last_group);
  rocksdb::ColumnFamilyOptions family_options(const RocksColumn* column);
  rocksdb::ColumnFamilyHandle* create_family(const std::string& name, const RocksColumn* column);
  // The open family `name`, created (plain) when missing.
  rocksdb::ColumnFamilyHandle* family(std::string_view name);

  std::string dir_;
  int max_parallelism_;
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // every open family, default included
  std::vector<std::unique_ptr<RocksColumn>> columns_;
  std::vector<std::unique_ptr<rocksdb::CompactionFilter>> filters_;  // referenced by families
  std::atomic<int64_t> processing_now_{kMinTimestamp};
  std::atomic<int64_t> event_now_{kMinTimestamp};
};

// A working directory for one operator subtask under `base`, unique within the machine:
// "<base>/<pid>-<n>-<operator>-<subtask>".
std::string subtask_state_dir(const std::string& base, std::string_view operator_name, int subtask);

}  // namespace sluice::detail
