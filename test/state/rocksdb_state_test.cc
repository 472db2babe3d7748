// What only the RocksDB state backend does: native incremental checkpoints (only new SST files are
// copied), restores from them keeping the owner's key groups, TTL applied by compaction, and its
// selection per job with `state.backend` and `state.dir`.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sluice/sluice.h"
#include "state/state_test_util.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using Backend = detail::RocksDbStateBackend<uint64_t>;

std::unique_ptr<Backend> open_backend(const TempDir& dir, int max_parallelism = 128) {
  auto b = Backend::open(detail::subtask_state_dir(dir.path(), "rocks", 0), max_parallelism);
  if (!b) throw std::runtime_error(b.status().message());
  return std::move(*b);
}

int count_sst(const std::vector<std::string>& files, const std::string& under) {
  int n = 0;
  for (const std::string& f : files) {
    n += fs::path(f).extension() == ".sst" && f.starts_with(under);
  }
  return n;
}

// Rows of a state as stored (expired ones included until compaction drops them).
int64_t stored_rows(Backend& b, const std::string& state) {
  int64_t n = 0;
  b.store().find(state)->scan("", [&](std::string_view, std::string_view) { ++n; });
  return n;
}

void write_values(Backend& b, uint64_t first, uint64_t count) {
  auto v = b.tables().handle<ValueState<int64_t>>("v", std::nullopt);
  for (uint64_t k = first; k < first + count; ++k) {
    b.set_current_key(k);
    v.update(static_cast<int64_t>(k) * 3);
  }
  b.cleanup_step();
}

TEST(RocksDbStateTest, IncrementalCheckpointCopiesOnlyNewFiles) {
  TempDir dir;
  auto b = open_backend(dir);
  write_values(*b, 0, 20'000);
  const std::string first_dir = dir.path() + "/chk-1";
  Result<detail::RocksCheckpoint> first = b->checkpoint(first_dir, {});
  ASSERT_TRUE(first) << first.status().to_string();
  const int first_ssts = count_sst(first->files, first_dir);
  EXPECT_GE(first_ssts, 1);
  EXPECT_EQ(first->files_reused, 0);

  write_values(*b, 20'000, 20'000);
  const std::string second_dir = dir.path() + "/chk-2";
  Result<detail::RocksCheckpoint> second = b->checkpoint(second_dir, first->files);
  ASSERT_TRUE(second) << second.status().to_string();
  // The first checkpoint's SST files are referenced, not copied; one new file holds the new rows.
  EXPECT_EQ(second->files_reused, first_ssts);
  EXPECT_EQ(count_sst(second->files, first_dir), first_ssts);
  EXPECT_EQ(count_sst(second->files, second_dir), 1);

  // Nothing changed: no SST file is copied.
  Result<detail::RocksCheckpoint> third = b->checkpoint(dir.path() + "/chk-3", second->files);
  ASSERT_TRUE(third);
  EXPECT_EQ(count_sst(third->files, dir.path() + "/chk-3"), 0);
  EXPECT_EQ(third->files_reused, first_ssts + 1);

  // The second checkpoint restores every row.
  auto restored = open_backend(dir);
  auto v = restored->tables().handle<ValueState<int64_t>>("v", std::nullopt);
  ASSERT_TRUE(restored->restore_checkpoint(second->files, 0, 127).is_ok());
  for (uint64_t k = 0; k < 40'000; k += 997) {
    restored->set_current_key(k);
    EXPECT_EQ(v.value(), static_cast<int64_t>(k) * 3) << k;
  }
}

TEST(RocksDbStateTest, NativeRestoreKeepsTheKeyGroupsOfEachNewSubtask) {
  constexpr int kMaxParallelism = 16;
  TempDir dir;
  auto original = open_backend(dir, kMaxParallelism);
  auto v = original->tables().handle<ValueState<int64_t>>("v", std::nullopt);
  auto l = original->tables().handle<ListState<int64_t>>("l", std::nullopt);
  auto m = original->tables().handle<MapState<int64_t, int64_t>>("m", std::nullopt);
  for (uint64_t k = 0; k < 1000; ++k) {
    original->set_current_key(k);
    v.update(static_cast<int64_t>(k));
    l.add(1);
    l.add(2);
    m.put(7, static_cast<int64_t>(k));
    if (k % 10 == 0) original->add_timer(TimeDomain::kEventTime, static_cast<Timestamp>(k));
  }
  Result<detail::RocksCheckpoint> cp = original->checkpoint(dir.path() + "/chk", {});
  ASSERT_TRUE(cp) << cp.status().to_string();

  // Two subtasks restore from the one checkpoint, each keeping the groups it owns.
  size_t values = 0, timers = 0;
  for (int subtask = 0; subtask < 2; ++subtask) {
    auto b = open_backend(dir, kMaxParallelism);
    auto bv = b->tables().handle<ValueState<int64_t>>("v", std::nullopt);
    auto bl = b->tables().handle<ListState<int64_t>>("l", std::nullopt);
    auto bm = b->tables().handle<MapState<int64_t, int64_t>>("m", std::nullopt);
    const int first = subtask * 8, last = first + 7;
    ASSERT_TRUE(b->restore_checkpoint(cp->files, first, last).is_ok());
    timers += b->timers().size();
    for (uint64_t k = 0; k < 1000; ++k) {
      const int group = detail::key_group_of(detail::hash_key(k), kMaxParallelism);
      b->set_current_key(k);
      const bool owned = group >= first && group <= last;
      EXPECT_EQ(bv.has_value(), owned) << k;
      if (!owned) continue;
      ++values;
      EXPECT_EQ(bv.value(), static_cast<int64_t>(k));
      EXPECT_EQ(bl.get(), (std::vector<int64_t>{1, 2}));
      EXPECT_EQ(bm.get(7), static_cast<int64_t>(k));
    }
  }
  EXPECT_EQ(values, 1000u);
  EXPECT_EQ(timers, 100u);
}

TEST(RocksDbStateTest, RestoreFromMissingOrForeignFilesFailsWithAMessage) {
  TempDir dir;
  auto b = open_backend(dir);
  b->tables().handle<ValueState<int64_t>>("v", std::nullopt);
  Status s = b->restore_checkpoint({}, 0, 127);  // no CURRENT, no MANIFEST
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("RocksDB checkpoint"), std::string::npos) << s.message();
  s = b->restore_checkpoint({dir.path() + "/no-such-file.sst"}, 0, 127);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("no-such-file.sst"), std::string::npos) << s.message();
  write_values(*b, 0, 10);  // the store is still usable
}

