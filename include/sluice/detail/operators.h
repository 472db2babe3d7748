// Typed operators of the C++ API: one template per transformation, with the user's function as a
// template parameter so the compiler inlines it into the per-batch loop. No std::function, no
// allocation and no virtual call per row.
//
// Event times travel beside the rows (Batch::times) and follow them: a map keeps each row's time,
// a filter compacts times with rows, a flat_map gives each output row its input row's time.
#pragma once

#include <concepts>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "sluice/detail/cow_map.h"
#include "sluice/detail/operator.h"
#include "sluice/transactional_sink.h"

namespace sluice {

// Handed to flat_map functions: emits rows downstream, a batch at a time.
template <typename T>
class Collector {
 public:
  Collector(detail::Batch<T>* batch, detail::Output* out, size_t batch_size)
      : batch_(batch), out_(out), batch_size_(batch_size) {}
  void emit(const T& row) {
    batch_->rows.push_back(row);
    added();
  }
  void emit(T&& row) {
    batch_->rows.push_back(std::move(row));
    added();
  }
  void flush() {
    if (batch_->rows.empty()) return;
    out_->emit(*batch_);
    batch_->clear();
  }
  // The event time given to rows emitted from now on (set by the operator per input row).
  void set_time(int64_t time, bool has_time) {
    time_ = time;
    has_time_ = has_time;
  }

 private:
  void added() {
    if (has_time_) batch_->times.push_back(time_);
    if (batch_->rows.size() >= batch_size_) flush();
  }

  detail::Batch<T>* batch_;
  detail::Output* out_;
  size_t batch_size_;
  int64_t time_ = 0;
  bool has_time_ = false;
};

namespace detail {

// Keyed operators look up the state of row i + kPrefetchDistance ahead of row i, so the cache
// misses of a batch overlap instead of queueing one behind the other.
inline constexpr size_t kPrefetchDistance = 8;

// The key hash of every row of `batch`: the ones its hash exchange handed on (BatchBase::hashes),
// or, when the batch has none (a chained keyed operator, parallelism 1), computed now into
// `scratch`. The hash is hash_key(key_fn(row)), the one that picked the row's key group.
template <typename T, typename KeyFn>
const uint64_t* key_hashes(const Batch<T>& batch, const KeyFn& key_fn,
                           std::vector<uint64_t>& scratch) {
  const size_t n = batch.rows.size();
  if (batch.hashes.size() == n) return batch.hashes.data();
  scratch.resize(n);
  for (size_t i = 0; i < n; ++i) scratch[i] = hash_key(key_fn(batch.rows[i]));
  return scratch.data();
}

// Moves the event times of `from` to `to` (the receiver of an emitted batch may take them).
template <typename A, typename B>
inline void take_times(Batch<A>& from, Batch<B>& to) {
  to.times.swap(from.times);
  from.times.clear();
}

template <typename In, typename Out, typename F>
class MapOperator final : public Operator {
 public:
  explicit MapOperator(F fn) : fn_(std::move(fn)) {}
  void process(int, BatchBase& batch) override {
    auto& in_batch = batch_cast<In>(batch);
    auto& in = in_batch.rows;
    if constexpr (std::is_same_v<In, Out>) {
      for (In& row : in) row = fn_(static_cast<const In&>(row));
      out_->emit(batch);
    } else {
      const size_t n = in.size();
      out_batch_.rows.resize(n);
      Out* out = out_batch_.rows.data();
      for (size_t i = 0; i < n; ++i) out[i] = fn_(static_cast<const In&>(in[i]));
      take_times(in_batch, out_batch_);
      out_->emit(out_batch_);
      out_batch_.clear();
    }
  }

