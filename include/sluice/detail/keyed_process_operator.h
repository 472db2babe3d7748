// KeyedProcessOperator: runs a keyed process function (sluice/process_function.h) over an input
// partitioned by key, with its state in an InMemoryStateBackend or, with the job option
// `state.backend = rocksdb`, a RocksDbStateBackend (chosen once, in open()).
//
// A batch is handled in two passes: the first resolves every row's key to its state slot (with
// the hash the exchange sent, or one computed here; prefetched ahead) and grows the tables once;
// the second sets the scope per row and calls the function, prefetching the state entries a few
// rows ahead. Event-time timers fire in on_watermark, processing-time timers in on_processing_time
// (the task calls it once next_timer_us() has passed), both between batches; each such pass, and
// each batch, ends with a bounded incremental cleanup of expired state and empty keys.
//
// Checkpointed: backend_ (state and timers: per key group in the backend's format, cut by copy on
// write and written on the checkpoint writer's thread, see detail/slot_cut.h; or with RocksDB
// the database's files, see detail/rocksdb_job_checkpoint.h). Not
// checkpointed: the buffers, the watermark (re-established by the inputs), the processing clock.
//
// Thread-safety: driven by its task's thread.
#pragma once

#include <memory>
#include <vector>

#include "sluice/detail/in_memory_state_backend.h"
#include "sluice/detail/operators.h"
#include "sluice/detail/process_function_traits.h"
#include "sluice/detail/processing_clock.h"
#include "sluice/detail/rocksdb_state_backend.h"
#include "sluice/detail/side_outputs.h"
#include "sluice/process_function.h"

namespace sluice::detail {

template <typename T, typename K, typename KeyFn, typename F, typename Out>
class KeyedProcessOperator final : public Operator {
  static constexpr bool kTimers = kHasOnTimer<F, K, Out>;

 public:
  KeyedProcessOperator(KeyFn key_fn, F fn) : key_fn_(std::move(key_fn)), fn_(std::move(fn)) {}

  void open() override {
    if (state_config_.backend == StateBackendKind::kRocksDb) {
      auto rocks = RocksDbStateBackend<K>::open(
          subtask_state_dir(state_config_.dir, info_.name, info_.subtask), info_.max_parallelism);
      if (!rocks) throw std::runtime_error(rocks.status().message());
      rocks_ = rocks->get();
      backend_ = std::move(*rocks);
    } else {
      auto memory = std::make_unique<InMemoryStateBackend<K>>(info_.max_parallelism);
      memory_ = memory.get();
      backend_ = std::move(memory);
    }
    clock_.start();
    timers_ = std::make_unique<TimerService>(&backend_->timers(), &backend_->scope(), &watermark_,
                                             &clock_, kTimers);
    ctx_ = std::unique_ptr<TimerContext<K>>(
        new TimerContext<K>(&backend_->keys(), &backend_->scope(), timers_.get(), &side_));
    side_.init(this, info_.batch_size);
    runtime_ = std::make_unique<RuntimeContext>(&backend_->tables(), backend_.get(), &info_);
    if constexpr (kHasOpen<F>) fn_.open(*runtime_);
  }

  void process(int, BatchBase& batch) override {
    auto& in = batch_cast<T>(batch);
    const size_t n = in.rows.size();
    const T* rows = in.rows.data();
    const uint64_t* hashes = key_hashes(in, key_fn_, hashes_);
    slots_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      if (i + kPrefetchDistance < n) {
        backend_->prefetch(Prehashed<K>{nullptr, hashes[i + kPrefetchDistance]});
      }
      const K& key = key_fn_(rows[i]);
      slots_[i] = backend_->slot_of(Prehashed<K>{&key, hashes[i]});
    }
    backend_->prepare();
    prefetch_.clear();
    for (const auto& t : backend_->tables().tables()) {
      const PrefetchTarget p = t->prefetch_target();
      if (p.chunks != nullptr) prefetch_.push_back(p);
    }

    StateScope& scope = backend_->scope();
    scope.processing_now = clock_.now();
    Collector<Out> collector(&out_batch_, out_, info_.batch_size);
    ProcessContext<K>& ctx = *ctx_;
    const bool has_times = in.has_times();
    times_seen_ |= has_times;
    ctx.has_time_ = has_times;
    if (!has_times) {
      ctx.time_ = kMinTimestamp;
      side_.set_time(0, false);
    }
    for (size_t i = 0; i < n; ++i) {
      if (i + kPrefetchDistance < n) {
        const size_t ahead = slots_[i + kPrefetchDistance];
        for (const PrefetchTarget& p : prefetch_) p.prefetch(static_cast<uint32_t>(ahead));
      }
      scope.slot = slots_[i];
      if (has_times) {
        const Timestamp t = in.times[i];
        scope.event_now = t;
        ctx.time_ = t;
        collector.set_time(t, true);
        side_.set_time(t, true);
      }
      fn_.process(rows[i], ctx, collector);
    }
    collector.flush();
    side_.flush_all();
    backend_->cleanup_step();
  }

