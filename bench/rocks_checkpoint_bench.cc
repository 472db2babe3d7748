// RocksDB state in the job's checkpoints: a keyed process function holding ~100 MB (or ~1 GB
// with --gb) of RocksDB state, checkpointed every second while it fills, then a new job resuming
// from the final checkpoint.
//
//   build/release/bench/rocks_checkpoint_bench [--gb] [--dir D]
//
// Prints, for the filling job: checkpoints taken, the last periodic one's duration (trigger to
// manifest in place) and the bytes it stored afresh (incremental: SST files an earlier
// checkpoint holds are hard-linked), the worst synchronous part and the worst pause (alignment
// + synchronous part); the size of the final checkpoint; and the recovery time: the whole run of
// a job that resumes from it (manifest and checksums verified, files linked into the state
// directory, the database opened, key groups outside the subtask's range dropped) and has
// nothing left to read.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "bench_common.h"
#include "sluice/sluice.h"

namespace {

namespace fs = std::filesystem;
using sluice::bench::CountSink;
using sluice::bench::mix;
using sluice::bench::seconds_of;

constexpr size_t kValueBytes = 100;

struct Event {
  uint64_t key;
};

// A 100-byte value per key, drawn from the key (incompressible enough to keep its size on disk).
struct StoreBlob {
  sluice::ValueState<std::string> blob;
  void open(sluice::RuntimeContext& ctx) {
    blob = ctx.state<sluice::ValueState<std::string>>("blob");
  }
  void process(const Event& e, sluice::ProcessContext<uint64_t>&,
               sluice::Collector<std::pair<uint64_t, int64_t>>&) {
    std::string v(kValueBytes, '\0');
    uint64_t h = e.key;
    for (size_t i = 0; i + 8 <= v.size(); i += 8) {
      h = mix(h + i);
      std::memcpy(v.data() + i, &h, 8);
    }
    blob.update(std::move(v));
  }
};

struct Outcome {
  double seconds = 0;
  sluice::JobStats stats;
};

Outcome run(const std::string& dir, uint64_t keys) {
  sluice::JobOptions o;
  o.parallelism = 2;
  o.workers = 2;
  (void)o.set("state.backend", "rocksdb");
  (void)o.set("state.dir", dir + "/state");
  (void)o.set("checkpoint.dir", dir + "/checkpoints");
  (void)o.set("checkpoint.interval", "1s");
  sluice::Environment env(o);
  std::atomic<int64_t> total{0};
  env.generate(keys, [](uint64_t i) { return Event{mix(i)}; })
      .parallelism(1)
      .key_by([](const Event& e) { return e.key; })
      .process(StoreBlob{})
      .sink(CountSink{&total});
  Outcome out;
  sluice::Status s;
  out.seconds = seconds_of([&] { s = env.execute("rocksdb state"); });
  if (!s.is_ok()) {
    std::printf("FAILED: %s\n", s.to_string().c_str());
    std::exit(1);
  }
  out.stats = env.stats();
  return out;
}

uint64_t bytes_under(const fs::path& dir) {
  uint64_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) n += e.file_size();
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  bool gb = false;
  std::string dir = (fs::temp_directory_path() / "sluice-rocks-checkpoint-bench").string();
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--gb") == 0) gb = true;
    if (std::strcmp(argv[i], "--dir") == 0 && i + 1 < argc) dir = argv[++i];
  }
  // A key's row: 10 B of key, 100 B of value, 8 B of TTL stamp, plus RocksDB's per-entry costs.
  const uint64_t keys = gb ? 8'000'000 : 800'000;
  fs::remove_all(dir);
  std::printf(
      "rocks_checkpoint_bench: %llu keys x %zu B values, parallelism 2, checkpoint every "
      "1 s\n",
      static_cast<unsigned long long>(keys), kValueBytes);
  const Outcome fill = run(dir, keys);
  const sluice::JobStats& s = fill.stats;
  std::printf("fill: %.1f s, %llu checkpoints (%llu failed)\n", fill.seconds,
              static_cast<unsigned long long>(s.checkpoints_completed),
              static_cast<unsigned long long>(s.checkpoints_failed));
  std::printf("  last periodic checkpoint: %.1f ms trigger to manifest, %.1f MB stored afresh\n",
              static_cast<double>(s.checkpoint_last_duration_us) / 1e3,
              static_cast<double>(s.checkpoint_last_bytes) / 1e6);
  std::printf("  worst synchronous part %.1f ms, worst pause (alignment + synchronous) %.1f ms\n",
              static_cast<double>(s.checkpoint_max_sync_us) / 1e3,
              static_cast<double>(s.checkpoint_max_pause_us) / 1e3);
  uint64_t final_bytes = 0;
  for (const auto& e : fs::directory_iterator(dir + "/checkpoints")) {
    final_bytes = std::max(final_bytes, bytes_under(e.path()));
  }
  std::printf("  largest retained checkpoint: %.1f MB of RocksDB files\n", final_bytes / 1e6);
  const Outcome restore = run(dir, keys);
  std::printf("recovery: %.2f s (a job resuming from checkpoint %llu, nothing left to read)\n",
              restore.seconds, static_cast<unsigned long long>(restore.stats.restored_from));
  std::printf("reproduce: nice build/release/bench/rocks_checkpoint_bench%s\n", gb ? " --gb" : "");
  fs::remove_all(dir);
  return 0;
}
