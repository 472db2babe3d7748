// The runtime's ChannelSet: one producer subtask's channels on one edge, with an overflow per
// channel for what did not fit (see sluice/detail/channel_set.h for the contract).
#pragma once

#include <atomic>
#include <deque>
#include <vector>

#include "runtime/channel.h"
#include "sluice/detail/channel_set.h"

namespace sluice::runtime {

class ChannelSetImpl final : public detail::ChannelSet {
 public:
  // `batches_allocated` counts acquire() calls that found nothing to recycle (job statistics).
  ChannelSetImpl(std::vector<Channel*> channels, std::atomic<int64_t>* batches_allocated)
      : channels_(std::move(channels)),
        overflow_(channels_.size()),
        batches_allocated_(batches_allocated) {}
  ~ChannelSetImpl() override;

  int size() const override { return static_cast<int>(channels_.size()); }
  detail::BatchBase* acquire(int c) override;
  void push(int c, detail::BatchBase* batch) override;
  void push_watermark(Timestamp watermark) override;
  void push_idle(bool idle) override;
  void push_barrier(uint64_t checkpoint_id) override;
  void push_end() override;
  bool blocked() override;

 private:
  void send(int c, const Envelope& e);

  std::vector<Channel*> channels_;  // not owned
  std::vector<std::deque<Envelope>> overflow_;
  int overflowing_ = 0;  // channels with a non-empty overflow
  std::atomic<int64_t>* batches_allocated_;
};

}  // namespace sluice::runtime
