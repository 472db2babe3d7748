// Join throughput: the engine at parallelism 1 and 2 against a hand-written loop doing the same
// join in the same process (same pairs, checked by count and checksum).
//
//   build/bench/join_bench [rows per side] [keys] [repetitions] [interval|lookup|both]
//
// Interval join: each side has `rows` rows, 100 per millisecond of event time, keys drawn at
// random; a left row joins the right rows of its key within [-5 ms, +5 ms]. Events/s counts the
// rows of both sides.
//
// Lookup join: a changelog of 2 x `keys` changes (every key upserted, then every key changed
// again, one in five of them deleted) is the table, loaded first (`table_first`); `rows` events
// with random keys are enriched with their key's row (a miss too: Unmatched::kEmit). Events/s
// counts the changes and the events. A second figure drives the operator alone (no engine): the
// table loaded, then the events in batches of 1,024 — the lookup itself, per event.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <span>
#include <vector>

#include <string>

#include "absl/container/flat_hash_map.h"
#include "bench_common.h"
#include "sluice/detail/lookup_join_operator.h"
#include "sluice/joins.h"
#include "sluice/sluice.h"

using sluice::bench::mix;
using sluice::bench::seconds_of;

namespace {

struct Row {
  uint64_t key;
  int64_t time;
  int64_t value;
};

constexpr int64_t kRowsPerMs = 100;
constexpr int64_t kLower = -5, kUpper = 5;
constexpr sluice::Duration kBound = 10;

struct MakeRow {
  uint64_t keys;
  uint64_t salt;
  Row operator()(uint64_t i) const {
    const uint64_t h = mix(i ^ salt);
    return Row{h % keys, static_cast<int64_t>(i) / kRowsPerMs, static_cast<int64_t>(h >> 44)};
  }
};
constexpr uint64_t kLeftSalt = 0, kRightSalt = 0x5DEECE66DULL;

inline int64_t joined(const Row& l, const Row& r) { return l.value * 3 + r.value; }

struct Totals {
  int64_t pairs = 0;
  int64_t checksum = 0;
  bool operator==(const Totals&) const = default;
};

struct SumSink {
  std::atomic<int64_t>* pairs;
  std::atomic<int64_t>* checksum;
  Totals local;
  void write(std::span<const int64_t> rows) {
    local.pairs += static_cast<int64_t>(rows.size());
    for (int64_t v : rows) local.checksum += v;
  }
  void finish() {
    pairs->fetch_add(local.pairs);
    checksum->fetch_add(local.checksum);
  }
};

Totals run_engine(uint64_t rows, uint64_t keys, int parallelism, sluice::JoinMetrics* metrics) {
  sluice::JobOptions options;
  options.parallelism = parallelism;
  options.handle_signals = false;
  sluice::Environment env(options);
  auto side = [&](uint64_t salt) {
    return env.generate(rows, MakeRow{keys, salt})
        .assign_timestamps([](const Row& r) { return r.time; }, kBound)
        .key_by([](const Row& r) { return r.key; });
  };
  std::atomic<int64_t> pairs{0}, checksum{0};
  side(kLeftSalt)
      .interval_join(side(kRightSalt), kLower, kUpper,
                     [](const Row& l, const Row& r) { return joined(l, r); }, {.metrics = metrics})
      .sink(SumSink{&pairs, &checksum, Totals{}});
  sluice::Status s = env.execute("join bench");
  if (!s.is_ok()) {
    std::fprintf(stderr, "join_bench: %s\n", s.to_string().c_str());
    std::exit(1);
  }
  return Totals{pairs.load(), checksum.load()};
}

// The same join by hand: rows of both sides alternate, in time order; per key, each side's rows
// in a vector whose front is dropped once no later row of the other side can reach it.
Totals run_hand_loop(uint64_t rows, uint64_t keys) {
  struct Side {
    std::vector<Row> rows;
    size_t head = 0;
    void drop_before(int64_t t) {
      while (head < rows.size() && rows[head].time < t) ++head;
      if (head == rows.size()) {
        rows.clear();
        head = 0;
      } else if (head >= 16 && head * 2 >= rows.size()) {
        rows.erase(rows.begin(), rows.begin() + static_cast<ptrdiff_t>(head));
        head = 0;
      }
    }
  };
  struct Key {
    Side left, right;
  };
  absl::flat_hash_map<uint64_t, Key> state;
  MakeRow make_left{keys, kLeftSalt}, make_right{keys, kRightSalt};
  Totals t;
  for (uint64_t i = 0; i < rows; ++i) {
    const Row l = make_left(i);
    Key& kl = state[l.key];
    kl.right.drop_before(l.time + kLower);  // later left rows are no earlier than l
    for (size_t j = kl.right.head; j < kl.right.rows.size(); ++j) {
      const Row& r = kl.right.rows[j];
      if (r.time > l.time + kUpper) break;
      ++t.pairs;
      t.checksum += joined(l, r);
    }
    kl.left.rows.push_back(l);

    const Row r = make_right(i);
    Key& kr = state[r.key];
    kr.left.drop_before(r.time - kUpper);
    for (size_t j = kr.left.head; j < kr.left.rows.size(); ++j) {
      const Row& x = kr.left.rows[j];
      if (x.time > r.time - kLower) break;
      ++t.pairs;
      t.checksum += joined(x, r);
    }
    kr.right.rows.push_back(r);
  }
  return t;
}

// ---- lookup join ----

// Change i of the table: key i upserted for i < keys, then key i - keys changed again (one in
// five deleted).
struct MakeChange {
  uint64_t keys;
  sluice::Change<Row> operator()(uint64_t i) const {
    const uint64_t key = i < keys ? i : i - keys;
    const Row row{key, 0, static_cast<int64_t>(mix(i) >> 44)};
    return i >= keys && key % 5 == 0 ? sluice::deletion(row) : sluice::upsert(row);
  }
};

inline int64_t enriched(const Row& e, const Row* row) {
  return e.value * 3 + (row == nullptr ? -1 : row->value);
}

struct ChecksumSink {
  std::atomic<int64_t>* total;
  int64_t local = 0;
  void write(std::span<const int64_t> rows) {
    for (int64_t v : rows) local += v;
  }
  void finish() { total->fetch_add(local); }
};

// The table by hand: the latest row per key.
absl::flat_hash_map<uint64_t, Row> hand_table(uint64_t keys) {
  absl::flat_hash_map<uint64_t, Row> table;
  const MakeChange change{keys};
  for (uint64_t i = 0; i < 2 * keys; ++i) {
    const sluice::Change<Row> c = change(i);
    if (c.kind == sluice::ChangeKind::kDelete) {
      table.erase(c.row.key);
    } else {
      table[c.row.key] = c.row;
    }
  }
  return table;
}

// The events enriched by hand; returns their checksum.
int64_t hand_lookups(const absl::flat_hash_map<uint64_t, Row>& table, uint64_t rows,
                     uint64_t keys) {
  const MakeRow event{keys, kLeftSalt};
  int64_t sum = 0;
  for (uint64_t i = 0; i < rows; ++i) {
    const Row e = event(i);
    auto it = table.find(e.key);
    sum += enriched(e, it == table.end() ? nullptr : &it->second);
  }
  return sum;
}

// Sums what the operator emits.
class SumOutput final : public sluice::detail::Output {
 public:
  void emit(sluice::detail::BatchBase& batch) override {
    for (int64_t v : sluice::detail::batch_cast<int64_t>(batch).rows) sum += v;
  }
  void emit_watermark(sluice::Timestamp) override {}
  void emit_idle(bool) override {}
  void emit_barrier(uint64_t) override {}
  void emit_end() override {}
  int64_t sum = 0;
};

// The lookup join operator alone: events/s of the events' batches, after the table is loaded.
double lookup_operator_rate(uint64_t rows, uint64_t keys, int reps, int64_t expected) {
  auto key = [](const Row& r) { return r.key; };
  auto change_key = [](const sluice::Change<Row>& c) { return c.row.key; };
  auto fn = [](const Row& e, const std::optional<Row>& row) {
    return enriched(e, row ? &*row : nullptr);
  };
  using Op = sluice::detail::LookupJoinOperator<Row, sluice::Change<Row>, int64_t, decltype(key),
                                                decltype(change_key), decltype(fn)>;
  constexpr size_t kBatch = 1024;
  const MakeChange change{keys};
  const MakeRow event{keys, kLeftSalt};
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    Op op(key, change_key, fn, {});
    SumOutput out;
    op.set_info(sluice::detail::OperatorInfo{"lookup", 0, 1, 128, kBatch});
    op.set_output(&out);
    op.open();
    sluice::detail::Batch<sluice::Change<Row>> table;
    for (uint64_t i = 0; i < 2 * keys; ++i) {
      table.rows.push_back(change(i));
      if (table.rows.size() == kBatch || i + 1 == 2 * keys) {
        op.process(1, table);
        table.clear();
      }
    }
    sluice::detail::Batch<Row> events;
    double seconds = 0;
    for (uint64_t i = 0; i < rows; i += kBatch) {
      events.clear();
      for (uint64_t j = i; j < std::min(rows, i + kBatch); ++j) events.rows.push_back(event(j));
      seconds += seconds_of([&] { op.process(0, events); });
    }
    best = std::min(best, seconds);
    if (out.sum != expected) {
      std::printf("lookup operator: checksum %lld, expected %lld\n",
                  static_cast<long long>(out.sum), static_cast<long long>(expected));
      return 0;
    }
  }
  return static_cast<double>(rows) / best;
}

