// Join operators and their state, driven by hand (exact interleavings) and through small
// pipelines: bounds, purging, late rows, snapshots per key group, lookup semantics, broadcast.
#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "join_test_util.h"
#include "sluice/joins.h"
#include "sluice/sluice.h"

namespace {

using sluice::testing::CaptureOutput;
using sluice::testing::feed;
using sluice::testing::TimedEvent;
using Pair = std::pair<int64_t, int64_t>;  // (left id, right id)

struct Tumbling {  // the shape of sluice::Tumbling (sluice/window.h)
  sluice::Duration size;
};

using IntervalState = sluice::detail::IntervalJoinState<uint64_t, int64_t, int64_t>;

// ---- interval join state ----

TEST(IntervalJoinStateTest, BoundsAreInclusive) {
  IntervalState s(-2, 3);  // r.time in [l.time - 2, l.time + 3]
  std::vector<std::tuple<int64_t, int64_t, int64_t>> out;
  auto emit = [&](int64_t l, int64_t r, int64_t t) { out.emplace_back(l, r, t); };
  for (int64_t t = 5; t <= 16; ++t) s.add_right(1, t, t, emit);
  s.add_left(1, 10, 100, emit);
  s.add_left(2, 10, 200, emit);  // another key: no match
  std::vector<std::tuple<int64_t, int64_t, int64_t>> expected;
  for (int64_t t = 8; t <= 13; ++t) expected.emplace_back(100, t, std::max<int64_t>(10, t));
  EXPECT_EQ(out, expected);
}

TEST(IntervalJoinStateTest, WatermarkPurgesWhatCannotMatchAndDropsLateRows) {
  IntervalState s(-2, 3);
  auto none = [](int64_t, int64_t, int64_t) {};
  for (uint64_t k = 0; k < 100; ++k) {
    s.add_left(k, 10, 0, none);
    s.add_right(k, 20, 0, none);
  }
  EXPECT_EQ(s.rows_held(), 200);
  // Left rows at 10 can match right rows up to 13: gone once the watermark reaches 13.
  s.advance_watermark(12);
  EXPECT_EQ(s.rows_held(), 200);
  s.advance_watermark(13);
  EXPECT_EQ(s.rows_held(), 100);
  // Right rows at 20 can match left rows up to 22.
  s.advance_watermark(21);
  EXPECT_EQ(s.rows_held(), 100);
  s.advance_watermark(22);
  EXPECT_EQ(s.rows_held(), 0);
  EXPECT_EQ(s.keys_held(), 0u);
  EXPECT_FALSE(s.add_left(1, 22, 0, none));  // at the watermark: late
  EXPECT_TRUE(s.add_left(1, 23, 0, none));
  EXPECT_EQ(s.late_rows(), 1);
  s.advance_watermark(sluice::kMaxTimestamp);
  EXPECT_EQ(s.rows_held(), 0);
}

TEST(IntervalJoinStateTest, OutOfOrderRowsStayOrderedAndEachPairIsEmittedOnce) {
  IntervalState s(-5, 5);
  std::multiset<Pair> out;
  auto emit = [&](int64_t l, int64_t r, int64_t) { out.emplace(l, r); };
  auto events = sluice::testing::out_of_order_events(2000, 3, 0, 4, 30, 7);
  std::multiset<Pair> expected;
  for (size_t i = 0; i < events.size(); ++i) {
    const TimedEvent& e = events[i];
    if (i % 2 == 0) {
      s.add_left(e.key, e.time, e.id, emit);
    } else {
      s.add_right(e.key, e.time, e.id, emit);
    }
    if (i % 50 == 49) s.advance_watermark(events[i].time - 60);  // loose, never passes a row
  }
  for (size_t i = 0; i < events.size(); i += 2) {
    for (size_t j = 1; j < events.size(); j += 2) {
      if (events[i].key == events[j].key && events[j].time >= events[i].time - 5 &&
          events[j].time <= events[i].time + 5) {
        expected.emplace(events[i].id, events[j].id);
      }
    }
  }
  EXPECT_EQ(out, expected);
  EXPECT_EQ(s.late_rows(), 0);
}

// A snapshot split by key group and restored into two states (a restart at parallelism 2)
// continues exactly like the original.
TEST(IntervalJoinStateTest, SnapshotRoundTripsPerKeyGroup) {
  constexpr int kMaxParallelism = 16;
  IntervalState original(-10, 10);
  auto events = sluice::testing::out_of_order_events(4000, 50, 0, 4, 20, 11);
  auto none = [](int64_t, int64_t, int64_t) {};
  const size_t half = events.size() / 2;
  for (size_t i = 0; i < half; ++i) {
    original.add_left(events[i].key, events[i].time, events[i].id, none);
    original.add_right(events[i].key ^ 1, events[i].time, events[i].id, none);
  }
  original.advance_watermark(events[half].time - 40);
  auto snapshot = original.snapshot(kMaxParallelism);
  ASSERT_FALSE(snapshot.empty());

  std::vector<IntervalState> restored(2, IntervalState(-10, 10));
  for (const auto& group : snapshot) {
    for (const auto& entry : group.entries) {
      EXPECT_EQ(sluice::detail::key_group_of(sluice::detail::hash_key(entry.key), kMaxParallelism),
                group.key_group);
    }
    restored[sluice::detail::subtask_of_key_group(group.key_group, kMaxParallelism, 2)].restore(
        group);
  }
  EXPECT_EQ(restored[0].rows_held() + restored[1].rows_held(), original.rows_held());
  // Re-exported, the two halves give back the original snapshot.
  auto a = restored[0].snapshot(kMaxParallelism);
  auto b = restored[1].snapshot(kMaxParallelism);
  ASSERT_EQ(a.size() + b.size(), snapshot.size());

  std::multiset<Pair> from_original, from_restored;
  for (auto& r : restored) r.advance_watermark(events[half].time - 40);
  for (size_t i = half; i < events.size(); ++i) {
    const TimedEvent& e = events[i];
    auto& target = restored[sluice::detail::subtask_of_key_group(
        sluice::detail::key_group_of(sluice::detail::hash_key(e.key), kMaxParallelism),
        kMaxParallelism, 2)];
    original.add_left(e.key, e.time, e.id,
                      [&](int64_t l, int64_t r, int64_t) { from_original.emplace(l, r); });
    target.add_left(e.key, e.time, e.id,
                    [&](int64_t l, int64_t r, int64_t) { from_restored.emplace(l, r); });
  }
  EXPECT_FALSE(from_original.empty());
  EXPECT_EQ(from_original, from_restored);
}

// ---- window join state ----

using WindowState = sluice::detail::WindowJoinState<uint64_t, int64_t, int64_t>;

TEST(WindowJoinStateTest, FiresWhenTheWatermarkReachesTheLastMillisecond) {
  WindowState s(10);
  std::vector<std::tuple<int64_t, int64_t, int64_t>> out;
  auto emit = [&](int64_t l, int64_t r, int64_t t) { out.emplace_back(l, r, t); };
  s.add_left(1, -1, 1);  // window [-10, 0)
  s.add_right(1, -10, 2);
  s.add_left(1, 3, 3);  // window [0, 10)
  s.add_right(1, 9, 4);
  s.add_right(1, 0, 5);
  s.add_right(2, 5, 6);  // another key
  s.advance_watermark(-2, emit);
  EXPECT_TRUE(out.empty());
  s.advance_watermark(-1, emit);
  EXPECT_EQ(out, (std::vector<std::tuple<int64_t, int64_t, int64_t>>{{1, 2, -1}}));
  EXPECT_FALSE(s.add_left(1, -5, 7));  // its window fired: late
  EXPECT_EQ(s.late_rows(), 1);
  s.advance_watermark(9, emit);
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1], std::make_tuple(int64_t{3}, int64_t{4}, int64_t{9}));
  EXPECT_EQ(out[2], std::make_tuple(int64_t{3}, int64_t{5}, int64_t{9}));
  EXPECT_EQ(s.rows_held(), 0);
  EXPECT_EQ(s.windows_held(), 0u);
}

