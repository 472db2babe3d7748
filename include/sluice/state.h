// Keyed state: values, maps and lists that belong to the key of the row (or timer) being handled.
//
// A keyed process function creates its state handles once, in open():
//
//   struct CountPerKey {
//     sluice::ValueState<int64_t> count;
//     void open(sluice::RuntimeContext& ctx) { count =
//     ctx.state<sluice::ValueState<int64_t>>("count"); } void process(const Event& e,
//     sluice::ProcessContext<uint64_t>& ctx,
//                  sluice::Collector<Result>& out) {
//       const int64_t n = count.value_or(0) + 1;
//       count.update(n);
//       out.emit(Result{ctx.key(), n});
//     }
//   };
//
// Every access reads or writes the entry of the current key; the runtime sets the current key
// before each call of process() and on_timer(). A handle is a pointer to a typed table and to the
// operator's scope: an access is an array index, with no hashing and no virtual call (see
// detail/state_table.h). With `state.backend = rocksdb` the handle holds a RocksDB table instead
// (detail/rocksdb_state_table.h) and an access is one RocksDB call; the handle picks with one
// predictable branch. With a StateTtl, entries expire (see state_ttl.h).
//
// State is snapshotted per key group (detail/keyed_state_backend.h); key and value types must be
// trivially copyable or std::string, or have a sluice::StateSerializer (state_serializer.h).
//
// Thread-safety: handles belong to one operator subtask and are used from its calls only.
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "sluice/detail/rocksdb_state_table.h"
#include "sluice/detail/state_table.h"
#include "sluice/state_stats.h"
#include "sluice/state_ttl.h"

namespace sluice {

// One value per key.
template <typename T>
class ValueState {
 public:
  using Table = detail::ValueTable<T>;
  using RocksTable = detail::RocksValueTable<T>;
  ValueState() = default;  // unbound until assigned from RuntimeContext::state
  ValueState(Table* table, detail::StateScope* scope) : table_(table), scope_(scope) {}
  ValueState(RocksTable* table, detail::StateScope* scope) : rocks_(table), scope_(scope) {}

  // The key's value; empty when it has none (or it expired).
  std::optional<T> value() const {
    const T* v = get();
    return v != nullptr ? std::optional<T>(*v) : std::nullopt;
  }
  T value_or(const T& fallback) const {
    const T* v = get();
    return v != nullptr ? *v : fallback;
  }
  // The key's value without a copy, or nullptr; valid until this state is next accessed.
  const T* get() const {
    if (rocks_ != nullptr) [[unlikely]]
      return rocks_->get();
    return table_->get(scope_->slot);
  }
  bool has_value() const { return get() != nullptr; }
  void update(T value) {
    if (rocks_ != nullptr) [[unlikely]]
      return rocks_->put(value);
    table_->put(scope_->slot, std::move(value));
  }
  void clear() {
    if (rocks_ != nullptr) [[unlikely]]
      return rocks_->clear();
    table_->clear(scope_->slot);
  }

 private:
  Table* table_ = nullptr;
  RocksTable* rocks_ = nullptr;
  detail::StateScope* scope_ = nullptr;
};

// A map per key.
template <typename K, typename V>
class MapState {
 public:
  using Table = detail::MapTable<K, V>;
  using RocksTable = detail::RocksMapTable<K, V>;
  MapState() = default;
  MapState(Table* table, detail::StateScope* scope) : table_(table), scope_(scope) {}
  MapState(RocksTable* table, detail::StateScope* scope) : rocks_(table), scope_(scope) {}

  std::optional<V> get(const K& key) const {
    const V* v = find(key);
    return v != nullptr ? std::optional<V>(*v) : std::nullopt;
  }
  bool contains(const K& key) const { return find(key) != nullptr; }
  void put(K key, V value) {
    if (rocks_ != nullptr) [[unlikely]]
      return rocks_->put(key, value);
    table_->put(scope_->slot, std::move(key), std::move(value));
  }
  // Whether the key had an entry.
  bool remove(const K& key) {
    if (rocks_ != nullptr) [[unlikely]]
      return rocks_->remove(key);
    return table_->remove(scope_->slot, key);
  }
  // fn(const K&, const V&) for every entry, in no particular order. REQUIRES: fn does not modify
  // this state.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    if (rocks_ != nullptr) [[unlikely]]
      return rocks_->for_each(std::forward<Fn>(fn));
    table_->for_each(scope_->slot, std::forward<Fn>(fn));
  }
  size_t size() const {
    if (rocks_ != nullptr) [[unlikely]]
      return rocks_->size();
    return table_->size(scope_->slot);
  }
  bool empty() const { return size() == 0; }
  void clear() {
    if (rocks_ != nullptr) [[unlikely]]
      return rocks_->clear();
    table_->clear(scope_->slot);
  }

 private:
  const V* find(const K& key) const {
    if (rocks_ != nullptr) [[unlikely]]
      return rocks_->get(key);
    return table_->get(scope_->slot, key);
  }

  Table* table_ = nullptr;
  RocksTable* rocks_ = nullptr;
  detail::StateScope* scope_ = nullptr;
};

// A list per key, in insertion order. With a TTL each element expires on its own.
template <typename T>
class ListState {
 public:
  using Table = detail::ListTable<T>;
  using RocksTable = detail::RocksListTable<T>;
  ListState() = default;
  ListState(Table* table, detail::StateScope* scope) : table_(table), scope_(scope) {}
  ListState(RocksTable* table, detail::StateScope* scope) : rocks_(table), scope_(scope) {}

  void add(T value) {
    if (rocks_ != nullptr) [[unlikely]]
      return rocks_->add(value);
    table_->add(scope_->slot, std::move(value));
  }
  // fn(const T&) for every element. REQUIRES: fn does not modify this state.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    if (rocks_ != nullptr) [[unlikely]]
      return rocks_->for_each(std::forward<Fn>(fn));
    table_->for_each(scope_->slot, std::forward<Fn>(fn));
  }
  // A copy of the elements (allocates; for_each does not).
  std::vector<T> get() const {
    std::vector<T> out;
    for_each([&](const T& v) { out.push_back(v); });
    return out;
  }
  // Replaces the elements.
  void update(const std::vector<T>& values) {
    clear();
    for (const T& v : values) add(v);
  }
  size_t size() const {
    if (rocks_ != nullptr) [[unlikely]]
      return rocks_->size();
    return table_->size(scope_->slot);
  }
  bool empty() const { return size() == 0; }
  void clear() {
    if (rocks_ != nullptr) [[unlikely]]
      return rocks_->clear();
    table_->clear(scope_->slot);
  }

 private:
  Table* table_ = nullptr;
  RocksTable* rocks_ = nullptr;
  detail::StateScope* scope_ = nullptr;
};

}  // namespace sluice
