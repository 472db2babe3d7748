// The checkpoint directory: what is written reads back; corrupt, partial and unwritable
// checkpoints are detected and never count.
#include "checkpoint/checkpoint_storage.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "checkpoint/local_directory_store.h"
#include "checkpoint/test_dir.h"

namespace sluice::checkpoint {
namespace {

namespace fs = std::filesystem;

std::vector<SubtaskState> sample_states(char fill) {
  std::vector<SubtaskState> states(2);
  states[0].node = 0;
  states[0].subtask = 0;
  states[0].snapshot.operator_state = {fill, 1, 2};
  states[0].snapshot.offsets = "next index 42";
  states[1].node = 1;
  states[1].subtask = 0;
  states[1].snapshot.key_groups.push_back({5, std::vector<char>(1000, fill)});
  states[1].snapshot.key_groups.push_back({9, {fill}});
  return states;
}

const std::vector<NodeLayout> kNodes = {{0, "generator", 1, "generator"},
                                        {1, "window sum", 1, "window sum"}};

// Checkpoints in local directories under `dir`.
struct LocalStorage : CheckpointStorage {
  explicit LocalStorage(const std::string& dir)
      : CheckpointStorage(std::make_unique<LocalDirectoryStore>(dir)) {}
  LocalDirectoryStore& local() { return static_cast<LocalDirectoryStore&>(store()); }
  std::string path_of(uint64_t id) { return local().path_of(id); }
};

TEST(CheckpointStorage, WhatIsWrittenReadsBack) {
  testing::TempDir dir;
  LocalStorage storage(dir.path());
  auto states = sample_states('a');
  Result<WrittenCheckpoint> written = storage.write(7, 16, kNodes, states);
  ASSERT_TRUE(written) << written.status().to_string();
  EXPECT_GT(written->bytes, 0u);
  EXPECT_EQ(written->location, storage.path_of(7));
  std::vector<std::string> warnings;
  auto cp = storage.load_latest(&warnings);
  ASSERT_TRUE(cp.has_value());
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(cp->id, 7u);
  EXPECT_EQ(cp->max_parallelism, 16);
  ASSERT_EQ(cp->nodes.size(), 2u);
  EXPECT_EQ(cp->nodes[1].name, "window sum");
  EXPECT_EQ(cp->nodes[0].operator_states[0], (std::vector<char>{'a', 1, 2}));
  EXPECT_EQ(cp->nodes[0].offsets[0], "next index 42");
  EXPECT_EQ(cp->nodes[1].key_groups[5], std::vector<char>(1000, 'a'));
  EXPECT_EQ(cp->nodes[1].key_groups[9], std::vector<char>{'a'});
}

TEST(CheckpointStorage, CorruptCheckpointIsSkippedForThePreviousOneWithAWarning) {
  testing::TempDir dir;
  LocalStorage storage(dir.path());
  auto first = sample_states('a');
  auto second = sample_states('b');
  ASSERT_TRUE(storage.write(1, 16, kNodes, first));
  ASSERT_TRUE(storage.write(2, 16, kNodes, second));
  {  // flip a byte of a state file of checkpoint 2
    std::fstream f(storage.path_of(2) + "/n1-g5", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3);
    f.put('\x7f');
  }
  std::vector<std::string> warnings;
  auto cp = storage.load_latest(&warnings);
  ASSERT_TRUE(cp.has_value());
  EXPECT_EQ(cp->id, 1u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("chk-00000000000000000002"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("n1-g5 does not match its checksum"), std::string::npos)
      << warnings[0];

  // A truncated manifest fails its own checksum.
  fs::resize_file(storage.path_of(1) + "/MANIFEST", 40);
  warnings.clear();
  EXPECT_FALSE(storage.load_latest(&warnings).has_value());
  EXPECT_EQ(warnings.size(), 2u);
}

TEST(CheckpointStorage, ADirectoryWithoutManifestNeverCounts) {
  testing::TempDir dir;
  LocalStorage storage(dir.path());
  auto states = sample_states('a');
  ASSERT_TRUE(storage.write(1, 16, kNodes, states));
  fs::create_directories(storage.path_of(2));  // a crash before the manifest was renamed
  std::ofstream(storage.path_of(2) + "/n0-s0") << "partial";
  std::vector<std::string> warnings;
  auto cp = storage.load_latest(&warnings);
  ASSERT_TRUE(cp.has_value());
  EXPECT_EQ(cp->id, 1u);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(storage.complete_ids(), std::vector<uint64_t>{1});
}

TEST(CheckpointStorage, RetainKeepsTheNewest) {
  testing::TempDir dir;
  LocalStorage storage(dir.path());
  for (uint64_t id = 1; id <= 5; ++id) {
    auto states = sample_states('a');
    ASSERT_TRUE(storage.write(id, 16, kNodes, states));
  }
  fs::create_directories(storage.path_of(3) + "x");  // not a checkpoint name: left alone
  storage.retain(2);
  EXPECT_EQ(storage.complete_ids(), (std::vector<uint64_t>{4, 5}));
}

TEST(CheckpointStorage, AWriteFailureLeavesNoCheckpointBehind) {
  testing::TempDir dir;
  LocalStorage storage(dir.path());
  auto states = sample_states('a');
  ASSERT_TRUE(storage.write(1, 16, kNodes, states));
  int files = 0;
  storage.local().set_fault_injector([&](const std::string& path) {
    if (++files == 2) return Status::io_error("cannot write " + path + ": No space left on device");
    return Status::ok();
  });
  auto more = sample_states('b');
  Result<WrittenCheckpoint> failed = storage.write(2, 16, kNodes, more);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.status().message().find("No space left"), std::string::npos);
  EXPECT_FALSE(fs::exists(storage.path_of(2)));
  std::vector<std::string> warnings;
  EXPECT_EQ(storage.load_latest(&warnings)->id, 1u);
}

TEST(CheckpointStorage, AReadOnlyDirectoryFailsTheWrite) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into read-only directories";
  testing::TempDir dir;
  fs::permissions(dir.path(), fs::perms::owner_read | fs::perms::owner_exec);
  LocalStorage storage(dir.path());
  auto states = sample_states('a');
  EXPECT_FALSE(storage.write(1, 16, kNodes, states));
  fs::permissions(dir.path(), fs::perms::owner_all);
}

}  // namespace
}  // namespace sluice::checkpoint