int lookup_section(uint64_t rows, uint64_t keys, int reps) {
  const uint64_t changes = 2 * keys;
  std::printf("lookup join: %llu table changes (%llu keys), then %llu events; best of %d\n\n",
              static_cast<unsigned long long>(changes), static_cast<unsigned long long>(keys),
              static_cast<unsigned long long>(rows), reps);
  std::printf("%-30s %4s %12s %12s %12s %7s\n", "workload", "par", "events", "engine ev/s",
              "hand ev/s", "ratio");
  auto hand_loop = [&] { return hand_lookups(hand_table(keys), rows, keys); };
  auto build = [&](sluice::Environment& env, std::atomic<int64_t>* total) {
    auto key = [](const Row& r) { return r.key; };
    auto table = env.generate(changes, MakeChange{keys}).key_by([](const sluice::Change<Row>& c) {
      return c.row.key;
    });
    env.generate(rows, MakeRow{keys, kLeftSalt})
        .key_by(key)
        .lookup_join(table,
                     [](const Row& e, const std::optional<Row>& row) {
                       return enriched(e, row ? &*row : nullptr);
                     },
                     {.table_first = true})
        .sink(ChecksumSink{total});
  };
  int failures = sluice::bench::measure_workload<int64_t>(
      "lookup join, " + std::to_string(keys) + " keys", rows + changes, reps, 2, hand_loop, build);
  double hand = 1e30;  // the events alone: the table is loaded before the clock runs
  int64_t expected = 0;
  const auto table = hand_table(keys);
  for (int r = 0; r < reps; ++r) {
    hand = std::min(hand, seconds_of([&] { expected = hand_lookups(table, rows, keys); }));
  }
  const double op_rate = lookup_operator_rate(rows, keys, reps, expected);
  std::printf("%-30s %4d %12llu %11.1fM %11.1fM %7.2f   (operator alone, events only)\n",
              "lookup operator", 1, static_cast<unsigned long long>(rows), op_rate / 1e6,
              static_cast<double>(rows) / hand / 1e6, op_rate * hand / static_cast<double>(rows));
  return failures + (op_rate == 0 ? 1 : 0);
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 5'000'000;
  const uint64_t keys = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 10'000;
  const int reps = argc > 3 ? std::atoi(argv[3]) : 3;
  const std::string what = argc > 4 ? argv[4] : "both";
  std::printf("command: %s %llu %llu %d %s\n", argv[0], static_cast<unsigned long long>(rows),
              static_cast<unsigned long long>(keys), reps, what.c_str());
  if (what != "both" && what != "interval" && what != "lookup") {
    std::fprintf(stderr, "join_bench: the 4th argument is interval, lookup or both, not '%s'\n",
                 what.c_str());
    return 2;
  }
  if (what == "lookup") return lookup_section(rows, keys, reps);
  std::printf(
      "interval join [%lld, %lld] ms, %llu rows per side, %llu keys, %lld rows/ms; "
      "best of %d\n\n",
      static_cast<long long>(kLower), static_cast<long long>(kUpper),
      static_cast<unsigned long long>(rows), static_cast<unsigned long long>(keys),
      static_cast<long long>(kRowsPerMs), reps);

  Totals expected;
  double hand = 1e30;
  for (int r = 0; r < reps; ++r) {
    hand = std::min(hand, seconds_of([&] { expected = run_hand_loop(rows, keys); }));
  }
  const double events = 2.0 * static_cast<double>(rows);
  const double hand_rate = events / hand;
  std::printf("%-22s %12s %12s %8s\n", "", "events/s", "pairs", "ratio");
  std::printf("%-22s %11.2fM %12lld %8s\n", "hand-written loop", hand_rate / 1e6,
              static_cast<long long>(expected.pairs), "1.00");
  int status = 0;
  for (int parallelism : {1, 2}) {
    Totals got;
    double best = 1e30;
    int64_t peak = 0;
    for (int r = 0; r < reps; ++r) {
      sluice::JoinMetrics metrics;
      best =
          std::min(best, seconds_of([&] { got = run_engine(rows, keys, parallelism, &metrics); }));
      peak = metrics.peak_rows_held.load();
    }
    const double rate = events / best;
    std::printf("engine, parallelism %d  %11.2fM %12lld %8.2f   (peak rows held %lld)%s\n",
                parallelism, rate / 1e6, static_cast<long long>(got.pairs), rate / hand_rate,
                static_cast<long long>(peak),
                got == expected ? "" : "  MISMATCH with the hand loop");
    if (!(got == expected)) status = 1;
  }
  if (what == "both") {
    std::printf("\n");
    status |= lookup_section(rows, keys, reps) != 0 ? 1 : 0;
  }
  return status;
}
