// Checkpoint storage behind its interface (checkpoint_store.h): a store that is not a directory
// — objects in memory under "memory:" locations, backend files handed back as copies in a local
// staging directory, as an object store would — holds checkpoints and savepoints in the same
// format, and a job on RocksDB state checkpoints into it and restores from it after a failure.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <sstream>
#include <string>

#include "checkpoint/checkpoint_storage.h"
#include "checkpoint/job_checkpointing.h"
#include "checkpoint/sums_job.h"
#include "checkpoint/test_dir.h"
#include "runtime/job_runner.h"
#include "sluice/sluice.h"

namespace sluice::checkpoint {
namespace {

namespace fs = std::filesystem;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// The objects of every MemoryStore of a test: location -> committed checkpoint.
struct Bucket {
  struct Checkpoint {
    std::map<std::string, std::string> files;
    std::string manifest;
  };
  std::mutex mutex;
  std::map<std::string, Checkpoint> committed;  // guarded by mutex
  int staged = 0;                               // backend files copied out; guarded by mutex
};

class MemoryWriter final : public CheckpointWriter {
 public:
  MemoryWriter(Bucket* bucket, std::string location, EarlierFiles earlier)
      : bucket_(bucket), location_(std::move(location)), earlier_(std::move(earlier)) {}

  const std::string& location() const override { return location_; }
  Status write_file(const std::string& name, std::string_view bytes) override {
    pending_.files[name] = std::string(bytes);
    return Status::ok();
  }
  Result<StoredFile> store_backend_file(const std::string& source,
                                        const std::string& name) override {
    const std::string bytes = read_text(source);
    SLUICE_ASSIGN_OR_RETURN(uint64_t sum, checksum_of_file(source));
    auto it = earlier_.files.find(name);
    if (it != earlier_.files.end() && it->second.checksum == sum) {
      ++figures_.files_reused;  // a server-side copy of the earlier object
    } else {
      ++figures_.files_copied;
      figures_.bytes_copied += bytes.size();
    }
    pending_.files[name] = bytes;
    return StoredFile{bytes.size(), sum};
  }
  Status commit(std::string_view manifest) override {  // one put: atomic
    pending_.manifest = std::string(manifest);
    std::lock_guard<std::mutex> lock(bucket_->mutex);
    bucket_->committed[location_] = std::move(pending_);
    return Status::ok();
  }
  BackendFileFigures backend_files() const override { return figures_; }

 private:
  Bucket* bucket_;
  std::string location_;
  EarlierFiles earlier_;
  Bucket::Checkpoint pending_;  // invisible until committed
  BackendFileFigures figures_;
};

class MemoryReader final : public CheckpointReader {
 public:
  MemoryReader(Bucket* bucket, std::string location, std::string staging)
      : bucket_(bucket), location_(std::move(location)), staging_(std::move(staging)) {}

  const std::string& location() const override { return location_; }
  Result<std::string> read_manifest() override {
    std::lock_guard<std::mutex> lock(bucket_->mutex);
    auto it = bucket_->committed.find(location_);
    if (it == bucket_->committed.end()) return Status::not_found("no checkpoint at " + location_);
    return it->second.manifest;
  }
  Result<std::string> read_file(const std::string& name) override {
    std::lock_guard<std::mutex> lock(bucket_->mutex);
    auto cp = bucket_->committed.find(location_);
    if (cp == bucket_->committed.end()) return Status::not_found(location_);
    auto it = cp->second.files.find(name);
    if (it == cp->second.files.end()) return Status::not_found(location_ + " has no " + name);
    return it->second;
  }
  // Downloads the object into the staging directory, keeping its name.
  Result<std::string> local_path(const std::string& name) override {
    SLUICE_ASSIGN_OR_RETURN(std::string bytes, read_file(name));
    std::string flat = location_;
    for (char& c : flat) c = (c == '/' || c == ':') ? '_' : c;
    const std::string path = staging_ + "/" + flat + "/" + name;
    write_text(path, bytes);
    std::lock_guard<std::mutex> lock(bucket_->mutex);
    ++bucket_->staged;
    return path;
  }

 private:
  Bucket* bucket_;
  std::string location_;
  std::string staging_;
};

// Checkpoint `id` of store `name` is at "memory:<name>/chk-<id>".
class MemoryStore final : public CheckpointStore {
 public:
  MemoryStore(Bucket* bucket, const std::string& name, std::string staging)
      : bucket_(bucket), location_(name), staging_(std::move(staging)) {}