  void on_watermark(Timestamp watermark) override {
    watermark_ = watermark;
    fire(TimeDomain::kEventTime, watermark);
    Operator::on_watermark(watermark);
  }

  int64_t next_timer_us() const override {
    if (!kTimers || backend_ == nullptr) return INT64_MAX;
    const Timestamp next = backend_->timers().next(TimeDomain::kProcessingTime);
    return next == kMaxTimestamp ? INT64_MAX : clock_.deadline_us(next);
  }
  void on_processing_time(int64_t now_us) override {
    fire(TimeDomain::kProcessingTime, clock_.to_millis(now_us));
  }

  void close() override {
    if constexpr (kHasClose<F>) {
      if (runtime_ != nullptr) fn_.close(*runtime_);
    }
  }

  bool has_state() const override { return true; }
  void snapshot_state(uint64_t id, OperatorSnapshot& out) override {
    if (rocks_ != nullptr) {  // the database's own files, incrementally
      Status s = rocks_->snapshot_files(id, info_.subtask, out);
      if (!s.is_ok()) throw std::runtime_error(s.message());
      return;
    }
    out.deferred = memory_->cut();  // copy on write: the key groups are written later
  }
  Status restore_state(const OperatorRestore& in) override {
    if (!in.files.empty()) {
      if (rocks_ == nullptr) {
        return Status::invalid_argument(
            "operator " + info_.display() +
            ": its state was checkpointed by the RocksDB backend; restore it with "
            "state.backend=rocksdb");
      }
      Status s = rocks_->restore_files(in, info_.subtask, info_.parallelism);
      return s.is_ok() ? s : Status(s.code(), "operator " + info_.display() + ": " + s.message());
    }
    return read_key_groups(in, info_.display(),
                           [&](int g, StateReader& r) { return backend_->restore(g, r); });
  }

  void notify_checkpoint_complete(uint64_t id) override {
    if (rocks_ != nullptr) rocks_->release_staged(id);
  }

  // For tests and tools: the state of this subtask.
  KeyedStateBackend<K>* backend() { return backend_.get(); }

  bool state_size(int64_t* keys, int64_t* bytes) const override {
    if (backend_ == nullptr) return false;
    const OperatorStateStats s = backend_->stats();
    *keys = s.keys;
    *bytes = s.bytes;
    return true;
  }

 private:
  void fire(TimeDomain domain, Timestamp limit) {
    if constexpr (kTimers) {
      StateScope& scope = backend_->scope();
      scope.processing_now = clock_.now();
      Collector<Out> collector(&out_batch_, out_, info_.batch_size);
      TimerContext<K>& ctx = *ctx_;
      ctx.domain_ = domain;
      ctx.has_time_ = true;
      backend_->fire_timers(domain, limit, [&](Timestamp t) {
        if (domain == TimeDomain::kEventTime) scope.event_now = t;
        ctx.time_ = t;
        collector.set_time(t, times_seen_);
        side_.set_time(t, times_seen_);
        fn_.on_timer(t, ctx, collector);
      });
      collector.flush();
      side_.flush_all();
      backend_->cleanup_step();
    }
  }

  KeyFn key_fn_;
  F fn_;
  std::unique_ptr<KeyedStateBackend<K>> backend_;  // checkpointed
  RocksDbStateBackend<K>* rocks_ = nullptr;        // backend_ when it is RocksDB's
  InMemoryStateBackend<K>* memory_ = nullptr;      // backend_ when it is in memory
  ProcessingClock clock_;
  Timestamp watermark_ = kMinTimestamp;
  bool times_seen_ = false;  // the input carries event times
  std::unique_ptr<TimerService> timers_;
  std::unique_ptr<TimerContext<K>> ctx_;
  std::unique_ptr<RuntimeContext> runtime_;
  SideOutputs side_;
  Batch<Out> out_batch_;
  std::vector<uint32_t> slots_;   // of the batch's rows
  std::vector<uint64_t> hashes_;  // per row of the current batch, when it came without
  std::vector<PrefetchTarget> prefetch_;
};

}  // namespace sluice::detail
