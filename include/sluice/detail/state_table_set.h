// The state tables of one keyed operator subtask, by name, and the scope their handles read.
//
// Independent of the key type, so that RuntimeContext (which the user's open() receives) can
// create state handles without knowing the key. The key type lives in KeyDirectory.
//
// Thread-safety: owned by one operator subtask.
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/detail/state_table.h"

namespace sluice::detail {

class StateTableSet {
 public:
  StateScope& scope() { return scope_; }
  const StateScope& scope() const { return scope_; }

  // The table named `name`, created on first use. A second request for a name must ask for the
  // same kind of table; its TTL is the first request's.
  template <typename Table>
  Table* table(std::string_view name, const std::optional<StateTtl>& ttl) {
    for (auto& t : tables_) {
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
    auto t = std::make_unique<Table>(std::string(name), TtlPolicy(ttl, &scope_));
    t->resize(slots_);
    Table* raw = t.get();
    tables_.push_back(std::move(t));
    return raw;
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
  StateScope scope_;
  size_t slots_ = 0;
  std::vector<std::unique_ptr<StateTable>> tables_;
};

}  // namespace sluice::detail
