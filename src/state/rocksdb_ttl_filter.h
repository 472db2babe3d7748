// RocksDB plug-ins of the state store: the TTL compaction filter of a column and the merge
// operator that appends list elements.
//
// Thread-safety: both run on RocksDB's background threads; they read only immutable settings and
// the store's atomic clocks.
#pragma once

#include <string>

#include <rocksdb/compaction_filter.h>
#include <rocksdb/merge_operator.h>

#include "sluice/detail/rocksdb_store.h"

namespace sluice::detail {

// Drops expired value and map rows and expired list elements during compaction, by the stamp the
// tables store in front of every value.
class TtlCompactionFilter final : public rocksdb::CompactionFilter {
 public:
  TtlCompactionFilter(const RocksDbStore* store, ColumnKind kind, ColumnTtl ttl)
      : store_(store), kind_(kind), ttl_(ttl) {}
  Decision FilterV2(int level, const rocksdb::Slice& key, ValueType type,
                    const rocksdb::Slice& value, std::string* new_value,
                    std::string* skip_until) const override;
  const char* Name() const override { return "sluice.TtlCompactionFilter"; }

 private:
  const RocksDbStore* store_;
  ColumnKind kind_;
  ColumnTtl ttl_;
};

// List rows are sequences of elements; a merge appends the operand's elements.
class ListAppendOperator final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice& key, const rocksdb::Slice* existing, const rocksdb::Slice& value,
             std::string* new_value, rocksdb::Logger* logger) const override;
  const char* Name() const override { return "sluice.ListAppendOperator"; }
};

// The stamp in front of a value or map row (0 for a row too short to hold one).
int64_t stamp_of(std::string_view row);

}  // namespace sluice::detail
