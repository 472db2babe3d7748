// Round trips of operator state: run an operator over the first part of a script, snapshot it,
// restore the snapshot into fresh instances (at the same or another parallelism, each receiving
// the key groups it owns), run the rest, and compare with one uninterrupted run.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <vector>

#include "connectors/striped_source_runs.h"
#include "operators/join_test_util.h"
#include "operators/window_test_util.h"
#include "sluice/detail/broadcast_process_operator.h"
#include "sluice/detail/generator_source.h"
#include "sluice/detail/interval_join_operator.h"
#include "sluice/detail/keyed_process_operator.h"
#include "sluice/detail/lookup_join_operator.h"
#include "sluice/detail/operators.h"
#include "sluice/detail/session_windows.h"
#include "sluice/detail/window_join_operator.h"

namespace sluice::testing {
namespace {

using detail::OperatorRestore;
using detail::OperatorSnapshot;

constexpr int kMaxParallelism = 16;

// What old subtasks wrote, as the new subtask `subtask` of `parallelism` receives it.
OperatorRestore restore_for(const std::vector<OperatorSnapshot>& old, int subtask,
                            int parallelism) {
  OperatorRestore in;
  in.old_parallelism = static_cast<int>(old.size());
  const detail::KeyGroupRange range =
      detail::key_group_range(subtask, parallelism, kMaxParallelism);
  for (const OperatorSnapshot& s : old) {
    in.operator_states.push_back(s.operator_state);
    for (const detail::KeyGroupState& g : s.key_groups) {
      if (range.contains(g.key_group)) in.key_groups.push_back(g);
    }
  }
  std::sort(in.key_groups.begin(), in.key_groups.end(),
            [](const auto& a, const auto& b) { return a.key_group < b.key_group; });
  return in;
}

// What the checkpoint writer does before it stores a snapshot: the deferred part, if any.
void write_deferred(OperatorSnapshot& s) {
  if (s.deferred) {
    s.deferred(s);
    s.deferred = nullptr;
  }
}

int subtask_of(uint64_t key, int parallelism) {
  return detail::subtask_of_key_group(detail::key_group_of(detail::hash_key(key), kMaxParallelism),
                                      kMaxParallelism, parallelism);
}

std::vector<Step> script() {
  std::vector<Step> steps;
  for (int b = 0; b < 20; ++b) {
    Step s;
    for (int i = 0; i < 50; ++i) {
      const int64_t t = b * 10 + i % 10;
      s.rows.push_back(Event{static_cast<uint64_t>((b * 7 + i * 13) % 23), t, i % 5 + 1});
    }
    // Late: at the watermark of the step before (b * 10 - 15), for every key, within reach of
    // rows a join still holds. A restored operator must still know that watermark to treat them
    // as the uninterrupted run does.
    if (b % 3 == 0 && b > 0) {
      for (uint64_t key = 0; key < 23; ++key) {
        s.rows.push_back(Event{key, b * 10 - 15, 9});
        s.rows.push_back(Event{key, b * 10 - 35, 8});  // in a window that has fired
      }
    }
    steps.push_back(s);
    if (b % 3 == 2) steps.push_back(Step{true, b * 10 - 5, {}});
  }
  return steps;
}

// Runs the script on operators made by `make`, cut after step `cut` and resumed at
// `parallelism`; returns the sorted output rows. cut < 0: no cut.
template <typename Out>
std::vector<Out> run(const std::function<std::unique_ptr<detail::Operator>()>& make,
                     const std::vector<Step>& steps, int cut, int parallelism) {
  std::vector<Out> rows;
  auto start = [&](int subtask, int p, CollectOutput<Out>* out) {
    std::unique_ptr<detail::Operator> op = make();
    op->set_info(detail::OperatorInfo{"op", subtask, p, kMaxParallelism, 7});
    op->set_output(out);
    op->open();
    return op;
  };
  auto drive = [&](detail::Operator& op, const Step& s, int subtask, int p) {
    if (s.is_watermark) {
      op.on_watermark(s.watermark);
      return;
    }
    detail::Batch<Event> b;
    for (const Event& e : s.rows) {
      if (subtask_of(e.key, p) != subtask) continue;
      b.rows.push_back(e);
      b.times.push_back(e.time);
    }
    op.process(0, b);
  };
  CollectOutput<Out> first;
  auto op = start(0, 1, &first);
  const size_t stop = cut < 0 ? steps.size() : static_cast<size_t>(cut);
  for (size_t i = 0; i < stop; ++i) drive(*op, steps[i], 0, 1);
  rows = first.rows;
  if (cut < 0) {
    op->on_end();
    rows = first.rows;
  } else {
    std::vector<OperatorSnapshot> old(1);
    op->snapshot_state(1, old[0]);
    // The old operator goes on after the cut before the checkpoint writer serializes what a
    // copy-on-write cut took: the checkpoint must hold the state as it was at the cut.
    CollectOutput<Out> after_cut;
    op->set_output(&after_cut);
    for (size_t i = stop; i < steps.size(); ++i) drive(*op, steps[i], 0, 1);
    write_deferred(old[0]);
    op.reset();  // the crash
    std::vector<CollectOutput<Out>> outs(static_cast<size_t>(parallelism));
    for (int s = 0; s < parallelism; ++s) {
      auto resumed = start(s, parallelism, &outs[static_cast<size_t>(s)]);
      Status restored = resumed->restore_state(restore_for(old, s, parallelism));
      EXPECT_TRUE(restored.is_ok()) << restored.to_string();
      for (size_t i = stop; i < steps.size(); ++i) drive(*resumed, steps[i], s, parallelism);
      resumed->on_end();
      rows.insert(rows.end(), outs[static_cast<size_t>(s)].rows.begin(),
                  outs[static_cast<size_t>(s)].rows.end());
    }
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

template <typename Out>
void expect_round_trips(const std::function<std::unique_ptr<detail::Operator>()>& make) {
  const std::vector<Step> steps = script();
  const std::vector<Out> whole = run<Out>(make, steps, -1, 1);
  ASSERT_FALSE(whole.empty());
  for (int cut : {0, 4, 5, 12, 13, static_cast<int>(steps.size())}) {  // 4, 12: late rows next
    for (int p : {1, 2, 3}) {
      EXPECT_EQ(run<Out>(make, steps, cut, p), whole) << "cut " << cut << ", parallelism " << p;
    }
  }
}

TEST(OperatorSnapshot, KeyedAggregateRestoresAtAnyParallelism) {
  using Sum = std::pair<uint64_t, int64_t>;
  auto key = [](const Event& e) { return e.key; };
  auto add = [](int64_t& acc, const Event& e) { acc += e.value; };
  auto result = [](uint64_t k, int64_t acc) { return Sum{k, acc}; };
  expect_round_trips<Sum>([=] {
    return std::make_unique<detail::KeyedAggregateOperator<Event, Sum, decltype(key), int64_t,
                                                           decltype(add), decltype(result)>>(
        key, 0, add, result);
  });
}

TEST(OperatorSnapshot, TumblingWindowsFireOnceAcrossARestore) {
  using Agg = detail::SumAgg<uint64_t, Event, EventValue>;
  using State = detail::PaneWindows<uint64_t, Agg>;
  using Op = detail::WindowOperator<Event, EventKey, State>;
  expect_round_trips<typename Op::Out>([] {
    return std::make_unique<Op>(EventKey{}, State(Agg{EventValue{}}, 20, 20, 0),
                                detail::WindowConfig{});
  });
}

TEST(OperatorSnapshot, HoppingWindowsWithLatenessRestore) {
  using Agg = detail::CountAgg<uint64_t>;
  using State = detail::PaneWindows<uint64_t, Agg>;
  using Op = detail::WindowOperator<Event, EventKey, State>;
  expect_round_trips<typename Op::Out>([] {
    detail::WindowConfig config;
    config.lateness = 10;
    return std::make_unique<Op>(EventKey{}, State(Agg{}, 30, 10, 10), config);
  });
}

TEST(OperatorSnapshot, SessionWindowsRestore) {
  using Agg = detail::SumAgg<uint64_t, Event, EventValue>;
  using State = detail::SessionWindows<uint64_t, Agg>;
  using Op = detail::WindowOperator<Event, EventKey, State>;
  expect_round_trips<typename Op::Out>([] {
    return std::make_unique<Op>(EventKey{}, State(Agg{EventValue{}}, 4, 0), detail::WindowConfig{});
  });
}

TEST(OperatorSnapshot, CountWindowsRestore) {
  using Agg = detail::SumAgg<uint64_t, Event, EventValue>;
  using State = detail::CountWindows<uint64_t, Agg>;
  using Op = detail::WindowOperator<Event, EventKey, State>;
  expect_round_trips<typename Op::Out>([] {
    return std::make_unique<Op>(EventKey{}, State(Agg{EventValue{}}, 3), detail::WindowConfig{});
  });
}

// A two-input operator driven by the one-input script: forwards everything but the rows, which
// the subclass hands to the inputs.
template <typename Op>
class TwoInputs : public detail::Operator {
 public:
  explicit TwoInputs(std::unique_ptr<Op> op) : op_(std::move(op)) {}
  void open() override {
    op_->set_info(info_);
    op_->set_output(out_);
    op_->open();
  }
  void on_watermark(Timestamp w) override { op_->on_watermark(w); }
  void on_end() override { op_->on_end(); }
  void snapshot_state(uint64_t id, OperatorSnapshot& out) override { op_->snapshot_state(id, out); }
  Status restore_state(const OperatorRestore& in) override { return op_->restore_state(in); }

 protected:
  std::unique_ptr<Op> op_;
};

// A join: each batch of the script reaches both inputs, the left side on input 0, the right on 1.
template <typename Op>
class BothInputs final : public TwoInputs<Op> {
 public:
  using TwoInputs<Op>::TwoInputs;
  void process(int, detail::BatchBase& b) override {
    this->op_->process(0, b);
    this->op_->process(1, b);
  }
};

// A lookup join: rows at even times are table changes (value 5: the key's delete), the others
// events, joined before the batch's changes, so that they see the table as the batches before
// left it.
template <typename Op>
class TableAndEvents final : public TwoInputs<Op> {
 public:
  using TwoInputs<Op>::TwoInputs;
  void process(int, detail::BatchBase& batch) override {
    const auto& b = detail::batch_cast<Event>(batch);
    detail::Batch<Event> events;
    detail::Batch<Change<Event>> changes;
    for (size_t i = 0; i < b.rows.size(); ++i) {
      const Event& e = b.rows[i];
      if (e.time % 2 != 0) {
        events.rows.push_back(e);
        events.times.push_back(b.times[i]);
      } else {
        changes.rows.push_back(e.value == 5 ? deletion(e) : upsert(e));
      }
    }
    this->op_->process(0, events);
    this->op_->process(1, changes);
  }
};

// Broadcast state: the script's rows are the events; each watermark is also a rule, which every
// subtask receives.
template <typename Op>
class RulesFromWatermarks final : public TwoInputs<Op> {
 public:
  using TwoInputs<Op>::TwoInputs;
  void process(int, detail::BatchBase& b) override { this->op_->process(0, b); }
  void on_watermark(Timestamp w) override {
    detail::Batch<int64_t> rule;
    rule.rows = {w};
    this->op_->process(1, rule);
    this->op_->on_watermark(w);
  }
};

using Pair = std::pair<int64_t, int64_t>;
inline constexpr auto kKey = [](const Event& e) { return e.key; };
inline constexpr auto kPairUp = [](const Event& l, const Event& r) {
  return Pair{l.time * 100 + l.value, r.time};
};

TEST(OperatorSnapshot, IntervalJoinRestoresAtAnyParallelism) {
  using Op = detail::IntervalJoinOperator<Event, Event, Pair, decltype(kKey), decltype(kKey),
                                          decltype(kPairUp)>;
  expect_round_trips<Pair>([] {
    return std::make_unique<BothInputs<Op>>(
        std::make_unique<Op>(kKey, kKey, -3, 2, kPairUp, nullptr));
  });
}

TEST(OperatorSnapshot, WindowJoinRestoresAtAnyParallelism) {
  using Op = detail::WindowJoinOperator<Event, Event, Pair, decltype(kKey), decltype(kKey),
                                        decltype(kPairUp)>;
  expect_round_trips<Pair>([] {
    return std::make_unique<BothInputs<Op>>(
        std::make_unique<Op>(kKey, kKey, 20, 0, kPairUp, nullptr));
  });
}

// Per key and bucket of 20 ms: a sum in ValueState and the values in ListState, emitted and
// cleared by an event-time timer at the bucket's end (so keys come, go and come back).
struct BucketSums {
  using Out = std::tuple<uint64_t, Timestamp, int64_t, size_t>;
  ValueState<int64_t> sum;
  ListState<int64_t> values;
  void open(RuntimeContext& ctx) {
    sum = ctx.state<ValueState<int64_t>>("sum");
    values = ctx.state<ListState<int64_t>>("values");
  }
  void process(const Event& e, ProcessContext<uint64_t>& ctx, Collector<Out>&) {
    sum.update(sum.value_or(0) + e.value);
    values.add(e.value);
    ctx.timers().register_event_time((e.time / 20 + 1) * 20);
  }
  void on_timer(Timestamp t, TimerContext<uint64_t>& ctx, Collector<Out>& out) {
    out.emit({ctx.key(), t, sum.value_or(0), values.get().size()});
    sum.clear();
    values.clear();
  }
};

TEST(OperatorSnapshot, KeyedProcessFunctionRestoresAtAnyParallelism) {
  using Op =
      detail::KeyedProcessOperator<Event, uint64_t, decltype(kKey), BucketSums, BucketSums::Out>;
  expect_round_trips<BucketSums::Out>([] { return std::make_unique<Op>(kKey, BucketSums{}); });
}

// The table is cut by copy on write: the changes after the cut must not reach the checkpoint.
TEST(OperatorSnapshot, LookupJoinTableRestoresAtAnyParallelism) {
  auto enrich = [](const Event& e, const std::optional<Event>& row) {
    return Pair{e.time * 100 + e.value, row ? row->time * 100 + row->value : -1};
  };
  auto change_key = [](const Change<Event>& c) { return c.row.key; };
  using Op = detail::LookupJoinOperator<Event, Change<Event>, Pair, decltype(kKey),
                                        decltype(change_key), decltype(enrich)>;
  expect_round_trips<Pair>([=] {
    return std::make_unique<TableAndEvents<Op>>(
        std::make_unique<Op>(kKey, change_key, enrich, LookupJoinOptions{}));
  });
}

// The rules state is copied at the cut: rules after it must not reach the checkpoint.
TEST(OperatorSnapshot, BroadcastStateIsCopiedAtTheCut) {
  using Rules = std::vector<int64_t>;
  auto on_rule = [](const int64_t& r, Rules& rules) { rules.push_back(r); };
  auto fn = [](const Event& e, const Rules& rules, Collector<Pair>& out) {
    int64_t sum = 0;
    for (int64_t r : rules) sum += r;
    out.emit(Pair{e.time * 100 + e.value, static_cast<int64_t>(rules.size()) * 100'000 + sum});
  };
  using Op = detail::BroadcastProcessOperator<Event, int64_t, Pair, Rules, decltype(on_rule),
                                              decltype(fn)>;
  expect_round_trips<Pair>([=] {
    return std::make_unique<RulesFromWatermarks<Op>>(
        std::make_unique<Op>(Rules{}, on_rule, fn, false));
  });
}

auto generator_factory(uint64_t count, double rate) {
  return [count, rate]() -> std::unique_ptr<detail::Operator> {
    auto fn = [](uint64_t i) { return static_cast<int64_t>(i); };
    return std::make_unique<detail::GeneratorSource<int64_t, decltype(fn)>>(fn, count, rate);
  };
}

// Every index once, as one uninterrupted run makes them.
void expect_indexes(std::vector<int64_t> rows, uint64_t count, const std::string& what) {
  std::sort(rows.begin(), rows.end());
  std::vector<int64_t> expected(count);
  for (uint64_t i = 0; i < count; ++i) expected[i] = static_cast<int64_t>(i);
  EXPECT_EQ(rows.size(), count) << what;
  EXPECT_TRUE(rows == expected) << what << ": an index lost or made twice";
}

TEST(OperatorSnapshot, GeneratorResumesAtItsPositionAtTheSameParallelism) {
  auto runs = run_through_rescales<int64_t>(generator_factory(100, 0), {2, 2}, 8,
                                            [](size_t, int) { return 2; });
  expect_indexes(runs.rows, 100, "2 -> 2");
  EXPECT_EQ(runs.offsets[0], (std::vector<std::string>{"next index 32", "next index 33"}));
}

TEST(OperatorSnapshot, GeneratorRestoresAtAnyParallelism) {
  for (const std::vector<int>& ps :
       std::vector<std::vector<int>>{{1, 4}, {2, 3}, {3, 1}, {4, 2}, {4, 4}, {5, 2}}) {
    const auto runs = run_through_rescales<int64_t>(generator_factory(400, 0), ps, 8);
    expect_indexes(runs.rows, 400, std::to_string(ps[0]) + " -> " + std::to_string(ps[1]));
  }
}

// The second cut comes before every subtask has passed the ragged edge the first one left.
TEST(OperatorSnapshot, GeneratorRestoresTwiceInsideTheRaggedRegion) {
  const auto polls = [](size_t run, int s) { return run == 0 ? (s * 3) % 7 : s % 2; };
  for (const std::vector<int>& ps :
       std::vector<std::vector<int>>{{4, 2, 3}, {2, 3, 1}, {3, 5, 2}, {6, 4, 1}, {2, 3, 4, 1}}) {
    const auto runs = run_through_rescales<int64_t>(generator_factory(600, 0), ps, 8, polls);
    expect_indexes(runs.rows, 600, "rescales " + std::to_string(ps.size()));
    bool inside = false;
    for (const std::string& o : runs.offsets[1]) inside |= o.find("skipping") != std::string::npos;
    EXPECT_TRUE(inside) << "the second cut was not inside the ragged region";
  }
}

TEST(OperatorSnapshot, GeneratorPacesRowsAfterARestore) {
  // A ragged cut at parallelism 2: subtask 0 made 0, 2, ..., 46, subtask 1 made 1, 3, ..., 207.
  const auto old = run_through_rescales<int64_t>(
      generator_factory(10'000, 0), {2}, 8, [](size_t, int s) { return 10 * s + 3; }, true);
  // Restored at 3 with 300 rows/s: 100 per subtask and second, counted from the restore; the
  // odd indexes below 209 it skips are not waited for.
  RowsOutput<int64_t> out;
  auto source = open_subtask(generator_factory(10'000, 300), 1, 3, 8, out, old.cut);
  ASSERT_NE(source, nullptr);
  const int64_t t0 = 5'000'000;
  EXPECT_EQ(source->poll(t0), detail::SourceState::kMore);
  EXPECT_EQ(out.rows, std::vector<int64_t>{52});  // 49 was made before
  EXPECT_EQ(source->poll(t0), detail::SourceState::kIdle);
  EXPECT_EQ(source->next_poll_us(), t0 + 10'000);  // the next row is due 1/100 s later
  while (source->poll(t0 + 1'000'000) == detail::SourceState::kMore) {
  }
  EXPECT_EQ(out.rows.size(), 101u);  // one at the start, then 100 per second
  for (int64_t i : out.rows) {
    EXPECT_EQ(i % 3, 1);
    EXPECT_FALSE(i < 48 || (i < 209 && i % 2 == 1)) << i << " was made before the cut";
  }
}

TEST(OperatorSnapshot, BroadcastRulesGoToEverySubtask) {
  auto on_rule = [](const int64_t& r, int64_t& limit) { limit = r; };
  auto fn = [](const int64_t& e, const int64_t& limit, Collector<int64_t>& c) {
    if (e > limit) c.emit(e);
  };
  using Op = detail::BroadcastProcessOperator<int64_t, int64_t, int64_t, int64_t, decltype(on_rule),
                                              decltype(fn)>;
  CollectOutput<int64_t> out;
  Op first(0, on_rule, fn, false);
  first.set_info(detail::OperatorInfo{"rules", 0, 1, kMaxParallelism, 8});
  first.set_output(&out);
  first.open();
  detail::Batch<int64_t> rule;
  rule.rows = {5};
  first.process(1, rule);
  std::vector<OperatorSnapshot> old(1);
  first.snapshot_state(1, old[0]);
  write_deferred(old[0]);
  for (int s = 0; s < 3; ++s) {
    Op op(0, on_rule, fn, false);
    op.set_info(detail::OperatorInfo{"rules", s, 3, kMaxParallelism, 8});
    op.set_output(&out);
    op.open();
    ASSERT_TRUE(op.restore_state(restore_for(old, s, 3)).is_ok());
    detail::Batch<int64_t> events;
    events.rows = {4, 6};
    op.process(0, events);
  }
  EXPECT_EQ(out.rows, (std::vector<int64_t>{6, 6, 6}));
}

TEST(OperatorSnapshot, MalformedStateIsRefusedWithTheOperatorsName) {
  using Agg = detail::SumAgg<uint64_t, Event, EventValue>;
  using State = detail::PaneWindows<uint64_t, Agg>;
  detail::WindowOperator<Event, EventKey, State> op(EventKey{}, State(Agg{EventValue{}}, 20, 20, 0),
                                                    detail::WindowConfig{});
  op.set_info(detail::OperatorInfo{"win", 0, 1, kMaxParallelism, 8});
  CollectOutput<typename decltype(op)::Out> out;
  op.set_output(&out);
  op.open();
  OperatorRestore in;
  in.key_groups.push_back({3, {1, 2, 3}});
  Status s = op.restore_state(in);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("'win'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("key group 3"), std::string::npos) << s.message();
}

TEST(OperatorSnapshot, KeyGroupRangesCoverEveryGroupOnce) {
  for (int p = 1; p <= 16; ++p) {
    int next = 0;
    for (int s = 0; s < p; ++s) {
      const auto r = detail::key_group_range(s, p, kMaxParallelism);
      EXPECT_EQ(r.first, next);
      for (int g = r.first; g < r.last; ++g) {
        EXPECT_EQ(detail::subtask_of_key_group(g, kMaxParallelism, p), s);
      }
      next = r.last;
    }
    EXPECT_EQ(next, kMaxParallelism);
  }
}

}  // namespace
}  // namespace sluice::testing
