// Exchanges: the typed end of an edge between tasks.
//
// An exchange copies rows into one partial batch per outgoing channel and pushes a batch when it
// is full or when the flush delay has passed. Partitioners decide the channel: forward (the one
// channel), rebalance (whole batches round-robin), broadcast (every channel) and hash (key group
// of the row's key). Before a watermark, idleness status, barrier or end-of-stream, every partial
// batch is pushed, so control events never overtake the rows before them. A hash exchange hands
// each row's key hash on with it (BatchBase::hashes): the keyed operator it feeds does not hash
// the row again.
//
// Thread-safety: owned and driven by one task.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/detail/channel_set.h"
#include "sluice/detail/key_groups.h"
#include "sluice/detail/operator.h"

namespace sluice::detail {

enum class Partitioning { kForward, kRebalance, kBroadcast, kHash };

template <typename T, typename Router>
class ExchangeOutput final : public Output {
 public:
  // `router(row)` returns the channel of a row; only used for kHash. An exception from the router
  // (the user's key function) fails the job naming `consumer_name`, the keyed operator it serves.
  ExchangeOutput(std::unique_ptr<ChannelSet> channels, Partitioning partitioning, Router router,
                 size_t batch_size, int64_t flush_delay_us, std::string consumer_name = {})
      : channels_(std::move(channels)),
        partitioning_(partitioning),
        router_(std::move(router)),
        batch_size_(batch_size),
        flush_delay_us_(flush_delay_us),
        consumer_name_(std::move(consumer_name)),
        pending_(channels_->size(), nullptr) {}

  ~ExchangeOutput() override {
    for (Batch<T>* b : pending_) delete b;
  }

  void emit(BatchBase& batch) override {
    auto& in = batch_cast<T>(batch);
    ingest_us_ = batch.ingest_us;
    switch (partitioning_) {
      case Partitioning::kForward:
        append_all(0, in);
        break;
      case Partitioning::kRebalance:
        append_all(next_channel_, in);
        next_channel_ = (next_channel_ + 1) % channels_->size();
        break;
      case Partitioning::kBroadcast:
        for (int c = 0; c < channels_->size(); ++c) append_all(c, in);
        break;
      case Partitioning::kHash:
        if (in.has_times()) {
          route<true>(in);
        } else {
          route<false>(in);
        }
        break;
    }
    // The deadline belongs to the oldest waiting row; full batches may have taken every row that
    // was waiting, and then a stale deadline would cut the next partial batch short.
    if (!any_pending()) {
      pending_since_us_ = INT64_MAX;
    } else if (pending_since_us_ == INT64_MAX) {
      pending_since_us_ = now_us_;
    }
  }

  void emit_watermark(Timestamp watermark) override {
    flush();
    channels_->push_watermark(watermark);
  }
  void emit_idle(bool idle) override {
    flush();
    channels_->push_idle(idle);
  }
  void emit_barrier(uint64_t checkpoint_id) override {
    flush();
    channels_->push_barrier(checkpoint_id);
  }
  void emit_end() override {
    flush();
    channels_->push_end();
  }

  void set_now(int64_t now_us) override { now_us_ = now_us; }
  int64_t flush_deadline() const override {
    return pending_since_us_ == INT64_MAX ? INT64_MAX : pending_since_us_ + flush_delay_us_;
  }
  bool flush_due(int64_t now_us) override { return now_us >= flush_deadline(); }
  void flush() override {
    for (int c = 0; c < static_cast<int>(pending_.size()); ++c) {
      if (pending_[c] != nullptr && !pending_[c]->rows.empty()) push(c);
    }
    pending_since_us_ = INT64_MAX;
  }
  bool blocked() override { return channels_->blocked(); }

 private:
  Batch<T>* pending(int c) {
    if (pending_[c] == nullptr) {
      BatchBase* recycled = channels_->acquire(c);
      Batch<T>* b = recycled != nullptr ? static_cast<Batch<T>*>(recycled) : new Batch<T>();
      b->rows.reserve(batch_size_);
      if (partitioning_ == Partitioning::kHash) b->hashes.reserve(batch_size_);
      b->ingest_us = ingest_us_;  // the oldest input the batch will hold rows of
      pending_[c] = b;
    }
    return pending_[c];
  }

  // Routes every row of `in`; one try block per batch (free unless the key function throws).
  template <bool kTimes>
  void route(const Batch<T>& in) {
    try {
      const size_t n = in.rows.size();
      for (size_t i = 0; i < n; ++i) {
        const uint64_t hash = router_.hash(in.rows[i]);
        const int c = router_.channel_of(hash);
        Batch<T>* b = pending(c);
        b->rows.push_back(in.rows[i]);
        if constexpr (kTimes) b->times.push_back(in.times[i]);
        b->hashes.push_back(hash);
        if (b->rows.size() >= batch_size_) push(c);
      }
    } catch (const OperatorError&) {
      throw;
    } catch (const std::exception& e) {
      throw OperatorError(key_function_name(), e.what());
    } catch (...) {
      throw OperatorError(key_function_name(), "unknown exception");
    }
  }