TEST(WindowJoinStateTest, SnapshotRoundTripsPerKeyGroup) {
  WindowState original(50);
  auto events = sluice::testing::out_of_order_events(3000, 40, -500, 3, 20, 5);
  for (size_t i = 0; i < events.size(); ++i) {
    if (i % 3 == 0) {
      original.add_left(events[i].key, events[i].time, events[i].id);
    } else {
      original.add_right(events[i].key, events[i].time, events[i].id);
    }
  }
  WindowState restored(50);
  for (const auto& group : original.snapshot(128)) restored.restore(group);
  EXPECT_EQ(restored.rows_held(), original.rows_held());
  std::multiset<std::tuple<int64_t, int64_t, int64_t>> a, b;
  original.advance_watermark(sluice::kMaxTimestamp,
                             [&](int64_t l, int64_t r, int64_t t) { a.emplace(l, r, t); });
  restored.advance_watermark(sluice::kMaxTimestamp,
                             [&](int64_t l, int64_t r, int64_t t) { b.emplace(l, r, t); });
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
}

// ---- operators driven by hand ----

TEST(IntervalJoinOperatorTest, OutputTimeIsTheLaterOfThePair) {
  auto key = [](const TimedEvent& e) { return e.key; };
  auto fn = [](const TimedEvent& l, const TimedEvent& r) { return Pair{l.id, r.id}; };
  sluice::detail::IntervalJoinOperator<TimedEvent, TimedEvent, Pair, decltype(key), decltype(key),
                                       decltype(fn)>
      op(key, key, -5, 5, fn, nullptr);
  CaptureOutput<Pair> out;
  op.set_output(&out);
  op.open();
  feed<TimedEvent>(op, 0, {{1, 100, 1}, {1, 110, 2}}, {100, 110});
  feed<TimedEvent>(op, 1, {{1, 104, 10}, {1, 95, 11}, {2, 100, 12}}, {104, 95, 100});
  EXPECT_EQ(out.rows, (std::vector<Pair>{{1, 10}, {1, 11}}));
  EXPECT_EQ(out.times, (std::vector<int64_t>{104, 100}));
  op.on_watermark(120);
  EXPECT_EQ(op.state().rows_held(), 0);
  EXPECT_EQ(out.watermarks, (std::vector<sluice::Timestamp>{120}));
}

