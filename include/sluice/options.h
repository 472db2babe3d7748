// Options of a job. Every field has a default that runs on a laptop with nothing configured.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice {

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
};

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
};

}  // namespace sluice
