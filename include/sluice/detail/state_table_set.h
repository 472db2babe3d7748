// The state tables of one keyed operator subtask, by name, and the scope their handles read.
//
// Independent of the key type, so that RuntimeContext (which the user's open() receives) can
// create state handles without knowing the key. The key type lives in KeyDirectory.
//
// With a RocksDB store (use_store), handles are bound to RocksDB tables instead of in-memory
// ones; the in-memory table list then stays empty.
//
// Thread-safety: owned by one operator subtask.
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/detail/rocksdb_state_table.h"
#include "sluice/detail/state_table.h"

namespace sluice::detail {

class StateTableSet {
 public:
  StateScope& scope() { return scope_; }
  const StateScope& scope() const { return scope_; }

  // Binds later handles to RocksDB tables of `store`, keyed by `key_bytes` (by slot).
  // REQUIRES: no table created yet.
  void use_store(RocksDbStore* store, const std::vector<std::string>* key_bytes) {
    store_ = store;
    scope_.key_bytes = key_bytes;
  }
  RocksDbStore* store() const { return store_; }

  // A handle S (ValueState<T>, MapState<K, V> or ListState<T>) on the state named `name`.
  template <typename S>
  S handle(std::string_view name, const std::optional<StateTtl>& ttl) {
    if (store_ != nullptr) return S(rocks_table<typename S::RocksTable>(name, ttl), &scope_);
    return S(table<typename S::Table>(name, ttl), &scope_);
  }

  // The table named `name`, created on first use. A second request for a name must ask for the
  // same kind of table; its TTL is the first request's.
  template <typename Table>
  Table* table(std::string_view name, const std::optional<StateTtl>& ttl) {
    return find_or_add<Table>(tables_, name, ttl, [&](const TtlPolicy& policy) {
      auto t = std::make_unique<Table>(std::string(name), policy);
      t->resize(slots_);
      return t;
    });
  }

  // The RocksDB table named `name`, created on first use; the same rules as table().
  template <typename Table>
  Table* rocks_table(std::string_view name, const std::optional<StateTtl>& ttl) {
    return find_or_add<Table>(rocks_tables_, name, ttl, [&](const TtlPolicy& policy) {
      RocksColumn* column =
          store_->column(name, Table::kKind, ColumnTtl{policy.ttl(), policy.event_time()});
      return std::make_unique<Table>(column, policy, &scope_);
    });
  }

  // Makes slots [0, slots) addressable in every table. Called between batches.
  void resize(size_t slots) {
    if (slots <= slots_) return;
    slots_ = slots;
    for (auto& t : tables_) t->resize(slots);
  }
  size_t slots() const { return slots_; }
  const std::vector<std::unique_ptr<StateTable>>& tables() const { return tables_; }
  StateTable* find(std::string_view name) const {
    for (auto& t : tables_) {
      if (t->name() == name) return t.get();
    }
    return nullptr;
  }

 private:
  template <typename Table, typename List, typename Make>
  Table* find_or_add(List& list, std::string_view name, const std::optional<StateTtl>& ttl,
                     Make&& make) {
    for (auto& t : list) {
      if (t->name() != name) continue;
      auto* typed = dynamic_cast<Table*>(t.get());
      if (typed == nullptr) {
        throw std::logic_error("state '" + std::string(name) +
                               "' was created before with another state type");
      }
      return typed;
    }
    if (ttl.has_value() && ttl->ttl <= 0) {
      throw std::invalid_argument("state '" + std::string(name) + "': TTL must be positive");
    }
    auto t = make(TtlPolicy(ttl, &scope_));
    Table* raw = t.get();
    list.push_back(std::move(t));
    return raw;
  }

  StateScope scope_;
  size_t slots_ = 0;
  std::vector<std::unique_ptr<StateTable>> tables_;
  RocksDbStore* store_ = nullptr;
  std::vector<std::unique_ptr<RocksTable>> rocks_tables_;
};

}  // namespace sluice::detail
