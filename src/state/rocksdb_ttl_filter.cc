#include "state/rocksdb_ttl_filter.h"

#include <cstring>

namespace sluice::detail {

int64_t stamp_of(std::string_view row) {
  int64_t stamp = 0;
  if (row.size() >= sizeof(stamp)) std::memcpy(&stamp, row.data(), sizeof(stamp));
  return stamp;
}

TtlCompactionFilter::Decision TtlCompactionFilter::FilterV2(int, const rocksdb::Slice&,
                                                            ValueType type,
                                                            const rocksdb::Slice& value,
                                                            std::string* new_value,
                                                            std::string*) const {
  if (type == ValueType::kBlobIndex) return Decision::kKeep;
  const std::string_view row(value.data(), value.size());
  if (kind_ != ColumnKind::kList) {
    return store_->expired(ttl_, stamp_of(row)) ? Decision::kRemove : Decision::kKeep;
  }
  std::string kept(row);
  if (!store_->drop_expired_elements(ttl_, &kept)) return Decision::kRemove;
  if (kept.size() == row.size()) return Decision::kKeep;
  *new_value = std::move(kept);
  return Decision::kChangeValue;
}

bool ListAppendOperator::Merge(const rocksdb::Slice&, const rocksdb::Slice* existing,
                               const rocksdb::Slice& value, std::string* new_value,
                               rocksdb::Logger*) const {
  new_value->clear();
  if (existing != nullptr) new_value->assign(existing->data(), existing->size());
  new_value->append(value.data(), value.size());
  return true;
}

}  // namespace sluice::detail