  const std::string& location() const override { return location_; }
  Status prepare() override { return Status::ok(); }
  std::vector<uint64_t> complete_ids() const override {
    std::vector<uint64_t> ids;
    const std::string prefix = location_ + "/chk-";
    std::lock_guard<std::mutex> lock(bucket_->mutex);
    for (const auto& [where, cp] : bucket_->committed) {
      if (where.starts_with(prefix)) ids.push_back(std::stoull(where.substr(prefix.size())));
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  Result<std::unique_ptr<CheckpointWriter>> begin(uint64_t id, EarlierFiles earlier) override {
    return writer(location_of(id), std::move(earlier));
  }
  Result<std::unique_ptr<CheckpointWriter>> begin_savepoint(const std::string& target, uint64_t id,
                                                            EarlierFiles earlier) override {
    return writer(target + "/savepoint-" + std::to_string(id), std::move(earlier));
  }
  Result<std::unique_ptr<CheckpointReader>> open(uint64_t id) const override {
    return open_location(location_of(id));
  }
  Result<std::unique_ptr<CheckpointReader>> open_location(
      const std::string& location) const override {
    return std::unique_ptr<CheckpointReader>(
        std::make_unique<MemoryReader>(bucket_, location, staging_));
  }
  void retain(size_t keep) override {
    const std::vector<uint64_t> ids = complete_ids();
    std::lock_guard<std::mutex> lock(bucket_->mutex);
    for (size_t i = 0; i + keep < ids.size(); ++i) bucket_->committed.erase(location_of(ids[i]));
  }

  std::string location_of(uint64_t id) const { return location_ + "/chk-" + std::to_string(id); }

 private:
  Result<std::unique_ptr<CheckpointWriter>> writer(std::string location, EarlierFiles earlier) {
    return std::unique_ptr<CheckpointWriter>(
        std::make_unique<MemoryWriter>(bucket_, std::move(location), std::move(earlier)));
  }

  Bucket* bucket_;
  std::string location_;
  std::string staging_;
};

const std::vector<NodeLayout> kNodes = {{0, "source", 1, "source"}, {1, "process", 1, "process"}};

// A source position, key groups, and the process function's backend files `files` (paths).
std::vector<SubtaskState> states_with(const std::vector<std::string>& files, char fill) {
  std::vector<SubtaskState> states(2);
  states[0].node = 0;
  states[0].snapshot.operator_state = {fill, 1, 2};
  states[0].snapshot.offsets = "next index 42";
  states[1].node = 1;
  states[1].snapshot.key_groups.push_back({5, std::vector<char>(1000, fill)});
  for (const std::string& f : files) {
    states[1].snapshot.files.push_back({f, "s0/" + fs::path(f).filename().string(), -1});
  }
  return states;
}

TEST(CheckpointStore, TheFormatIsWrittenAndReadThroughAStoreThatIsNotADirectory) {
  testing::TempDir tmp;
  Bucket bucket;
  const std::string staging = tmp.path() + "/staging";
  CheckpointStorage storage(std::make_unique<MemoryStore>(&bucket, "memory:jobs", staging));
  const std::string sst = tmp.path() + "/db/000007.sst";
  write_text(sst, "immutable rows");
  write_text(tmp.path() + "/db/MANIFEST-000005", "a");

  auto first = states_with({sst, tmp.path() + "/db/MANIFEST-000005"}, 'a');
  Result<WrittenCheckpoint> one = storage.write(1, 16, kNodes, first);
  ASSERT_TRUE(one) << one.status().to_string();
  EXPECT_EQ(one->location, "memory:jobs/chk-1");
  EXPECT_EQ(storage.last_write().files_copied, 2);
  write_text(tmp.path() + "/db/MANIFEST-000005", "ab");
  auto second = states_with({sst, tmp.path() + "/db/MANIFEST-000005"}, 'b');
  ASSERT_TRUE(storage.write(2, 16, kNodes, second));
  EXPECT_EQ(storage.last_write().files_reused, 1);  // the SST file, from checkpoint 1's manifest
  EXPECT_EQ(storage.complete_ids(), (std::vector<uint64_t>{1, 2}));

  storage.retain(1);
  EXPECT_EQ(storage.complete_ids(), std::vector<uint64_t>{2});
  std::vector<std::string> warnings;
  std::optional<LoadedCheckpoint> cp = storage.load_latest(&warnings);
  ASSERT_TRUE(cp.has_value());
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(cp->id, 2u);
  EXPECT_EQ(cp->dir, "memory:jobs/chk-2");
  EXPECT_EQ(cp->nodes[0].offsets[0], "next index 42");
  EXPECT_EQ(cp->nodes[1].key_groups[5], std::vector<char>(1000, 'b'));
  // Backend files come back as local copies that keep their names.
  ASSERT_EQ(cp->nodes[1].files.size(), 2u);
  for (const std::string& f : cp->nodes[1].files) {
    EXPECT_TRUE(f.starts_with(staging + "/")) << f;
    EXPECT_EQ(fs::path(f).parent_path().filename(), "s0") << f;
  }
  EXPECT_EQ(read_text(cp->nodes[1].files[0]), "immutable rows");
  EXPECT_EQ(read_text(cp->nodes[1].files[1]), "ab");

  // A savepoint goes to its own location and loads from there.
  auto third = states_with({sst}, 'c');
  Result<WrittenCheckpoint> saved = storage.write_savepoint("memory:saved", 3, 16, kNodes, third);
  ASSERT_TRUE(saved) << saved.status().to_string();
  EXPECT_EQ(saved->location, "memory:saved/savepoint-3");
  EXPECT_EQ(storage.complete_ids(), std::vector<uint64_t>{2});
  Result<LoadedCheckpoint> loaded = storage.load_location(saved->location);
  ASSERT_TRUE(loaded) << loaded.status().to_string();
  EXPECT_EQ(loaded->id, 3u);
}

TEST(CheckpointStore, ACorruptObjectMakesTheCheckpointBeSkippedWithAWarning) {
  testing::TempDir tmp;
  Bucket bucket;
  CheckpointStorage storage(std::make_unique<MemoryStore>(&bucket, "memory:jobs", tmp.path()));
  auto first = states_with({}, 'a');
  auto second = states_with({}, 'b');
  ASSERT_TRUE(storage.write(1, 16, kNodes, first));
  ASSERT_TRUE(storage.write(2, 16, kNodes, second));
  bucket.committed["memory:jobs/chk-2"].files["n1-g5"][3] ^= 0x7f;
  std::vector<std::string> warnings;
  std::optional<LoadedCheckpoint> cp = storage.load_latest(&warnings);
  ASSERT_TRUE(cp.has_value());
  EXPECT_EQ(cp->id, 1u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("memory:jobs/chk-2"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("n1-g5 does not match its checksum"), std::string::npos)
      << warnings[0];
}

using testing::expected_sums;
using testing::MaxSink;
using testing::Row;
using Sum = std::pair<uint64_t, int64_t>;

struct RunningSum {
  ValueState<int64_t> sum;
  void open(RuntimeContext& ctx) { sum = ctx.state<ValueState<int64_t>>("sum"); }
  void process(const Row& r, ProcessContext<uint64_t>& ctx, Collector<Sum>& out) {
    const int64_t s = sum.value_or(0) + r.value;
    sum.update(s);
    out.emit({ctx.key(), s});
  }
};

TEST(CheckpointStore, ARocksDbJobRestoresFromAStoreThatIsNotADirectory) {
  testing::TempDir tmp;
  Bucket bucket;
  JobCheckpointing checkpointing([&](const std::string& location) {
    return std::make_unique<MemoryStore>(&bucket, location, tmp.path() + "/staging");
  });
  JobOptions o;
  o.parallelism = 2;
  o.workers = 2;
  o.handle_signals = false;
  ASSERT_TRUE(o.set("checkpoint.interval", "50ms"));
  ASSERT_TRUE(o.set("checkpoint.dir", "memory:sums"));  // no such directory is ever made
  ASSERT_TRUE(o.set("state.backend", "rocksdb"));
  ASSERT_TRUE(o.set("state.dir", tmp.path() + "/state"));
  ASSERT_TRUE(o.set("restart.attempts", "2"));
  ASSERT_TRUE(o.set("restart.backoff", "10ms"));
  std::atomic<bool> fail_once{true};
  MaxSink sink;
  Environment env(o);
  testing::failing_input(env, &fail_once)
      .key_by([](const Row& r) { return r.key; })
      .process(RunningSum{})
      .sink(sink);
  runtime::JobRunner runner(env.graph(), o, nullptr, "memory sums", &checkpointing);
  Status s = runner.run();
  ASSERT_TRUE(s) << s.to_string();
  EXPECT_FALSE(fail_once.load());
  EXPECT_EQ(runner.stats().restarts, 1);
  EXPECT_GT(runner.stats().restored_from, 0u);
  EXPECT_EQ(sink.shared->max, expected_sums());

  std::lock_guard<std::mutex> lock(bucket.mutex);
  EXPECT_FALSE(bucket.committed.empty());
  EXPECT_GT(bucket.staged, 0) << "the restore read RocksDB files through local copies";
  EXPECT_FALSE(fs::exists("memory:sums"));
}

}  // namespace
}  // namespace sluice::checkpoint