struct Account {
  uint64_t id = 0;
  std::string owner;
};
struct Payment {
  uint64_t account = 0;
  int64_t cents = 0;
};
struct Enriched {
  int64_t cents = 0;
  std::string owner;  // "-" when the account is unknown
  friend bool operator==(const Enriched&, const Enriched&) = default;
};

auto payment_key = [](const Payment& p) { return p.account; };
auto change_key = [](const sluice::Change<Account>& c) { return c.row.id; };
auto enrich = [](const Payment& p, const std::optional<Account>& a) {
  return Enriched{p.cents, a ? a->owner : "-"};
};
using LookupOp = sluice::detail::LookupJoinOperator<Payment, sluice::Change<Account>, Enriched,
                                                    decltype(payment_key), decltype(change_key),
                                                    decltype(enrich)>;

// Each event sees the table as it is when the event is processed: updates and deletes apply
// to the events after them.
TEST(LookupJoinOperatorTest, EventsSeeTheLatestRowOfTheirKey) {
  sluice::JoinMetrics metrics;
  LookupOp op(payment_key, change_key, enrich, {.unmatched = sluice::Unmatched::kEmit});
  CaptureOutput<Enriched> out;
  op.set_output(&out);
  op.open();
  using sluice::deletion;
  using sluice::upsert;
  feed<Payment>(op, 0, {{1, 10}}, {});
  feed<sluice::Change<Account>>(op, 1, {upsert(Account{1, "ann"}), upsert(Account{2, "bob"})}, {});
  feed<Payment>(op, 0, {{1, 20}, {2, 30}}, {});
  feed<sluice::Change<Account>>(op, 1, {upsert(Account{1, "anne"}), deletion(Account{2, ""})}, {});
  feed<Payment>(op, 0, {{1, 40}, {2, 50}}, {});
  feed<sluice::Change<Account>>(op, 1, {upsert(Account{2, "bo"})}, {});
  feed<Payment>(op, 0, {{2, 60}}, {});
  EXPECT_EQ(out.rows,
            (std::vector<Enriched>{
                {10, "-"}, {20, "ann"}, {30, "bob"}, {40, "anne"}, {50, "-"}, {60, "bo"}}));
  EXPECT_EQ(op.table().size(), 2u);
}

TEST(LookupJoinOperatorTest, DropCountsUnmatchedEvents) {
  sluice::JoinMetrics metrics;
  LookupOp op(payment_key, change_key, enrich,
              {.unmatched = sluice::Unmatched::kDrop, .metrics = &metrics});
  CaptureOutput<Enriched> out;
  op.set_output(&out);
  op.open();
  feed<sluice::Change<Account>>(op, 1, {sluice::upsert(Account{1, "ann"})}, {});
  feed<Payment>(op, 0, {{1, 10}, {2, 20}, {3, 30}, {1, 40}}, {5, 6, 7, 8});
  op.on_end();
  EXPECT_EQ(out.rows, (std::vector<Enriched>{{10, "ann"}, {40, "ann"}}));
  EXPECT_EQ(out.times, (std::vector<int64_t>{5, 8}));  // events keep their times
  EXPECT_EQ(metrics.unmatched_rows.load(), 2);
  EXPECT_TRUE(out.ended);
}