  void append_all(int c, const Batch<T>& in) {
    const size_t n = in.rows.size();
    size_t i = 0;
    while (i < n) {
      Batch<T>* b = pending(c);
      const size_t take = std::min(n - i, batch_size_ - b->rows.size());
      b->rows.insert(b->rows.end(), in.rows.begin() + i, in.rows.begin() + i + take);
      if (in.has_times()) {
        b->times.insert(b->times.end(), in.times.begin() + i, in.times.begin() + i + take);
      }
      i += take;
      if (b->rows.size() >= batch_size_) push(c);
    }
  }

  std::string key_function_name() const {
    std::string name = "'";
    name += consumer_name_;
    name += "' (key function)";
    return name;
  }

  void push(int c) {
    channels_->push(c, pending_[c]);
    pending_[c] = nullptr;
  }

  bool any_pending() const {
    for (const Batch<T>* b : pending_) {
      if (b != nullptr && !b->rows.empty()) return true;
    }
    return false;
  }

  std::unique_ptr<ChannelSet> channels_;
  Partitioning partitioning_;
  Router router_;
  size_t batch_size_;
  int64_t flush_delay_us_;
  std::string consumer_name_;
  std::vector<Batch<T>*> pending_;  // owned; nullptr when channel c has no partial batch
  int next_channel_ = 0;
  int64_t now_us_ = 0;
  int64_t pending_since_us_ = INT64_MAX;
  int64_t ingest_us_ = 0;  // of the batch being emitted
};

// Routes rows to the subtask owning their key's key group, through a table built once.
template <typename KeyFn>
struct HashRouter {
  KeyFn key_fn;
  int max_parallelism = 128;
  int parallelism = 1;
  std::shared_ptr<const std::vector<uint16_t>> subtask_of;  // by key group; set by prepare()

  void prepare() {
    auto table = std::make_shared<std::vector<uint16_t>>(max_parallelism);
    for (int g = 0; g < max_parallelism; ++g) {
      (*table)[g] = static_cast<uint16_t>(subtask_of_key_group(g, max_parallelism, parallelism));
    }
    subtask_of = std::move(table);
  }
  // The hash of a row's key, which the exchange hands on with the row (BatchBase::hashes).
  template <typename T>
  uint64_t hash(const T& row) const {
    return hash_key(key_fn(row));
  }
  int channel_of(uint64_t hash) const { return (*subtask_of)[key_group_of(hash, max_parallelism)]; }
  template <typename T>
  int operator()(const T& row) const {
    return channel_of(hash(row));
  }
};

// The router of exchanges that do not partition by key (never asked for a channel).
struct NoRouter {
  template <typename T>
  uint64_t hash(const T&) const {
    return 0;
  }
  int channel_of(uint64_t) const { return 0; }
  template <typename T>
  int operator()(const T&) const {
    return 0;
  }
};

// Several exchanges fed by one operator (a node with more than one consumer).
class FanoutOutput final : public Output {
 public:
  void add(std::unique_ptr<Output> out) { outs_.push_back(std::move(out)); }
  void emit(BatchBase& batch) override {
    for (auto& o : outs_) o->emit(batch);  // exchanges copy rows and leave the batch intact
  }
  void emit_watermark(Timestamp w) override {
    for (auto& o : outs_) o->emit_watermark(w);
  }
  void emit_idle(bool idle) override {
    for (auto& o : outs_) o->emit_idle(idle);
  }
  void emit_barrier(uint64_t id) override {
    for (auto& o : outs_) o->emit_barrier(id);
  }
  void emit_end() override {
    for (auto& o : outs_) o->emit_end();
  }
  void set_now(int64_t now_us) override {
    for (auto& o : outs_) o->set_now(now_us);
  }
  bool flush_due(int64_t now_us) override {
    for (auto& o : outs_)
      if (o->flush_due(now_us)) return true;
    return false;
  }
  int64_t flush_deadline() const override {
    int64_t d = INT64_MAX;
    for (auto& o : outs_) d = std::min(d, o->flush_deadline());
    return d;
  }
  void flush() override {
    for (auto& o : outs_) o->flush();
  }
  bool blocked() override {
    bool b = false;
    for (auto& o : outs_) b |= o->blocked();
    return b;
  }

 private:
  std::vector<std::unique_ptr<Output>> outs_;
};

}  // namespace sluice::detail
