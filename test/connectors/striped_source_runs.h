// Runs a striped source (generator, Nexmark) through cuts at changing parallelism, the way the
// runtime does: every subtask of a run polls a few times (a different number each, so that the
// positions form a ragged edge), snapshots, and the next run's subtasks restore from all of those
// snapshots. Tests then check that the rows of all runs together are each index once.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sluice/detail/operator.h"

namespace sluice::testing {

// Keeps every row a source emits.
template <typename Row>
class RowsOutput final : public detail::Output {
 public:
  void emit(detail::BatchBase& batch) override {
    for (const Row& r : detail::batch_cast<Row>(batch).rows) rows.push_back(r);
  }
  void emit_watermark(Timestamp) override {}
  void emit_idle(bool) override {}
  void emit_barrier(uint64_t) override {}
  void emit_end() override {}

  std::vector<Row> rows;
};

// What the new subtasks of a restore receive from the old ones' snapshots.
inline detail::OperatorRestore restore_from(const std::vector<detail::OperatorSnapshot>& old) {
  detail::OperatorRestore in;
  in.checkpoint_id = 1;
  in.old_parallelism = static_cast<int>(old.size());
  for (const detail::OperatorSnapshot& s : old) in.operator_states.push_back(s.operator_state);
  return in;
}

// Polls of subtask `s` in run `run` before the cut: 0 to 5, a different mix in every run.
inline int ragged_polls(size_t run, int s) { return static_cast<int>((run * 7 + s * 5 + 3) % 6); }

using SourceFactory = std::function<std::unique_ptr<detail::Operator>()>;

// Subtask `s` of `p` of the source `make()` builds, open, emitting into `out`, restored from
// `cut` unless that is empty.
inline std::unique_ptr<detail::SourceOperator> open_subtask(
    const SourceFactory& make, int s, int p, size_t batch_size, detail::Output& out,
    const std::vector<detail::OperatorSnapshot>& cut = {}) {
  std::unique_ptr<detail::Operator> op = make();
  auto* source = dynamic_cast<detail::SourceOperator*>(op.get());
  EXPECT_NE(source, nullptr) << "not a source";
  if (source == nullptr) return nullptr;
  op.release();
  std::unique_ptr<detail::SourceOperator> owned(source);
  owned->set_info(detail::OperatorInfo{"src", s, p, 16, batch_size});
  owned->set_output(&out);
  owned->open();
  if (!cut.empty()) {
    Status restored = owned->restore_state(restore_from(cut));
    EXPECT_TRUE(restored.is_ok()) << restored.to_string();
  }
  return owned;
}

template <typename Row>
struct StripedRuns {
  std::vector<Row> rows;                          // of every run, in the order emitted
  std::vector<std::vector<std::string>> offsets;  // by cut, by subtask: the manifest's text
  std::vector<detail::OperatorSnapshot> cut;      // the last cut
};

// Runs the source `make()` builds at each of `parallelisms` in turn, cutting between runs after
// `polls(run, s)` polls of each subtask; the last run polls to the end, unless `cut_last` says
// to cut it too. `batch_size` is the subtasks' batch size.
template <typename Row>
StripedRuns<Row> run_through_rescales(
    const SourceFactory& make, const std::vector<int>& parallelisms, size_t batch_size,
    const std::function<int(size_t run, int s)>& polls = ragged_polls, bool cut_last = false) {
  StripedRuns<Row> result;
  RowsOutput<Row> out;
  for (size_t run = 0; run < parallelisms.size(); ++run) {
    const int p = parallelisms[run];
    const bool to_end = run + 1 == parallelisms.size() && !cut_last;
    std::vector<detail::OperatorSnapshot> next(static_cast<size_t>(p));
    for (int s = 0; s < p; ++s) {
      auto source = open_subtask(make, s, p, batch_size, out, result.cut);
      if (source == nullptr) return result;
      if (to_end) {
        int polls_made = 0;
        while (source->poll(0) != detail::SourceState::kEnd && ++polls_made < 1'000'000) {
        }
        EXPECT_LT(polls_made, 1'000'000) << "subtask " << s << " of " << p << " never ended";
      } else {
        for (int i = 0; i < polls(run, s); ++i) source->poll(0);
        source->snapshot_state(run + 1, next[static_cast<size_t>(s)]);
      }
    }
    if (!to_end) {
      result.offsets.emplace_back();
      for (const auto& snapshot : next) result.offsets.back().push_back(snapshot.offsets);
      result.cut = std::move(next);
    }
  }
  result.rows = std::move(out.rows);
  return result;
}

}  // namespace sluice::testing
