// The coordinator's list of abandoned checkpoints, which tasks read to let their sinks abort:
// a declined checkpoint, one that timed out and one whose write failed are all in it, in order,
// and a checkpoint that completes is not.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "checkpoint/checkpoint_coordinator.h"
#include "checkpoint/local_directory_store.h"
#include "checkpoint/test_dir.h"

namespace sluice::checkpoint {
namespace {

constexpr int64_t kIntervalUs = 1'000;
constexpr int64_t kTimeoutUs = 10'000;

TEST(CheckpointCoordinator, AbandonedCheckpointsAreListedForTheTasks) {
  testing::TempDir dir;
  auto store = std::make_unique<LocalDirectoryStore>(dir.path());
  LocalDirectoryStore* disk = store.get();
  CheckpointCoordinator c(CheckpointConfig{kIntervalUs, dir.path(), 3, kTimeoutUs}, 128,
                          {{0, "sink", 1, "sink"}}, /*tasks=*/1, /*first_id=*/1, std::move(store));
  EXPECT_FALSE(c.tick(1));
  ASSERT_TRUE(c.tick(2'000));
  ASSERT_EQ(c.trigger_id(), 1u);
  c.decline(1, "a state without a serializer");
  EXPECT_EQ(c.abandoned_count(), 1u);

  ASSERT_TRUE(c.tick(4'000));
  ASSERT_EQ(c.trigger_id(), 2u);
  ASSERT_TRUE(c.tick(4'000 + kTimeoutUs + 1));  // 2 times out, 3 is triggered
  EXPECT_EQ(c.abandoned_count(), 2u);
  ASSERT_EQ(c.trigger_id(), 3u);

  disk->set_fault_injector([](const std::string& path) {
    return Status::io_error("injected: no space left writing " + path);
  });
  c.acknowledge(3, {}, 0, 0);
  c.drain();
  EXPECT_EQ(c.abandoned_count(), 3u);
  EXPECT_EQ(c.completed_id(), 0u);

  disk->set_fault_injector(nullptr);
  ASSERT_TRUE(c.tick(100'000));
  ASSERT_EQ(c.trigger_id(), 4u);
  c.acknowledge(4, {}, 0, 0);
  c.drain();
  EXPECT_EQ(c.completed_id(), 4u);
  EXPECT_EQ(c.abandoned_count(), 3u);
  EXPECT_EQ(c.abandoned_since(0), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(c.abandoned_since(2), (std::vector<uint64_t>{3}));
  EXPECT_TRUE(c.abandoned_since(3).empty());
  EXPECT_EQ(c.figures().failed, 3u);
}

TEST(CheckpointCoordinator, ACheckpointCutShortByTheEndOfTheJobIsAbandoned) {
  testing::TempDir dir;
  CheckpointCoordinator c(CheckpointConfig{kIntervalUs, dir.path(), 3, kTimeoutUs}, 128,
                          {{0, "sink", 1, "sink"}}, /*tasks=*/2, /*first_id=*/1,
                          std::make_unique<LocalDirectoryStore>(dir.path()));
  EXPECT_FALSE(c.tick(1));
  ASSERT_TRUE(c.tick(2'000));
  c.acknowledge(1, {}, 0, 0);  // one of two tasks prepared it
  const uint64_t final_id = c.final_id();
  EXPECT_EQ(final_id, 2u);
  EXPECT_EQ(c.abandoned_since(0), (std::vector<uint64_t>{1}));
}

}  // namespace
}  // namespace sluice::checkpoint
