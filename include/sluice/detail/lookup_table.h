// LookupTable: the latest row per key of a changelog stream, the table side of a lookup join.
//
// A changelog row is either an upsert (the key's new row) or a delete (the key leaves the table).
// ChangeTraits says which, and what the row is: sluice::Change<V> carries both; any other row type
// is an upsert of itself. Rows are held as engaged std::optional<V> so that a join function gets
// `const std::optional<V>&` for a match and for a miss alike, without a copy.
//
// The rows live in a CowMap, so a checkpoint's synchronous part is freeze() (O(pages)); the
// checkpoint writer writes the rows as they were at the cut while the task goes on changing them
// (see cow_map.h).
//
// Thread-safety: none (owned by one operator instance); a frozen view is read on the checkpoint
// writer's thread.
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "sluice/detail/cow_map.h"
#include "sluice/detail/frozen_view.h"
#include "sluice/detail/join_common.h"
#include "sluice/detail/key_groups.h"
#include "sluice/detail/prehashed_map.h"
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
  using Map = CowMap<Key, std::optional<V>>;

  void upsert(const Key& key, const V& row) { rows_.try_emplace(key).first->second = row; }
  void erase(const Key& key) { rows_.erase(key); }
  // The key's row, or nullptr when the table has none.
  const std::optional<V>* find(const Prehashed<Key>& key) const { return rows_.find(key); }
  const std::optional<V>* find(const Key& key) const { return rows_.find(key); }
  // Fetches the key's slot into the cache ahead of a find().
  [[gnu::always_inline]] void prefetch(const Prehashed<Key>& key) const { rows_.prefetch(key); }
  size_t size() const { return rows_.size(); }

  // A row as for_each_entry() hands it on.
  struct Visit {
    template <typename Fn>
    void operator()(NoTag, const Key& key, const std::optional<V>& row, int max_parallelism,
                    Fn& fn) const {
      fn(key_group_of(hash_key(key), max_parallelism), Entry{key, *row});
    }
  };
  // fn(key_group, Entry&&) for every row.
  template <typename Fn>
  void for_each_entry(int max_parallelism, Fn&& fn) const {
    for (const auto& [key, row] : rows_) Visit{}(NoTag{}, key, row, max_parallelism, fn);
  }
  // The rows grouped by key group (ascending; empty groups left out).
  std::vector<KeyGroupSnapshot<Entry>> snapshot(int max_parallelism) const {
    return group_entries<Entry>(*this, max_parallelism);
  }
  // A view of the rows, O(pages), for the checkpoint writer (see frozen_view.h).
  FrozenView<Map, Visit> freeze() { return freeze_view<Visit>(rows_); }
  // The synchronous part of a checkpoint: freeze(); the checkpoint writer writes the rows per key
  // group in write_entries()' format ((key, row) pairs to the end of a stream).
  void cut(int max_parallelism, OperatorSnapshot& out) {
    write_entries_deferred<Entry>(*this, max_parallelism, out);
  }
  void restore(const KeyGroupSnapshot<Entry>& group) {
    for (const auto& [key, row] : group.entries) upsert(key, row);
  }

 private:
  Map rows_;  // checkpointed (copy-on-write cut); values always engaged
};

}  // namespace sluice::detail
