#include "runtime/channel_set_impl.h"

namespace sluice::runtime {

ChannelSetImpl::~ChannelSetImpl() {
  for (auto& q : overflow_) {
    for (Envelope& e : q) delete e.batch;
  }
}

detail::BatchBase* ChannelSetImpl::acquire(int c) {
  detail::BatchBase* b = channels_[c]->take_returned();
  if (b == nullptr) batches_allocated_->fetch_add(1, std::memory_order_relaxed);
  return b;
}

void ChannelSetImpl::send(int c, const Envelope& e) {
  auto& q = overflow_[c];
  if (q.empty() && channels_[c]->try_push(e)) return;
  if (q.empty()) ++overflowing_;
  q.push_back(e);
}

void ChannelSetImpl::push(int c, detail::BatchBase* batch) {
  send(c, Envelope{Envelope::Kind::kData, 0, batch});
}

void ChannelSetImpl::push_watermark(Timestamp watermark) {
  for (int c = 0; c < size(); ++c)
    send(c, Envelope{Envelope::Kind::kWatermark, watermark, nullptr});
}

void ChannelSetImpl::push_idle(bool idle) {
  for (int c = 0; c < size(); ++c) send(c, Envelope{Envelope::Kind::kIdle, idle ? 1 : 0, nullptr});
}

void ChannelSetImpl::push_barrier(uint64_t checkpoint_id) {
  for (int c = 0; c < size(); ++c) {
    send(c, Envelope{Envelope::Kind::kBarrier, static_cast<int64_t>(checkpoint_id), nullptr});
  }
}

void ChannelSetImpl::push_end() {
  for (int c = 0; c < size(); ++c) send(c, Envelope{Envelope::Kind::kEnd, 0, nullptr});
}

bool ChannelSetImpl::blocked() {
  if (overflowing_ == 0) return false;
  for (int c = 0; c < size(); ++c) {
    auto& q = overflow_[c];
    if (q.empty()) continue;
    while (!q.empty() && channels_[c]->try_push(q.front())) q.pop_front();
    if (q.empty()) --overflowing_;
  }
  return overflowing_ > 0;
}

}  // namespace sluice::runtime
