// The position of striped sources: runs at changing parallelism, cut at ragged edges (and again
// before the ragged region is passed), make every index of [first, end) exactly once; the
// format-0 position of older checkpoints restores at any parallelism; bad streams are refused
// with the operator's name.
#include "sluice/detail/striped_position.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace sluice::detail {
namespace {

using Quota = std::function<uint64_t(size_t run, int s)>;

struct Runs {
  std::vector<int> times_made;                    // by index - first
  std::vector<std::vector<std::string>> offsets;  // by cut, by subtask
  std::vector<std::vector<OperatorSnapshot>> cuts;
};

OperatorRestore restore_from(const std::vector<OperatorSnapshot>& old) {
  OperatorRestore in;
  in.old_parallelism = static_cast<int>(old.size());
  for (const OperatorSnapshot& s : old) in.operator_states.push_back(s.operator_state);
  return in;
}

// Runs the positions of [first, end) at each of `parallelisms`; in every run but the last,
// subtask s makes quota(run, s) indexes before the cut; the last run makes the rest.
Runs run(uint64_t first, uint64_t end, const std::vector<int>& parallelisms, const Quota& quota) {
  Runs r;
  r.times_made.assign(end - first, 0);
  for (size_t k = 0; k < parallelisms.size(); ++k) {
    const bool last = k + 1 == parallelisms.size();
    std::vector<OperatorSnapshot> cut(static_cast<size_t>(parallelisms[k]));
    for (int s = 0; s < parallelisms[k]; ++s) {
      StripedPosition pos;
      pos.start(s, parallelisms[k], first);
      if (k > 0) {
        Status st = pos.restore(restore_from(r.cuts.back()), "'gen'");
        EXPECT_TRUE(st.is_ok()) << st.to_string();
      }
      const uint64_t limit = last ? UINT64_MAX : quota(k, s);
      uint64_t last_made = 0;
      bool any = false;
      pos.make_next(end, limit, [&](uint64_t i) {
        EXPECT_GE(i, first);
        EXPECT_EQ(i % static_cast<uint64_t>(parallelisms[k]), static_cast<uint64_t>(s));
        EXPECT_TRUE(!any || i > last_made) << "indexes of a subtask ascend";
        any = true;
        last_made = i;
        ++r.times_made[i - first];
      });
      if (!last) pos.snapshot(cut[static_cast<size_t>(s)], "next index");
    }
    if (!last) {
      r.offsets.emplace_back();
      for (const OperatorSnapshot& s : cut) r.offsets.back().push_back(s.offsets);
      r.cuts.push_back(std::move(cut));
    }
  }
  return r;
}

void expect_each_once(const Runs& r, const std::string& what) {
  size_t wrong = 0;
  for (size_t i = 0; i < r.times_made.size(); ++i) {
    if (r.times_made[i] != 1 && ++wrong <= 5) {
      ADD_FAILURE() << what << ": index " << i << " made " << r.times_made[i] << " times";
    }
  }
  EXPECT_EQ(wrong, 0u) << what;
}

bool skipping(const std::vector<std::string>& offsets) {
  for (const std::string& o : offsets) {
    if (o.find("skipping") != std::string::npos) return true;
  }
  return false;
}

std::string describe(const std::vector<int>& ps) {
  std::string s;
  for (int p : ps) s += (s.empty() ? "" : " -> ") + std::to_string(p);
  return s;
}

// Subtask s makes 13 * s indexes (mod 60) in the first run: a wide ragged edge.
uint64_t wide_edge(size_t run, int s) {
  return run == 0 ? (13 * static_cast<uint64_t>(s) + 7) % 60 : (5 * static_cast<uint64_t>(s)) % 9;
}

TEST(StripedPosition, RescaleUpAndDownMakesEachIndexOnce) {
  const std::vector<std::vector<int>> pairs = {{1, 4}, {2, 3}, {3, 1}, {4, 2}, {2, 2},
                                               {5, 3}, {3, 5}, {4, 6}, {6, 4}, {1, 1}};
  for (const auto& ps : pairs) expect_each_once(run(0, 500, ps, wide_edge), describe(ps));
}

TEST(StripedPosition, RescalesBeforeTheRaggedRegionIsPassedMakeEachIndexOnce) {
  const std::vector<std::vector<int>> chains = {{2, 3, 1},    {4, 2, 3},    {3, 5, 2},
                                                {1, 4, 2, 3}, {6, 4, 3, 2}, {2, 3, 4, 5, 1}};
  for (const auto& ps : chains) {
    const Runs r = run(0, 2000, ps, wide_edge);
    expect_each_once(r, describe(ps));
    // A later cut fell inside the region an earlier one left: some subtask still skipped.
    bool inside = false;
    for (size_t k = 1; k < r.offsets.size(); ++k) inside = inside || skipping(r.offsets[k]);
    EXPECT_TRUE(inside) << describe(ps);
  }
}

TEST(StripedPosition, RandomRescalesMakeEachIndexOnce) {
  std::mt19937_64 rng(20261126);
  for (int trial = 0; trial < 400; ++trial) {
    const uint64_t first = rng() % 20;
    const uint64_t end = first + 50 + rng() % 400;
    std::vector<int> ps(2 + rng() % 4);
    for (int& p : ps) p = 1 + static_cast<int>(rng() % 7);
    std::vector<std::vector<uint64_t>> quotas(ps.size(), std::vector<uint64_t>(8));
    for (auto& q : quotas) {
      for (auto& n : q) n = rng() % 40;
    }
    const Runs r = run(first, end, ps, [&](size_t k, int s) { return quotas[k][s]; });
    expect_each_once(r, "trial " + std::to_string(trial) + ", first " + std::to_string(first) +
                            ", " + describe(ps));
    if (HasFailure()) return;
  }
}

TEST(StripedPosition, SameParallelismResumesEachSubtaskAtItsNextIndex) {
  const Runs r = run(0, 300, {3, 3}, [](size_t, int s) { return 4 + static_cast<uint64_t>(s); });
  expect_each_once(r, "3 -> 3");
  for (int s = 0; s < 3; ++s) {
    EXPECT_EQ(r.offsets[0][static_cast<size_t>(s)],
              "next index " + std::to_string(3 * (4 + s) + s));
  }
  // Tag, format, next index and an empty list of layers.
  EXPECT_EQ(r.cuts[0][0].operator_state.size(), 4 + 4 + 8 + 8u);
}

TEST(StripedPosition, LayersAreDroppedOnceTheSubtaskIsPastThem) {
  // 4 -> 2 with a wide edge, then far enough for every subtask to leave it behind.
  const Runs r = run(0, 3000, {4, 2, 3}, [](size_t k, int s) -> uint64_t {
    return k == 0 ? 10 * static_cast<uint64_t>(s) : 200;
  });
  expect_each_once(r, "4 -> 2 -> 3");
  EXPECT_FALSE(skipping(r.offsets[1]));
  for (const OperatorSnapshot& s : r.cuts[1]) EXPECT_EQ(s.operator_state.size(), 24u);
}

std::vector<char> format0(uint64_t next) {
  std::vector<char> bytes(sizeof next);
  std::memcpy(bytes.data(), &next, sizeof next);
  return bytes;
}

TEST(StripedPosition, FormatZeroRestoresAtAnotherParallelism) {
  // What these sources wrote before: the next index alone. Two old subtasks had made 0..8 (even)
  // and 1..3 (odd).
  OperatorRestore in;
  in.old_parallelism = 2;
  in.operator_states = {format0(10), format0(5)};
  std::vector<int> times(100, 0);
  for (uint64_t i : {0, 2, 4, 6, 8, 1, 3}) ++times[i];
  for (int s = 0; s < 3; ++s) {
    StripedPosition pos;
    pos.start(s, 3, 0);
    Status st = pos.restore(in, "'gen'");
    ASSERT_TRUE(st.is_ok()) << st.to_string();
    pos.make_next(100, UINT64_MAX, [&](uint64_t i) { ++times[i]; });
  }
  for (size_t i = 0; i < times.size(); ++i) EXPECT_EQ(times[i], 1) << "index " << i;
}

Status restore_one(const OperatorRestore& in) {
  StripedPosition pos;
  pos.start(0, 2, 0);
  return pos.restore(in, "'gen' (subtask 1/2)");
}

void expect_refused(const OperatorRestore& in, const std::string& says) {
  Status st = restore_one(in);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("'gen' (subtask 1/2)"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(says), std::string::npos) << st.message();
}

TEST(StripedPosition, BadStreamsAreRefusedNamingTheOperator) {
  OperatorSnapshot good;
  StripedPosition pos;
  pos.start(0, 1, 0);
  pos.snapshot(good, "next index");

  OperatorRestore later;
  later.old_parallelism = 1;
  later.operator_states = {good.operator_state};
  const uint32_t format = 7;
  std::memcpy(later.operator_states[0].data() + 4, &format, sizeof format);
  expect_refused(later, "format 7");

  OperatorRestore truncated = later;
  truncated.operator_states = {good.operator_state};
  truncated.operator_states[0].pop_back();
  expect_refused(truncated, "malformed");

  OperatorRestore missing;
  missing.old_parallelism = 2;
  missing.operator_states = {good.operator_state, {}};
  expect_refused(missing, "no position for its old subtask 1");

  OperatorRestore short_list;
  short_list.old_parallelism = 3;
  short_list.operator_states = {good.operator_state};
  expect_refused(short_list, "1 positions for parallelism 3");
}

}  // namespace
}  // namespace sluice::detail
