#include "runtime/channel.h"

#include <algorithm>

#include "runtime/task.h"

namespace sluice::runtime {

Channel::~Channel() {
  Envelope e;
  while (data_.try_pop(e)) delete e.batch;
  detail::BatchBase* b = nullptr;
  while (returns_.try_pop(b)) delete b;
}

bool Channel::try_push(const Envelope& e) {
  if (!data_.try_push(e)) return false;
  max_depth_ = std::max(max_depth_, data_.size_approx());  // once per envelope, not per row
  consumer->notify();
  return true;
}

detail::BatchBase* Channel::take_returned() {
  detail::BatchBase* b = nullptr;
  return returns_.try_pop(b) ? b : nullptr;
}

bool Channel::try_pop(Envelope& e) {
  if (!data_.try_pop(e)) return false;
  producer->notify();
  return true;
}

void Channel::give_back(detail::BatchBase* batch) {
  batch->clear();
  if (!returns_.try_push(batch)) delete batch;
}

}  // namespace sluice::runtime
