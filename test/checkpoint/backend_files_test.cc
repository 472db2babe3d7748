// Backend files in checkpoints: stored as they are, reused (hard-linked) by a later checkpoint
// only when they are the very same file, kept alive by retention while a checkpoint names them,
// and verified by checksum when loaded.
#include "checkpoint/backend_files.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "checkpoint/checkpoint_storage.h"
#include "checkpoint/local_directory_store.h"
#include "checkpoint/test_dir.h"

namespace sluice::checkpoint {
namespace {

namespace fs = std::filesystem;

const std::vector<NodeLayout> kNodes = {{0, "process", 1, "process"}};

void write_text(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

ino_t inode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

// One subtask's backend files: `files` (paths), named "s0/<file name>".
std::vector<SubtaskState> with_files(const std::vector<std::string>& files) {
  std::vector<SubtaskState> states(1);
  for (const std::string& f : files) {
    states[0].snapshot.files.push_back({f, "s0/" + fs::path(f).filename().string(), -1});
  }
  return states;
}

class BackendFiles : public ::testing::Test {
 protected:
  std::string staged(const std::string& name, const std::string& text) {
    const std::string path = dir_.path() + "/staging/" + std::to_string(++n_) + "/" + name;
    write_text(path, text);
    return path;
  }
  std::string stored(uint64_t id, const std::string& name) {
    return LocalDirectoryStore(dir_.path() + "/checkpoints").path_of(id) + "/n0-f/s0/" + name;
  }

  testing::TempDir dir_;
  CheckpointStorage storage_{std::make_unique<LocalDirectoryStore>(dir_.path() + "/checkpoints")};
  int n_ = 0;
};

TEST_F(BackendFiles, TheSameSstFileIsLinkedNotCopiedAgain) {
  const std::string sst = staged("000007.sst", "immutable rows");
  auto first = with_files({sst, staged("MANIFEST-000005", "a")});
  ASSERT_TRUE(storage_.write(1, 16, kNodes, first));
  EXPECT_EQ(storage_.last_write().files_copied, 2);
  // The next cut stages the same SST file (a link to it) and a new one.
  const std::string again = dir_.path() + "/staging/again/000007.sst";
  fs::create_directories(fs::path(again).parent_path());
  fs::create_hard_link(sst, again);
  auto second =
      with_files({again, staged("000009.sst", "newer rows"), staged("MANIFEST-000005", "ab")});
  ASSERT_TRUE(storage_.write(2, 16, kNodes, second));
  EXPECT_EQ(storage_.last_write().files_reused, 1);
  EXPECT_EQ(storage_.last_write().files_copied, 2);
  EXPECT_EQ(inode_of(stored(1, "000007.sst")), inode_of(stored(2, "000007.sst")));

  // Retention deletes checkpoint 1; checkpoint 2 still holds and verifies every file.
  storage_.retain(1);
  EXPECT_EQ(storage_.complete_ids(), std::vector<uint64_t>{2});
  std::vector<std::string> warnings;
  auto cp = storage_.load_latest(&warnings);
  ASSERT_TRUE(cp.has_value());
  EXPECT_TRUE(warnings.empty());
  ASSERT_EQ(cp->nodes[0].files.size(), 3u);
  EXPECT_EQ(read_text(stored(2, "000007.sst")), "immutable rows");
  EXPECT_EQ(read_text(stored(2, "MANIFEST-000005")), "ab");
}

TEST_F(BackendFiles, ASameNamedSstFileWithOtherBytesIsStoredAfresh) {
  // After a restore at another parallelism a subtask's database may come from another old
  // subtask, whose file numbers repeat a name: same name, same size, other rows.
  auto first = with_files({staged("000007.sst", "rows of subtask 0")});
  ASSERT_TRUE(storage_.write(1, 16, kNodes, first));
  auto second = with_files({staged("000007.sst", "rows of subtask 1")});
  ASSERT_TRUE(storage_.write(2, 16, kNodes, second));
  EXPECT_EQ(storage_.last_write().files_reused, 0);
  EXPECT_EQ(read_text(stored(2, "000007.sst")), "rows of subtask 1");
}

TEST_F(BackendFiles, ACorruptBackendFileMakesTheCheckpointBeSkipped) {
  auto first = with_files({staged("000007.sst", "good rows")});
  ASSERT_TRUE(storage_.write(1, 16, kNodes, first));
  auto second = with_files({staged("000008.sst", "more rows")});
  ASSERT_TRUE(storage_.write(2, 16, kNodes, second));
  write_text(stored(2, "000008.sst"), "MORE rows");  // same size, other bytes
  std::vector<std::string> warnings;
  auto cp = storage_.load_latest(&warnings);
  ASSERT_TRUE(cp.has_value());
  EXPECT_EQ(cp->id, 1u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("000008.sst does not match its checksum"), std::string::npos)
      << warnings[0];
}

}  // namespace
}  // namespace sluice::checkpoint
