// RocksDB state backend benchmark.
//   build/release/bench/rocks_bench [--events N] [--gb] [--dir D]
// 1. Per-key updates: a keyed process function counting rows per key in a ValueState<int64_t>,
//    run through the engine with the in-memory and the RocksDB backend (same process, same
//    events); prints events/s of both and their ratio.
// 2. Checkpoints and restores of 100 MB of keyed state (and 1 GB with --gb): fill, a full native
//    checkpoint, an incremental one after 1% of the keys changed (files and bytes copied), a
//    restore from it (hard links + opening the database; and copying every file first, as from
//    another filesystem), and the key-group byte-stream path (snapshot of every key group,
//    restore into a fresh backend) for comparison.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench_common.h"
#include "sluice/detail/rocksdb_state_backend.h"
#include "sluice/sluice.h"

using sluice::bench::CountSink;
using sluice::bench::mix;
using sluice::bench::seconds_of;

namespace {

namespace fs = std::filesystem;
using Backend = sluice::detail::RocksDbStateBackend<uint64_t>;

struct Event {
  uint64_t key;
  int64_t value;
};

struct CountPerKey {
  sluice::ValueState<int64_t> count;
  void open(sluice::RuntimeContext& ctx) {
    count = ctx.state<sluice::ValueState<int64_t>>("count");
  }
  void process(const Event&, sluice::ProcessContext<uint64_t>& ctx,
               sluice::Collector<std::pair<uint64_t, int64_t>>& out) {
    const int64_t n = count.value_or(0) + 1;
    count.update(n);
    out.emit({ctx.key(), n});
  }
};

double run_updates(sluice::StateBackendKind kind, const std::string& dir, uint64_t events,
                   uint64_t keys, int64_t* checksum) {
  sluice::JobOptions o;
  o.parallelism = 1;
  o.workers = 2;
  o.state_backend = kind;
  o.state_dir = dir;
  sluice::Environment env(o);
  std::atomic<int64_t> total{0};
  env.generate(events,
               [keys](uint64_t i) {
                 return Event{mix(i) % keys, 1};
               })
      .key_by([](const Event& e) { return e.key; })
      .process(CountPerKey{})
      .sink(CountSink{&total});
  sluice::Status s;
  const double t = seconds_of([&] { s = env.execute("rocks bench"); });
  if (!s.is_ok()) {
    std::fprintf(stderr, "job failed: %s\n", s.to_string().c_str());
    std::exit(1);
  }
  *checksum = total.load();
  return t;
}

std::unique_ptr<Backend> open_backend(const std::string& dir) {
  auto b = Backend::open(dir, 128);
  if (!b) {
    std::fprintf(stderr, "%s\n", b.status().to_string().c_str());
    std::exit(1);
  }
  return std::move(*b);
}

// Incompressible bytes, so that the state's size on disk is its logical size.
std::string value_of(uint64_t k, uint64_t round, size_t size) {
  std::string v(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    const uint64_t word = mix(k * 1'000'003 + round * 7919 + i);
    std::memcpy(v.data() + i, &word, std::min<size_t>(8, size - i));
  }
  return v;
}

void fail_if(bool failed, const char* what) {
  if (!failed) return;
  std::fprintf(stderr, "FAILED: %s\n", what);
  std::exit(1);
}

// `keys` values of `size` bytes; the key-group byte streams are measured too with `streams`.
void checkpoint_and_restore(const std::string& base, uint64_t keys, size_t size, bool streams) {
  const double mb = static_cast<double>(keys) * static_cast<double>(size) / 1e6;
  fs::remove_all(base);
  auto b = open_backend(base + "/work");
  auto v = b->tables().handle<sluice::ValueState<std::string>>("v", std::nullopt);
  const double fill = seconds_of([&] {
    for (uint64_t k = 0; k < keys; ++k) {
      b->set_current_key(k);
      v.update(value_of(k, 0, size));
      if (k % 1024 == 1023) b->cleanup_step();
    }
  });
  std::optional<sluice::Result<sluice::detail::RocksCheckpoint>> full_result;
  const double full_s =
      seconds_of([&] { full_result.emplace(b->checkpoint(base + "/chk-1", {})); });
  fail_if(!*full_result, "full checkpoint");
  const sluice::detail::RocksCheckpoint& full = **full_result;
  for (uint64_t k = 0; k < keys; k += 100) {  // 1% of the keys change
    b->set_current_key(k);
    v.update(value_of(k, 1, size));
  }
  b->cleanup_step();
  std::optional<sluice::Result<sluice::detail::RocksCheckpoint>> incr_result;
  const double incr_s =
      seconds_of([&] { incr_result.emplace(b->checkpoint(base + "/chk-2", full.files)); });
  fail_if(!*incr_result, "incremental checkpoint");
  const sluice::detail::RocksCheckpoint& incr = **incr_result;

  auto restored = open_backend(base + "/restored");
  auto rv = restored->tables().handle<sluice::ValueState<std::string>>("v", std::nullopt);
  sluice::Status rs;
  const double restore_s =
      seconds_of([&] { rs = restored->restore_checkpoint(incr.files, 0, 127); });
  fail_if(!rs.is_ok(), "restore");
  // The same when the checkpoint is on another filesystem: every file is copied first.
  auto copied = open_backend(base + "/copied");
  copied->tables().handle<sluice::ValueState<std::string>>("v", std::nullopt);
  const double copy_restore_s = seconds_of([&] {
    std::vector<std::string> files;
    fs::create_directories(base + "/copy-of-chk");
    for (const std::string& f : incr.files) {
      files.push_back(base + "/copy-of-chk/" + fs::path(f).filename().string());
      fs::copy_file(f, files.back());
    }
    rs = copied->restore_checkpoint(files, 0, 127);
  });
  fail_if(!rs.is_ok(), "restore from copies");
  copied.reset();
  for (uint64_t k = 0; k < keys; k += keys / 97) {
    restored->set_current_key(k);
    const std::string* got = rv.get();
    fail_if(got == nullptr || *got != value_of(k, k % 100 == 0 ? 1 : 0, size), "restored value");
  }

  std::printf("%8.0f MB %10llu keys x %zu B: fill %6.1f s (%.3fM puts/s)\n", mb,
              static_cast<unsigned long long>(keys), size, fill,
              static_cast<double>(keys) / fill / 1e6);
  std::printf("  native checkpoint, full        %7.3f s  %3d files copied, %8.1f MB\n", full_s,
              full.files_copied, static_cast<double>(full.bytes_copied) / 1e6);
  std::printf(
      "  native checkpoint, incremental %7.3f s  %3d files copied, %8.1f MB; %d SST files "
      "reused\n",
      incr_s, incr.files_copied, static_cast<double>(incr.bytes_copied) / 1e6, incr.files_reused);
  std::printf("  native restore (hard links)    %7.3f s\n", restore_s);
  std::printf("  native restore (copying files) %7.3f s\n", copy_restore_s);
  if (!streams) {
    fs::remove_all(base);
    return;
  }
  // The key-group byte streams (any checkpoint format, any parallelism).
  std::vector<std::vector<char>> groups(128);
  const double snap_s = seconds_of([&] {
    for (int g = 0; g < 128; ++g) {
      sluice::StateWriter w(&groups[g]);
      b->snapshot(g, w);
    }
  });
  size_t stream_bytes = 0;
  for (const auto& g : groups) stream_bytes += g.size();
  b.reset();
  auto streamed = open_backend(base + "/streamed");
  streamed->tables().handle<sluice::ValueState<std::string>>("v", std::nullopt);
  const double stream_restore_s = seconds_of([&] {
    for (int g = 0; g < 128; ++g) {
      sluice::StateReader r(groups[g]);
      fail_if(!streamed->restore(g, r).is_ok(), "byte-stream restore");
    }
  });

  std::printf("  key-group snapshot (128 groups) %6.3f s  %8.1f MB of byte streams\n", snap_s,
              static_cast<double>(stream_bytes) / 1e6);
  std::printf("  key-group restore               %6.3f s\n", stream_restore_s);
  fs::remove_all(base);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t events = 300'000;
  bool gigabyte = false;
  std::string dir = (fs::temp_directory_path() / "sluice-rocks-bench").string();
  std::string command = argv[0];
  for (int i = 1; i < argc; ++i) {
    command += std::string(" ") + argv[i];
    if (std::strcmp(argv[i], "--events") == 0 && i + 1 < argc) {
      command += std::string(" ") + argv[i + 1];
      events = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--gb") == 0) {
      gigabyte = true;
    } else if (std::strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
      command += std::string(" ") + argv[i + 1];
      dir = argv[++i];
    }
  }
  std::printf("Sluice RocksDB state backend benchmark.\ncommand: %s\n\n", command.c_str());

  std::printf("Per-key updates (count per key in ValueState<int64_t>, parallelism 1):\n");
  std::printf("%-10s %12s %14s %14s %8s\n", "keys", "events", "memory ev/s", "rocksdb ev/s",
              "ratio");
  std::printf("(ratio = rocksdb ev/s / memory ev/s)\n");
  for (uint64_t keys : {uint64_t{10'000}, uint64_t{1'000'000}}) {
    int64_t mem_sum = 0, rocks_sum = 0;
    const double mem = run_updates(sluice::StateBackendKind::kMemory, dir, events, keys, &mem_sum);
    const double rocks =
        run_updates(sluice::StateBackendKind::kRocksDb, dir, events, keys, &rocks_sum);
    fail_if(mem_sum != rocks_sum, "checksums of the two backends differ");
    std::printf("%-10llu %12llu %13.2fM %13.3fM %8.4f\n", static_cast<unsigned long long>(keys),
                static_cast<unsigned long long>(events), events / mem / 1e6, events / rocks / 1e6,
                mem / rocks);
  }
  std::printf("\nCheckpoint and restore (one subtask, ValueState<std::string>, random bytes):\n");
  checkpoint_and_restore(dir + "/state", 250'000, 400, true);
  if (gigabyte) checkpoint_and_restore(dir + "/state", 1'000'000, 1000, false);
  return 0;
}
