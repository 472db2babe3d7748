#include "runtime/job_metrics.h"

#include "runtime/channel.h"

namespace sluice::runtime {

size_t TaskMetrics::queue_depth() const {
  size_t depth = 0;
  for (const Channel* c : inputs) depth += c->depth();
  return depth;
}

}  // namespace sluice::runtime
