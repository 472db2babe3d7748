// The position of a file source in a checkpoint: a restored subtask goes on at the line after
// the last one it emitted (same file, byte offset, line number), across files, and refuses a
// position that no longer matches its input.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "checkpoint/test_dir.h"
#include "operators/window_test_util.h"
#include "sluice/connectors/file_sources.h"

namespace sluice {
namespace {

using Source = detail::FileSource<std::string, detail::TextFormat>;
using TextOut = testing::CollectOutput<std::string>;

class FileSourcePositionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int f = 0; f < 3; ++f) {
      std::ofstream out(dir_.path() + "/in-" + std::to_string(f) + ".txt", std::ios::binary);
      for (int i = 0; i < 25; ++i) {
        const std::string line = "file " + std::to_string(f) + " line " + std::to_string(i + 1);
        all_.push_back(line);
        out << line << (i % 2 == 0 ? "\r\n" : "\n");
      }
    }
  }
  // A subtask of a source over the directory, opened, emitting into `out`.
  std::unique_ptr<Source> make(TextOut* out, int subtask = 0, int parallelism = 1) {
    auto shared = detail::FileSourceShared::make(dir_.path(), {}, "read_text");
    auto s = std::make_unique<Source>(shared, detail::TextFormat());
    s->set_info(detail::OperatorInfo{"read_text", subtask, parallelism, 128, 10});
    s->set_output(out);
    s->open();
    return s;
  }
  static detail::OperatorRestore restore_of(const detail::OperatorSnapshot& snap) {
    detail::OperatorRestore in;
    in.operator_states.push_back(snap.operator_state);
    return in;
  }

  testing::TempDir dir_;
  std::vector<std::string> all_;
};

TEST_F(FileSourcePositionTest, ResumesAfterTheLastLineEmitted) {
  // Batches of 10 lines: stop after 3 polls, inside the second file.
  for (int polls = 1; polls <= 7; ++polls) {
    TextOut first;
    auto source = make(&first);
    for (int i = 0; i < polls; ++i) source->poll(0);
    detail::OperatorSnapshot snap;
    source->snapshot_state(1, snap);
    EXPECT_NE(snap.offsets.find("in-"), std::string::npos) << snap.offsets;

    TextOut rest;
    auto resumed = make(&rest);
    ASSERT_TRUE(resumed->restore_state(restore_of(snap)).is_ok());
    while (resumed->poll(0) != detail::SourceState::kEnd) {
    }
    std::vector<std::string> got = first.rows;
    got.insert(got.end(), rest.rows.begin(), rest.rows.end());
    EXPECT_EQ(got, all_) << "after " << polls << " polls";
  }
}

TEST_F(FileSourcePositionTest, LineNumbersGoOnAfterARestore) {
  TextOut first;
  auto source = make(&first);
  source->poll(0);  // lines 1..10 of in-0.txt
  detail::OperatorSnapshot snap;
  source->snapshot_state(1, snap);
  EXPECT_NE(snap.offsets.find("line 10"), std::string::npos) << snap.offsets;
  // A CSV source resumed there reports its bad line with the file's own line number.
  auto shared = detail::FileSourceShared::make(dir_.path(), {}, "read_csv");
  auto parse = [](const CsvRow& r) { return r.int64(0); };
  using Csv = detail::FileSource<int64_t, detail::CsvFormat<int64_t, decltype(parse)>>;
  testing::CollectOutput<int64_t> out;
  Csv csv(shared, detail::CsvFormat<int64_t, decltype(parse)>(parse, ',', false));
  csv.set_info(detail::OperatorInfo{"read_csv", 0, 1, 128, 10});
  csv.set_output(&out);
  csv.open();
  ASSERT_TRUE(csv.restore_state(restore_of(snap)).is_ok());
  try {
    csv.poll(0);
    FAIL() << "a non-number was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("in-0.txt line 11"), std::string::npos) << e.what();
  }
}

TEST_F(FileSourcePositionTest, ReadsAFileAddedSinceAndRefusesOneGone) {
  TextOut first;
  auto source = make(&first);
  for (int i = 0; i < 4; ++i) source->poll(0);  // into in-1.txt
  detail::OperatorSnapshot snap;
  source->snapshot_state(1, snap);

  // A file added since is a split the checkpoint does not hold: read from its start.
  std::ofstream(dir_.path() + "/in-00.txt") << "new\n";
  TextOut rest;
  auto grown = make(&rest);
  ASSERT_TRUE(grown->restore_state(restore_of(snap)).is_ok());
  while (grown->poll(0) != detail::SourceState::kEnd) {
  }
  std::vector<std::string> got = first.rows;
  got.insert(got.end(), rest.rows.begin(), rest.rows.end());
  std::vector<std::string> expected = all_;
  expected.push_back("new");
  std::sort(got.begin(), got.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(got, expected);
  std::filesystem::remove(dir_.path() + "/in-00.txt");

  // The file being read is gone: refused, naming it.
  std::filesystem::rename(dir_.path() + "/in-1.txt", dir_.path() + "/.moved");
  TextOut none;
  Status gone = make(&none)->restore_state(restore_of(snap));
  EXPECT_FALSE(gone.is_ok());
  EXPECT_NE(gone.message().find("in-1.txt"), std::string::npos) << gone.message();
  EXPECT_NE(gone.message().find("read_text"), std::string::npos) << gone.message();
  std::filesystem::rename(dir_.path() + "/.moved", dir_.path() + "/in-1.txt");

  // The file cut shorter than the position: the restore is accepted, the read fails clearly.
  std::ofstream(dir_.path() + "/in-1.txt", std::ios::trunc) << "short\n";
  auto cut = make(&rest);
  ASSERT_TRUE(cut->restore_state(restore_of(snap)).is_ok());
  try {
    cut->poll(0);
    FAIL() << "a file shorter than its position was read";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("shorter"), std::string::npos) << e.what();
  }
}

TEST_F(FileSourcePositionTest, EverySubtaskKeepsItsOwnPosition) {
  std::vector<std::string> got;
  for (int s = 0; s < 2; ++s) {
    TextOut first;
    auto source = make(&first, s, 2);
    source->poll(0);
    detail::OperatorSnapshot snap;
    source->snapshot_state(1, snap);
    detail::OperatorRestore in;
    in.old_parallelism = 2;
    in.operator_states.resize(2);
    in.operator_states[static_cast<size_t>(s)] = snap.operator_state;
    TextOut rest;
    auto resumed = make(&rest, s, 2);
    ASSERT_TRUE(resumed->restore_state(in).is_ok());
    while (resumed->poll(0) != detail::SourceState::kEnd) {
    }
    got.insert(got.end(), first.rows.begin(), first.rows.end());
    got.insert(got.end(), rest.rows.begin(), rest.rows.end());
  }
  std::sort(got.begin(), got.end());
  std::vector<std::string> expected = all_;
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(got, expected);
}

}  // namespace
}  // namespace sluice