TEST(RocksDbStateTest, CompactionDropsExpiredEntries) {
  TempDir dir;
  auto b = open_backend(dir);
  const StateTtl ttl{.ttl = 100};
  auto v = b->tables().handle<ValueState<int64_t>>("v", ttl);
  auto m = b->tables().handle<MapState<int64_t, int64_t>>("m", ttl);
  auto l = b->tables().handle<ListState<int64_t>>("l", ttl);
  b->scope().processing_now = 1000;
  for (uint64_t k = 0; k < 1000; ++k) {
    b->set_current_key(k);
    v.update(1);
    m.put(1, 1);
    l.add(1);
  }
  b->scope().processing_now = 1050;
  for (uint64_t k = 0; k < 10; ++k) {  // ten keys get a younger list element and map entry
    b->set_current_key(k);
    m.put(2, 2);
    l.add(2);
  }
  b->cleanup_step();  // publishes the clock the compaction filter reads
  ASSERT_TRUE(b->store().compact().is_ok());
  EXPECT_EQ(stored_rows(*b, "v"), 1000);  // nothing expired yet

  b->scope().processing_now = 1120;  // the first writes are 120 ms old, the younger ones 70
  b->cleanup_step();
  ASSERT_TRUE(b->store().compact().is_ok());
  EXPECT_EQ(stored_rows(*b, "v"), 0);
  EXPECT_EQ(stored_rows(*b, "m"), 10);
  EXPECT_EQ(stored_rows(*b, "l"), 10);
  b->set_current_key(3);
  EXPECT_EQ(l.get(), std::vector<int64_t>{2});
  EXPECT_EQ(m.size(), 1u);
}

// ---- selection per job ----

struct Event {
  uint64_t key;
  int64_t value;
};

struct SumPerKey {
  ValueState<int64_t> sum;
  ListState<int64_t> recent;
  void open(RuntimeContext& ctx) {
    sum = ctx.state<ValueState<int64_t>>("sum");
    recent = ctx.state<ListState<int64_t>>("recent");
  }
  void process(const Event& e, ProcessContext<uint64_t>& ctx,
               Collector<std::pair<uint64_t, int64_t>>& out) {
    const int64_t s = sum.value_or(0) + e.value;
    sum.update(s);
    recent.add(e.value);
    out.emit({ctx.key(), s + static_cast<int64_t>(recent.size())});
  }
};

std::map<uint64_t, int64_t> run(const JobOptions& options, Status* status) {
  Environment env(options);
  std::vector<std::pair<uint64_t, int64_t>> out;
  env.generate(20'000,
               [](uint64_t i) {
                 return Event{(i * 7919) % 301, static_cast<int64_t>(i)};
               })
      .key_by([](const Event& e) { return e.key; })
      .process(SumPerKey{})
      .sink(sinks::collect(&out));
  *status = env.execute();
  std::map<uint64_t, int64_t> last;
  for (auto [k, s] : out) last[k] = std::max(last[k], s);
  return last;
}

TEST(RocksDbStateTest, JobOptionSelectsTheBackendAndItsDirectory) {
  TempDir dir;
  JobOptions memory;
  memory.parallelism = 2;
  Status s;
  const auto expected = run(memory, &s);
  ASSERT_TRUE(s.is_ok()) << s.to_string();

  JobOptions rocks = memory;
  ASSERT_TRUE(rocks.set("state.backend", "rocksdb"));
  ASSERT_TRUE(rocks.set("state.dir", dir.path()));
  EXPECT_EQ(run(rocks, &s), expected);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_TRUE(fs::is_empty(dir.path()));  // the subtasks' working directories are removed

  ASSERT_TRUE(rocks.set("state.dir", "/proc/no-such-place"));
  run(rocks, &s);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("state.dir"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace sluice