 private:
  F fn_;
  Batch<Out> out_batch_;
};

template <typename T, typename F>
class FilterOperator final : public Operator {
 public:
  explicit FilterOperator(F fn) : fn_(std::move(fn)) {}
  void process(int, BatchBase& batch) override {
    auto& b = batch_cast<T>(batch);
    auto& rows = b.rows;
    const size_t n = rows.size();
    size_t kept = 0;
    if (b.has_times()) {
      int64_t* times = b.times.data();
      for (size_t i = 0; i < n; ++i) {
        if (fn_(static_cast<const T&>(rows[i]))) {
          if (kept != i) {
            rows[kept] = std::move(rows[i]);
            times[kept] = times[i];
          }
          ++kept;
        }
      }
      b.times.resize(kept);
    } else if constexpr (std::is_trivially_copyable_v<T>) {
      for (size_t i = 0; i < n; ++i) {  // branch-free compaction
        const bool keep = fn_(static_cast<const T&>(rows[i]));
        rows[kept] = rows[i];
        kept += keep;
      }
    } else {
      for (size_t i = 0; i < n; ++i) {
        if (fn_(static_cast<const T&>(rows[i]))) {
          if (kept != i) rows[kept] = std::move(rows[i]);
          ++kept;
        }
      }
    }
    rows.resize(kept);
    if (kept > 0) out_->emit(batch);
  }

 private:
  F fn_;
};

template <typename In, typename Out, typename F>
class FlatMapOperator final : public Operator {
 public:
  explicit FlatMapOperator(F fn) : fn_(std::move(fn)) {}
  void process(int, BatchBase& batch) override {
    auto& in = batch_cast<In>(batch);
    Collector<Out> collector(&out_batch_, out_, info_.batch_size);
    const bool has_times = in.has_times();
    for (size_t i = 0; i < in.rows.size(); ++i) {
      if (has_times) collector.set_time(in.times[i], true);
      fn_(static_cast<const In&>(in.rows[i]), collector);
    }
    collector.flush();
  }

 private:
  F fn_;
  Batch<Out> out_batch_;
};

// Merges its inputs (any number of ports of the same type) into one stream.
template <typename T>
class UnionOperator final : public Operator {
 public:
  void process(int, BatchBase& batch) override { out_->emit(batch); }
};

// The state size of a hash map of keyed values: its keys, and its slots with their control bytes.
template <typename Map>
bool hash_map_state_size(const Map& map, int64_t* keys, int64_t* bytes) {
  *keys = static_cast<int64_t>(map.size());
  *bytes = static_cast<int64_t>(map.capacity() * (sizeof(typename Map::value_type) + 1));
  return true;
}

// Running reduce per key: each row is replaced by the key's reduced value so far.
template <typename T, typename KeyFn, typename F>
class KeyedReduceOperator final : public Operator {
  using Key = std::decay_t<std::invoke_result_t<KeyFn, const T&>>;

 public:
  KeyedReduceOperator(KeyFn key_fn, F fn) : key_fn_(std::move(key_fn)), fn_(std::move(fn)) {}
  void process(int, BatchBase& batch) override {
    auto& b = batch_cast<T>(batch);
    auto& rows = b.rows;
    const size_t n = rows.size();
    const uint64_t* hashes = key_hashes(b, key_fn_, hashes_);
    for (size_t i = 0; i < n; ++i) {
      if (i + kPrefetchDistance < n) {
        state_.prefetch(Prehashed<Key>{nullptr, hashes[i + kPrefetchDistance]});
      }
      T& row = rows[i];
      const Key& key = key_fn_(static_cast<const T&>(row));
      auto [it, inserted] = state_.try_emplace(Prehashed<Key>{&key, hashes[i]}, row);
      if (!inserted) {
        it->second = fn_(static_cast<const T&>(it->second), static_cast<const T&>(row));
      }
      row = it->second;
    }
    out_->emit(batch);
  }

  bool has_state() const override { return true; }
  void snapshot_state(uint64_t, OperatorSnapshot& out) override {
    snapshot_keyed_map(state_, info_.max_parallelism, out);
  }
  Status restore_state(const OperatorRestore& in) override {
    return restore_keyed_map(state_, in, info_.display());
  }

  bool state_size(int64_t* keys, int64_t* bytes) const override {
    return hash_map_state_size(state_, keys, bytes);
  }

 private:
  KeyFn key_fn_;
  F fn_;
  CowMap<Key, T> state_;          // checkpointed (copy-on-write cut)
  std::vector<uint64_t> hashes_;  // per row of the current batch, when it came without
};

// Running aggregate per key: `add(acc, row)` folds a row into the key's accumulator and
// `result(key, acc)` makes the row emitted for it.
template <typename T, typename Out, typename KeyFn, typename Acc, typename AddFn, typename ResultFn>
class KeyedAggregateOperator final : public Operator {
  using Key = std::decay_t<std::invoke_result_t<KeyFn, const T&>>;