TEST(LookupJoinOperatorTest, TableFirstHoldsEventsAndWatermarksUntilTheTableEnds) {
  LookupOp op(payment_key, change_key, enrich, {.table_first = true});
  CaptureOutput<Enriched> out;
  op.set_output(&out);
  op.open();
  feed<Payment>(op, 0, {{1, 10}}, {100});
  op.on_watermark(100);
  feed<sluice::Change<Account>>(op, 1, {sluice::upsert(Account{1, "ann"})}, {});
  EXPECT_TRUE(out.rows.empty());
  EXPECT_TRUE(out.watermarks.empty());
  op.on_input_end(1);
  EXPECT_EQ(out.rows, (std::vector<Enriched>{{10, "ann"}}));
  EXPECT_EQ(out.watermarks, (std::vector<sluice::Timestamp>{100}));
  feed<Payment>(op, 0, {{1, 20}}, {101});
  EXPECT_EQ(out.rows.size(), 2u);
}

TEST(LookupTableTest, SnapshotRoundTripsPerKeyGroup) {
  sluice::detail::LookupTable<uint64_t, std::string> table;
  for (uint64_t k = 0; k < 500; ++k) table.upsert(k, std::to_string(k * 10));
  for (uint64_t k = 0; k < 500; k += 3) table.erase(k);
  auto snapshot = table.snapshot(128);
  sluice::detail::LookupTable<uint64_t, std::string> restored;
  for (const auto& g : snapshot) restored.restore(g);
  EXPECT_EQ(restored.size(), table.size());
  for (uint64_t k = 0; k < 500; ++k) {
    const auto* row = restored.find(k);
    if (k % 3 == 0) {
      EXPECT_EQ(row, nullptr);
    } else {
      ASSERT_NE(row, nullptr);
      EXPECT_EQ(**row, std::to_string(k * 10));
    }
  }
}

// ---- pipelines ----

class LookupJoinPipelineTest : public ::testing::TestWithParam<int> {};

// With table_first the order between the inputs is fixed: every event is joined with the final
// table, i.e. the last upsert of its key unless a delete followed it.
TEST_P(LookupJoinPipelineTest, TableFirstJoinsWithTheFinalTable) {
  sluice::JobOptions options;
  options.parallelism = GetParam();
  options.batch_size = 7;
  sluice::Environment env(options);
  constexpr uint64_t kChanges = 3000, kKeys = 100, kEvents = 5000;
  auto change = [](uint64_t i) {
    const uint64_t key = (i * 37) % kKeys;
    Account a{key, std::to_string(i)};
    return i % 7 == 3 ? sluice::deletion(a) : sluice::upsert(a);
  };
  std::map<uint64_t, std::string> final_table;
  for (uint64_t i = 0; i < kChanges; ++i) {
    auto c = change(i);
    if (c.kind == sluice::ChangeKind::kDelete) {
      final_table.erase(c.row.id);
    } else {
      final_table[c.row.id] = c.row.owner;
    }
  }
  auto table = env.generate(kChanges, change).key_by(change_key);
  std::vector<Enriched> out;
  sluice::JoinMetrics metrics;
  env.generate(kEvents,
               [](uint64_t i) {
                 return Payment{(i * 13) % (kKeys + 10), static_cast<int64_t>(i)};
               })
      .key_by(payment_key)
      .lookup_join(
          table, enrich,
          {.unmatched = sluice::Unmatched::kDrop, .table_first = true, .metrics = &metrics})
      .sink(sluice::sinks::collect(&out));
  sluice::Status s = env.execute();
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  std::vector<Enriched> expected;
  int64_t unmatched = 0;
  for (uint64_t i = 0; i < kEvents; ++i) {
    auto it = final_table.find((i * 13) % (kKeys + 10));
    if (it == final_table.end()) {
      ++unmatched;
    } else {
      expected.push_back({static_cast<int64_t>(i), it->second});
    }
  }
  auto by_cents = [](const Enriched& a, const Enriched& b) { return a.cents < b.cents; };
  std::sort(out.begin(), out.end(), by_cents);
  EXPECT_EQ(out, expected);
  EXPECT_EQ(metrics.unmatched_rows.load(), unmatched);
  EXPECT_GT(unmatched, 0);
}

INSTANTIATE_TEST_SUITE_P(Parallelism, LookupJoinPipelineTest, ::testing::Values(1, 2, 4));

