// File sources as split sources: per-file watermarks in a job (a file far behind in event time
// has no late rows), and positions checkpointed before file sources had splits, restored at
// another parallelism.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "checkpoint/test_dir.h"
#include "operators/window_test_util.h"
#include "sluice/connectors/file_sources.h"
#include "sluice/sluice.h"

namespace sluice {
namespace {

struct Tick {
  int64_t time;
  int64_t n;
};

constexpr int kRowsPerFile = 3000;

// a.csv is 1,000 s ahead of b.csv in event time; read in that order by one subtask.
void write_files(const std::string& dir) {
  for (auto [name, base] : {std::pair{"a.csv", 1'000'000}, std::pair{"b.csv", 0}}) {
    std::ofstream out(dir + "/" + name);
    for (int i = 0; i < kRowsPerFile; ++i) out << base + i * 10 << "," << i << "\n";
  }
}

WindowCounters count_windows(const std::string& dir, bool per_split, uint64_t* results) {
  JobOptions options = JobOptions();
  options.parallelism = 1;
  options.handle_signals = false;
  options.metrics_address = "off";
  options.progress = Progress::kOff;
  Environment env(options);
  auto ticks = read_csv(env, dir, [](const CsvRow& r) { return Tick{r.int64(0), r.int64(1)}; });
  auto ts = [](const Tick& t) { return t.time; };
  auto timed = per_split ? ticks.assign_timestamps(ts, 0)
                         : ticks.map([](const Tick& t) { return t; }).assign_timestamps(ts, 0);
  std::vector<WindowResult<int64_t, int64_t>> out;
  auto windows =
      timed.key_by([](const Tick&) { return int64_t{0}; }).window(Tumbling{1000}).count();
  windows.sink(sinks::collect(&out));
  Status s = env.execute();
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  int64_t total = 0;
  for (const auto& r : out) total += r.value;
  *results = static_cast<uint64_t>(total);
  return windows.stats()->totals();
}

TEST(FileSplitsTest, AFileFarBehindInEventTimeHasNoLateRows) {
  testing::TempDir dir;
  write_files(dir.path());
  uint64_t counted = 0;
  // On the source: a watermark per file, b.csv holds it back until a.csv is out.
  WindowCounters split = count_windows(dir.path(), true, &counted);
  EXPECT_EQ(split.late_dropped, 0u);
  EXPECT_EQ(counted, 2u * kRowsPerFile);
  // After a map: one watermark for the subtask, past all of b.csv once a.csv is read.
  WindowCounters subtask = count_windows(dir.path(), false, &counted);
  EXPECT_EQ(subtask.late_dropped, static_cast<uint64_t>(kRowsPerFile));
  EXPECT_EQ(counted, static_cast<uint64_t>(kRowsPerFile));
}

using Source = detail::FileSource<std::string, detail::TextFormat>;

// Positions as file sources wrote them before splits: per subtask of p, the file it was reading
// (index i ≡ subtask mod p, name), byte offset and line number.
std::vector<char> legacy_position(bool exhausted, uint64_t index, const std::string& name,
                                  uint64_t offset, uint64_t line) {
  std::vector<char> bytes;
  StateWriter w(&bytes);
  w.write(exhausted);
  w.write(index);
  w.write(name);
  w.write(offset);
  w.write(line);
  return bytes;
}

TEST(FileSplitsTest, APositionFromBeforeSplitsRestoresAtAnotherParallelism) {
  testing::TempDir dir;
  std::vector<std::string> files;
  std::vector<std::string> expected;
  for (int f = 0; f < 4; ++f) {
    files.push_back(dir.path() + "/in-" + std::to_string(f) + ".txt");
    std::ofstream out(files.back());
    for (int i = 1; i <= 20; ++i) out << "f" << f << " line " << i << "\n";
  }
  auto offset_after = [](int f, int lines) {  // bytes of the first `lines` lines of file f
    uint64_t n = 0;
    for (int i = 1; i <= lines; ++i)
      n += ("f" + std::to_string(f) + " line " + std::to_string(i)).size() + 1;
    return n;
  };
  // Old parallelism 2: subtask 0 (files 0, 2) had read file 0 and 7 lines of file 2; subtask 1
  // (files 1, 3) 12 lines of file 1.
  detail::OperatorRestore in;
  in.old_parallelism = 2;
  in.operator_states = {legacy_position(false, 2, files[2], offset_after(2, 7), 7),
                        legacy_position(false, 1, files[1], offset_after(1, 12), 12)};
  for (int i = 8; i <= 20; ++i) expected.push_back("f2 line " + std::to_string(i));
  for (int i = 13; i <= 20; ++i) expected.push_back("f1 line " + std::to_string(i));
  for (int i = 1; i <= 20; ++i) expected.push_back("f3 line " + std::to_string(i));
  std::sort(expected.begin(), expected.end());

  for (int p : {3, 1, 2}) {
    std::vector<std::string> got;
    for (int s = 0; s < p; ++s) {
      testing::CollectOutput<std::string> out;
      auto shared = detail::FileSourceShared::make(dir.path(), {}, "read_text");
      Source source(shared, detail::TextFormat());
      source.set_info(detail::OperatorInfo{"read_text", s, p, 128, 5});
      source.set_output(&out);
      source.open();
      Status restored = source.restore_state(in);
      ASSERT_TRUE(restored.is_ok()) << restored.to_string();
      while (source.poll(0) != detail::SourceState::kEnd) {
      }
      got.insert(got.end(), out.rows.begin(), out.rows.end());
    }
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, expected) << "at parallelism " << p;
  }

  // A list that changed under the old position is refused, naming the operator and the file.
  std::ofstream(dir.path() + "/in-00.txt") << "new\n";
  testing::CollectOutput<std::string> out;
  Source source(detail::FileSourceShared::make(dir.path(), {}, "read_text"), detail::TextFormat());
  source.set_info(detail::OperatorInfo{"read_text", 0, 1, 128, 5});
  source.set_output(&out);
  source.open();
  Status shifted = source.restore_state(in);
  EXPECT_FALSE(shifted.is_ok());
  EXPECT_NE(shifted.message().find("'read_text'"), std::string::npos) << shifted.message();
  EXPECT_NE(shifted.message().find("in-2.txt"), std::string::npos) << shifted.message();
}

}  // namespace
}  // namespace sluice