 public:
  KeyedAggregateOperator(KeyFn key_fn, Acc init, AddFn add, ResultFn result)
      : key_fn_(std::move(key_fn)),
        init_(std::move(init)),
        add_(std::move(add)),
        result_(std::move(result)) {}
  void process(int, BatchBase& batch) override {
    auto& in_batch = batch_cast<T>(batch);
    auto& in = in_batch.rows;
    const size_t n = in.size();
    const uint64_t* hashes = key_hashes(in_batch, key_fn_, hashes_);
    out_batch_.rows.resize(n);
    Out* out = out_batch_.rows.data();
    for (size_t i = 0; i < n; ++i) {
      if (i + kPrefetchDistance < n) {
        state_.prefetch(Prehashed<Key>{nullptr, hashes[i + kPrefetchDistance]});
      }
      const Key& key = key_fn_(in[i]);
      auto [it, inserted] = state_.try_emplace(Prehashed<Key>{&key, hashes[i]}, init_);
      add_(it->second, in[i]);
      out[i] = result_(static_cast<const Key&>(it->first), static_cast<const Acc&>(it->second));
    }
    take_times(in_batch, out_batch_);
    out_->emit(out_batch_);
    out_batch_.clear();
  }

  bool has_state() const override { return true; }
  void snapshot_state(uint64_t, OperatorSnapshot& out) override {
    snapshot_keyed_map(state_, info_.max_parallelism, out);
  }
  Status restore_state(const OperatorRestore& in) override {
    return restore_keyed_map(state_, in, info_.display());
  }

  bool state_size(int64_t* keys, int64_t* bytes) const override {
    return hash_map_state_size(state_, keys, bytes);
  }

 private:
  KeyFn key_fn_;
  Acc init_;
  AddFn add_;
  ResultFn result_;
  CowMap<Key, Acc> state_;        // checkpointed (copy-on-write cut)
  std::vector<uint64_t> hashes_;  // per row of the current batch, when it came without
  Batch<Out> out_batch_;
};

// Hands batches to a sink object, one copy per subtask (see sluice/stream.h for the concept).
template <typename T, typename S>
class SinkOperator final : public Operator {
 public:
  explicit SinkOperator(S sink) : sink_(std::move(sink)) {}
  void open() override {
    if constexpr (requires(S & s, const OperatorInfo& i) {
                    s.open(i.subtask, i.parallelism, i.checkpointing);
                  }) {
      sink_.open(info_.subtask, info_.parallelism, info_.checkpointing);
    } else if constexpr (requires(S & s, const OperatorInfo& i) {
                           s.open(i.subtask, i.parallelism);
                         }) {
      sink_.open(info_.subtask, info_.parallelism);
    }
  }
  void process(int, BatchBase& batch) override {
    const auto& rows = batch_cast<T>(batch).rows;
    sink_.write(std::span<const T>(rows.data(), rows.size()));
  }
  void on_end() override {
    if constexpr (requires(S & s) { s.finish(); }) sink_.finish();
  }

  // Two-phase commit (sluice/transactional_sink.h).
  bool has_state() const override { return TransactionalSink<S>; }
  void snapshot_state(uint64_t checkpoint_id, OperatorSnapshot& out) override {
    if constexpr (TransactionalSink<S>) {
      Status s = sink_.prepare(checkpoint_id, out.operator_state);
      if (!s.is_ok()) throw std::runtime_error(s.message());  // declines the checkpoint
    }
  }
  Status restore_state(const OperatorRestore& in) override {
    if constexpr (TransactionalSink<S>) {
      Status s = sink_.recover(in.operator_states, in.old_parallelism);
      if (!s.is_ok()) return Status(s.code(), "operator " + info_.display() + ": " + s.message());
    }
    return Status::ok();
  }
  bool commits() const override { return TransactionalSink<S>; }
  bool commit_blocks() const override { return sluice::commit_blocks<S>(); }
  Status commit_checkpoint(uint64_t checkpoint_id) override {
    if constexpr (TransactionalSink<S>) return sink_.commit(checkpoint_id);
    return Status::ok();
  }
  Status abort_checkpoint(uint64_t checkpoint_id) override {
    if constexpr (TransactionalSink<S>) return sink_.abort(checkpoint_id);
    return Status::ok();
  }

 private:
  S sink_;
};

}  // namespace detail
}  // namespace sluice