struct Txn {
  uint32_t category = 0;
  int64_t cents = 0;
  int64_t id = 0;
};
struct Threshold {
  uint32_t category = 0;
  int64_t cents = 0;
  int64_t version = 0;
};
struct Flagged {
  int64_t id = 0;
  int64_t version = 0;  // version of the threshold applied
};
using Thresholds = std::map<uint32_t, Threshold>;
auto on_threshold = [](const Threshold& t, Thresholds& state) { state[t.category] = t; };
auto flag_above = [](const Txn& t, const Thresholds& state, sluice::Collector<Flagged>& out) {
  auto it = state.find(t.category);
  if (it != state.end() && t.cents > it->second.cents) out.emit(Flagged{t.id, it->second.version});
};

// Rules reach every subtask: each applies the final thresholds to the events it gets.
TEST(BroadcastTest, RulesAreAppliedOnEverySubtask) {
  sluice::JobOptions options;
  options.parallelism = 4;
  options.batch_size = 16;
  sluice::Environment env(options);
  constexpr uint64_t kRules = 40, kEvents = 20000;
  auto rule = [](uint64_t i) {
    return Threshold{static_cast<uint32_t>(i % 8), static_cast<int64_t>(1000 + 100 * i),
                     static_cast<int64_t>(i)};
  };
  auto txn = [](uint64_t i) {
    return Txn{static_cast<uint32_t>(i % 9), static_cast<int64_t>((i * 7919) % 6000),
               static_cast<int64_t>(i)};
  };
  std::atomic<int> rules_applied{0};
  auto rules = env.generate(kRules, rule, {.parallelism = 1});
  std::vector<Flagged> out;
  env.generate(kEvents, txn, {.parallelism = 1})
      .connect_broadcast<Flagged>(rules, Thresholds{},
                                  [&rules_applied](const Threshold& t, Thresholds& s) {
                                    rules_applied.fetch_add(1);
                                    on_threshold(t, s);
                                  },
                                  flag_above, {.rules_first = true})
      .sink(sluice::sinks::collect(&out));
  sluice::Status s = env.execute();
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(rules_applied.load(), static_cast<int>(kRules) * 4);
  Thresholds final_rules;
  for (uint64_t i = 0; i < kRules; ++i) on_threshold(rule(i), final_rules);
  std::vector<int64_t> expected, got;
  for (uint64_t i = 0; i < kEvents; ++i) {
    const Txn t = txn(i);
    auto it = final_rules.find(t.category);
    if (it != final_rules.end() && t.cents > it->second.cents) expected.push_back(t.id);
  }
  for (const Flagged& f : out) {
    got.push_back(f.id);
    EXPECT_GE(f.version, static_cast<int64_t>(kRules) - 8);  // the last rule of its category
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, expected);
}

// Without rules_first, events race the rules; each flag still applies a real rule.
TEST(BroadcastTest, WithoutRulesFirstEachEventSeesSomeVersionOfTheRules) {
  sluice::JobOptions options;
  options.parallelism = 2;
  sluice::Environment env(options);
  auto rules = env.generate(16, [](uint64_t i) {
    return Threshold{0, static_cast<int64_t>(100 * i), static_cast<int64_t>(i)};
  });
  std::vector<Flagged> out;
  env.generate(10000,
               [](uint64_t i) {
                 return Txn{0, static_cast<int64_t>(i % 2000), static_cast<int64_t>(i)};
               })
      .connect_broadcast<Flagged>(rules, Thresholds{}, on_threshold, flag_above)
      .sink(sluice::sinks::collect(&out));
  sluice::Status s = env.execute();
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  for (const Flagged& f : out) {
    ASSERT_GE(f.version, 0);
    ASSERT_LT(f.version, 16);
    EXPECT_GT(f.id % 2000, 100 * f.version);
  }
}

TEST(JoinPipelineTest, EventTimeJoinWithoutTimestampsFailsTheJob) {
  sluice::Environment env;
  auto key = [](const TimedEvent& e) { return e.key; };
  auto make = [](uint64_t i) { return TimedEvent{i % 3, static_cast<int64_t>(i), 0}; };
  auto right = env.generate(10, make).key_by(key);
  env.generate(10, make)
      .key_by(key)
      .interval_join(right, -1, 1, [](const TimedEvent&, const TimedEvent&) { return 0; })
      .sink([](const int&) {});
  sluice::Status s = env.execute();
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("assign_timestamps"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("'interval_join'"), std::string::npos) << s.message();
}

}  // namespace
