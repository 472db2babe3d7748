// Options of a job. Every field has a default that runs on a laptop with nothing configured.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "sluice/status.h"

namespace sluice {

// How a running job reports progress on stderr (observe/progress_reporter.h).
enum class Progress {
  kAuto,  // a live status line on a terminal, periodic log lines otherwise
  kOn,    // the live status line even when stderr is not a terminal
  kOff,   // nothing
};
// Where keyed state lives: in hash maps in memory, or in RocksDB on disk (larger than memory,
// incremental checkpoints).
enum class StateBackendKind { kMemory, kRocksDb };

struct JobOptions {
  // Default parallelism of operators that do not set their own.
  int parallelism = 1;
  // Worker threads; 0 means one per core.
  int workers = 0;
  // Key groups: the most subtasks a keyed operator can ever have; fixed for the life of a job.
  int max_parallelism = 128;
  // Rows per batch.
  size_t batch_size = 1024;
  // A partial batch waits at most this long in an exchange before it is sent.
  int64_t flush_delay_us = 1000;
  // Batches a channel holds before its producer is backpressured (a power of two).
  size_t channel_capacity = 16;
  // Ctrl-C (SIGINT) and SIGTERM cancel the running job cleanly.
  bool handle_signals = true;
  // Where the job serves /metrics, /api/job and its dashboard: "host:port" (the next free port
  // when that one is taken; the address is logged at start-up), or "off".
  std::string metrics_address = "127.0.0.1:9249";
  Progress progress = Progress::kAuto;
  // Keyed state backend ("state.backend" = memory | rocksdb).
  StateBackendKind state_backend = StateBackendKind::kMemory;
  // Working directory of the RocksDB backend ("state.dir"); empty means a temporary directory.
  // Each operator subtask works in its own directory under it, removed when the job ends.
  std::string state_dir;

  // Checkpoints (docs/checkpoints.md): taken every `checkpoint_interval_us` (0: never) into
  // `checkpoint_dir`. A job started with a `checkpoint_dir` that holds a complete checkpoint
  // resumes from the latest one by itself. The newest `checkpoint_retain` are kept; one that is
  // not complete after `checkpoint_timeout_us` is abandoned.
  int64_t checkpoint_interval_us = 0;
  std::string checkpoint_dir;
  int checkpoint_retain = 3;
  int64_t checkpoint_timeout_us = 60'000'000;
  // A savepoint directory ("<dir>/savepoint-<id>", as a savepoint request returned it) the job
  // starts from instead of the latest checkpoint of `checkpoint_dir`; keyed operators may have
  // another parallelism than when it was taken. An in-process restart after a failure prefers a
  // checkpoint taken since.
  std::string savepoint_path;
  // Operators are matched to their state in a checkpoint or savepoint by their stable id (their
  // `.uid()`, else their name). State kept under an id the job no longer has fails the restore,
  // naming it, unless this is set ("savepoint.ignore_unclaimed_state"): then it is dropped.
  bool ignore_unclaimed_state = false;
  // After an operator failure the job restarts in-process from the latest checkpoint, at most
  // `restart_attempts` times, waiting `restart_backoff_us` before the first restart and twice as
  // long before each next one (at most a minute).
  int restart_attempts = 0;
  int64_t restart_backoff_us = 1'000'000;

  // Sets one option by its key, as `--set key=value` on a command line or `SET key = 'value';` in
  // SQL give it: "parallelism" = "4", "batch.flush_delay" = "2ms". Not OK, with a message that
  // names the key and what was expected, for an unknown key or a malformed value; the options are
  // unchanged then.
  Status set(std::string_view key, std::string_view value);
  // The same from one "key=value" text.
  Status set(std::string_view assignment);
  // The current value of an option in the form set() takes; empty for an unknown key.
  std::string get(std::string_view key) const;
  // state_dir, or when it is empty the temporary directory's "sluice-state".
  std::string effective_state_dir() const;
};

// One settable job option, for help texts and validation.
struct JobOptionInfo {
  std::string_view key;
  std::string_view kind;  // "integer", "size", "duration", "boolean", "text"
  std::string_view description;
};
std::span<const JobOptionInfo> job_option_keys();

// Parses a duration such as "250us", "500ms", "1s", "2m", "1h" or "1.5s" into microseconds.
// A bare number is milliseconds. Not OK for anything else, negative values included.
Result<int64_t> parse_duration_us(std::string_view text);

// Figures of a finished job.
struct JobStats {
  int tasks = 0;
  int channels = 0;
  // Batches allocated for exchanges; stays bounded whatever the input size (batches are reused).
  int64_t batches_allocated = 0;
  // The most envelopes any channel held, sampled by its producer after each push (once per
  // batch, never per row); backpressure keeps it at or below `channel_capacity`.
  size_t max_queue_depth = 0;
  double seconds = 0;
  // Checkpoints of the run (all attempts): completed, failed (abandoned or not written), the
  // longest pause a task took for one (alignment + synchronous part), the checkpoint the last
  // attempt resumed from (0: none), and in-process restarts after failures.
  uint64_t checkpoints_completed = 0;
  uint64_t checkpoints_failed = 0;
  int64_t checkpoint_max_pause_us = 0;
  int64_t checkpoint_max_sync_us = 0;       // the longest synchronous part alone
  int64_t checkpoint_last_duration_us = 0;  // trigger to manifest in place, last periodic one
  uint64_t checkpoint_last_bytes = 0;       // stored (compressed), last periodic one
  uint64_t restored_from = 0;
  int restarts = 0;
  // Set when the job was stopped with a savepoint (Environment::stop_with_savepoint): its path.
  std::string stopped_with_savepoint;
};

}  // namespace sluice
