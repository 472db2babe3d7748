// Sizes of keyed state, observable while a job runs (RuntimeContext::state_stats()).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sluice {

// One named state of an operator subtask.
struct StateStats {
  std::string name;
  int64_t keys = 0;   // keys holding an entry (expired entries count until cleaned up)
  int64_t bytes = 0;  // approximate: the tables' reserved memory, not the allocator's overhead
};

// Every keyed state of one operator subtask, with its key directory and timers.
struct OperatorStateStats {
  int64_t keys = 0;    // keys with state or timers (and keys seen since the last cleanup)
  int64_t timers = 0;  // registered event- and processing-time timers
  int64_t bytes = 0;   // everything: directory, timers and states
  std::vector<StateStats> states;
  double bytes_per_key() const { return keys == 0 ? 0 : static_cast<double>(bytes) / keys; }
};

}  // namespace sluice
