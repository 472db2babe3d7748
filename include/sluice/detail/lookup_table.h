// LookupTable: the latest row per key of a changelog stream, the table side of a lookup join.
//
// A changelog row is either an upsert (the key's new row) or a delete (the key leaves the table).
// ChangeTraits says which, and what the row is: sluice::Change<V> carries both; any other row type
// is an upsert of itself. Rows are held as engaged std::optional<V> so that a join function gets
// `const std::optional<V>&` for a match and for a miss alike, without a copy.
//
// Thread-safety: none (owned by one operator instance).
#pragma once

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "sluice/detail/join_common.h"
#include "sluice/detail/key_groups.h"
#include "sluice/join_options.h"

namespace sluice::detail {

template <typename T>
struct ChangeTraits {
  using Value = T;
  static bool is_delete(const T&) { return false; }
  static const T& value(const T& row) { return row; }
};

template <typename V>
struct ChangeTraits<Change<V>> {
  using Value = V;
  static bool is_delete(const Change<V>& c) { return c.kind == ChangeKind::kDelete; }
  static const V& value(const Change<V>& c) { return c.row; }
};

template <typename Key, typename V>
class LookupTable {
 public:
  using Entry = std::pair<Key, V>;

  void upsert(const Key& key, const V& row) { rows_[key] = row; }
  void erase(const Key& key) { rows_.erase(key); }
  // The key's row, or nullptr when the table has none.
  const std::optional<V>* find(const Key& key) const {
    auto it = rows_.find(key);
    return it == rows_.end() ? nullptr : &it->second;
  }
  size_t size() const { return rows_.size(); }

  // The rows grouped by key group (ascending; empty groups left out).
  std::vector<KeyGroupSnapshot<Entry>> snapshot(int max_parallelism) const {
    std::map<int, std::vector<Entry>> groups;
    for (const auto& [key, row] : rows_) {
      groups[key_group_of(hash_key(key), max_parallelism)].emplace_back(key, *row);
    }
    std::vector<KeyGroupSnapshot<Entry>> out;
    for (auto& [g, entries] : groups) out.push_back({g, std::move(entries)});
    return out;
  }
  void restore(const KeyGroupSnapshot<Entry>& group) {
    for (const auto& [key, row] : group.entries) upsert(key, row);
  }

 private:
  absl::flat_hash_map<Key, std::optional<V>> rows_;  // checkpointed; values always engaged
};

}  // namespace sluice::detail
