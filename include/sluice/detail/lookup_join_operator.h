// LookupJoinOperator: enriches events (input 0) with the latest row of their key in a table built
// from a changelog (input 1). Processing-time semantics: an event is joined with the table as it
// is when the event is processed; changes and events on the two inputs are not ordered with each
// other (see sluice/joins.h). Output rows keep the event's time.
//
// Thread-safety: one task drives an instance.
#pragma once

#include <optional>
#include <type_traits>
#include <vector>

#include "sluice/detail/held_rows.h"
#include "sluice/detail/join_common.h"
#include "sluice/detail/lookup_table.h"
#include "sluice/detail/operator.h"
#include "sluice/detail/operators.h"
#include "sluice/join_options.h"

namespace sluice::detail {

template <typename E, typename TRow, typename Out, typename KeyE, typename KeyT, typename F>
class LookupJoinOperator final : public Operator {
 public:
  using Key = std::decay_t<std::invoke_result_t<KeyE, const E&>>;
  using V = typename ChangeTraits<TRow>::Value;
  using Table = LookupTable<Key, V>;

  LookupJoinOperator(KeyE key_e, KeyT key_t, F fn, LookupJoinOptions options)
      : key_e_(std::move(key_e)),
        key_t_(std::move(key_t)),
        fn_(std::move(fn)),
        options_(options),
        holding_(options.table_first) {}

  void open() override { output_.reset(out_, info_.batch_size); }

  void process(int input, BatchBase& batch) override {
    if (input == 1) {
      const auto& rows = batch_cast<TRow>(batch).rows;
      for (const TRow& c : rows) {
        if (ChangeTraits<TRow>::is_delete(c)) {
          table_.erase(key_t_(c));
        } else {
          table_.upsert(key_t_(c), ChangeTraits<TRow>::value(c));
        }
      }
    } else if (holding_) {
      held_.add(batch_cast<E>(batch));
    } else {
      join(batch_cast<E>(batch));
    }
  }

  // With table_first, the end of the table input releases the held events.
  void on_input_end(int input) override {
    if (input != 1 || !holding_) return;
    holding_ = false;
    join(held_.batch());
    held_.clear();
    if (held_watermark_ != kMinTimestamp) Operator::on_watermark(held_watermark_);
    if (held_idle_) Operator::on_idle(true);
  }

  void on_watermark(Timestamp watermark) override {
    if (holding_) {  // held events would be late behind it
      held_watermark_ = watermark;
      return;
    }
    Operator::on_watermark(watermark);
  }

  // Idleness would let downstream watermarks pass the held events too.
  void on_idle(bool idle) override {
    if (holding_) {
      held_idle_ = idle;
      return;
    }
    Operator::on_idle(idle);
  }

  void on_end() override {
    if (holding_) on_input_end(1);
    report_metrics(options_.metrics, 0, unmatched_, 0, 0);
    end_outputs();
  }

  // Checkpoints: the table per key group, cut by copy on write (see lookup_table.h). Declined while
  // events are held for the table input (table_first), which a bounded table input ends before the
  // first barrier can pass.
  bool has_state() const override { return true; }
  void snapshot_state(uint64_t, OperatorSnapshot& out) override {
    if (holding_) {
      throw std::runtime_error(
          "a checkpoint cannot be taken while events wait for the table input to end");
    }
    table_.cut(info_.max_parallelism, out);
  }
  Status restore_state(const OperatorRestore& in) override {
    return restore_entries<typename Table::Entry>(
        in, info_.display(), [&](const auto& group) { table_.restore(group); });
  }

  const Table& table() const { return table_; }
  Table& table() { return table_; }

 private:
  // Each key is hashed once (by the exchange that routed the events, or here); the table slot of
  // event i + kPrefetchDistance is fetched while event i is joined, so the cache misses of a
  // batch overlap.
  void join(const Batch<E>& b) {
    const bool has_times = b.has_times();
    const size_t n = b.rows.size();
    const uint64_t* hashes = key_hashes(b, key_e_, hashes_);
    for (size_t i = 0; i < n; ++i) {
      if (i + kPrefetchDistance < n) {
        const Key ahead = key_e_(b.rows[i + kPrefetchDistance]);
        table_.prefetch(Prehashed<Key>{&ahead, hashes[i + kPrefetchDistance]});
      }
      const E& e = b.rows[i];
      const Key key = key_e_(e);
      const std::optional<V>* row = table_.find(Prehashed<Key>{&key, hashes[i]});
      if (row == nullptr) {
        if (options_.unmatched == Unmatched::kDrop) {
          ++unmatched_;
          continue;
        }
        row = &kNoRow;
      }
      if (has_times) {
        output_.emit_with_time(b.times[i], fn_(e, *row));
      } else {
        output_.emit(fn_(e, *row));
      }
    }
    output_.flush();
  }

  static inline const std::optional<V> kNoRow{};

  KeyE key_e_;
  KeyT key_t_;
  F fn_;
  LookupJoinOptions options_;
  // ---- checkpointed ----
  Table table_;
  // ---- not checkpointed ----
  HeldRows<E> held_;  // events waiting for the table (table_first); no checkpoint meanwhile
  bool holding_;
  Timestamp held_watermark_ = kMinTimestamp;
  bool held_idle_ = false;
  JoinOutput<Out> output_;
  std::vector<uint64_t> hashes_;  // of the keys of the batch being joined
  int64_t unmatched_ = 0;
};

}  // namespace sluice::detail
