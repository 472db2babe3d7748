// The RocksDB state backend of a keyed operator subtask with key type K, for state larger than
// memory: state lives in a RocksDB database (detail/rocksdb_store.h) in a working directory; the
// key directory keeps only the keys of the current batch and the keys with timers (each with its
// row key), and the timers stay in memory as with the in-memory backend.
//
// Two ways to checkpoint:
//   - per key group as byte streams (StateBackend::snapshot/restore), for any checkpoint format
//     and for restoring at another parallelism, even merging several subtasks into one;
//   - natively and incrementally: checkpoint(dir, previous) makes a RocksDB checkpoint and copies
//     only the SST files that `previous` does not hold; restore_checkpoint(files, groups) opens
//     from such a checkpoint, keeping only the key groups the subtask owns (DeleteRange for the
//     others), so a subtask of a job rescaled up restores from the checkpoint of its former owner.
//
// TTL: an expired entry reads as absent and is deleted when met; a compaction filter drops the
// others, measuring age on the clocks this backend publishes after every batch and timer pass.
//
// Thread-safety: owned by one operator subtask.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sluice/detail/keyed_state_backend.h"
#include "sluice/detail/rocksdb_job_checkpoint.h"
#include "sluice/detail/rocksdb_store.h"

namespace sluice::detail {

template <typename K>
class RocksDbStateBackend final : public KeyedStateBackend<K> {
  using Base = KeyedStateBackend<K>;
  using Base::keys_;
  using Base::timers_;

 public:
  // Opens a new, empty database in `dir` (see RocksDbStore::open).
  static Result<std::unique_ptr<RocksDbStateBackend>> open(std::string dir, int max_parallelism) {
    Result<std::unique_ptr<RocksDbStore>> store =
        RocksDbStore::open(std::move(dir), max_parallelism);
    if (!store) return store.status();
    return std::unique_ptr<RocksDbStateBackend>(
        new RocksDbStateBackend(std::move(*store), max_parallelism));
  }

  RocksDbStore& store() { return *store_; }

  void cleanup_step() override {
    store_->publish_clocks(this->scope().processing_now, this->scope().event_now);
    Base::cleanup_step();
  }

  // ---- native incremental checkpoints ----
  Result<RocksCheckpoint> checkpoint(const std::string& dir,
                                     const std::vector<std::string>& previous) {
    return store_->checkpoint(dir, stored_timers(), previous);
  }
  // REQUIRES: the operator is open (its states created), no key added yet.
  Status restore_checkpoint(const std::vector<std::string>& files, int first_group,
                            int last_group) {
    std::vector<StoredTimer> timers;
    Status s = store_->restore_checkpoint(files, first_group, last_group, &timers);
    if (!s.is_ok()) return s;
    return add_timers(timers);
  }

  // ---- in the job's checkpoints (detail/rocksdb_job_checkpoint.h) ----
  Status snapshot_files(uint64_t id, int subtask, OperatorSnapshot& out) {
    return snapshot_rocksdb_files(*store_, id, subtask, stored_timers(), out);
  }
  void release_staged(uint64_t id) { release_staged_rocksdb(*store_, id); }
  // REQUIRES: as restore_checkpoint.
  Status restore_files(const OperatorRestore& in, int subtask, int parallelism) {
    std::vector<StoredTimer> timers;
    Status s = restore_rocksdb_files(*store_, in, subtask, parallelism, &timers);
    if (!s.is_ok()) return s;
    return add_timers(timers);
  }

  // ---- StateBackend ----
  void snapshot(int key_group, StateWriter& w) const override {
    store_->snapshot(key_group, stored_timers(), w);
  }
  Status restore(int key_group, StateReader& r) override {
    std::vector<StoredTimer> timers;
    Status s = store_->restore(key_group, r, &timers);
    if (!s.is_ok()) return s;
    return add_timers(timers);
  }
  // Keys and bytes are RocksDB's estimates (a map state counts its entries as keys).
  OperatorStateStats stats() const override {
    OperatorStateStats s;
    s.timers = static_cast<int64_t>(timers_.size());
    s.bytes = keys_.bytes() + timers_.bytes();
    s.states = store_->stats();
    s.keys = static_cast<int64_t>(keys_.size());
    for (const StateStats& st : s.states) {
      s.keys = std::max(s.keys, st.keys);
      s.bytes += st.bytes;
    }
    return s;
  }

 private:
  RocksDbStateBackend(std::unique_ptr<RocksDbStore> store, int max_parallelism)
      : Base(max_parallelism), store_(std::move(store)) {
    keys_.encode_keys(max_parallelism);
    this->tables_.use_store(store_.get(), &keys_.encoded());
  }

  std::vector<StoredTimer> stored_timers() const {
    std::vector<StoredTimer> out;
    for (TimeDomain d : {TimeDomain::kEventTime, TimeDomain::kProcessingTime}) {
      timers_.queue(d).for_each([&](Timestamp t, uint32_t slot) {
        const std::string& k = keys_.encoded()[slot];
        const int group = (static_cast<uint8_t>(k[0]) << 8) | static_cast<uint8_t>(k[1]);
        out.push_back(StoredTimer{group, k.substr(2), static_cast<uint8_t>(d), t});
      });
    }
    return out;
  }

  Status add_timers(const std::vector<StoredTimer>& timers) {
    for (const StoredTimer& t : timers) {
      StateReader r(t.key.data(), t.key.size());
      K key{};
      r.read(key);
      if (r.failed() || !r.at_end() || t.domain > 1 ||
          key_group_of(hash_key(key), this->max_parallelism_) != t.key_group) {
        return Status::invalid_argument(
            "restoring RocksDB state: a timer's key is malformed or "
            "belongs to another key group");
      }
      const uint32_t s = this->slot_of(key);
      this->prepare();
      timers_.add(static_cast<TimeDomain>(t.domain), t.time, s);
    }
    return Status::ok();
  }

  std::unique_ptr<RocksDbStore> store_;
};

}  // namespace sluice::detail
