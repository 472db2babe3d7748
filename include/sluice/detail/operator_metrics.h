// Data-path figures of one operator subtask, written by the thread running its task and read by
// whoever scrapes them (the metrics endpoint, the status line).
//
// Cost on the data path: every figure is a relaxed atomic with a single writer, updated with a
// plain load and store (no read-modify-write, no fence, no lock), and updated once per batch,
// never per row. Readers on other threads see each figure on its own, possibly a batch late; a
// scrape sums subtasks then, so nothing shared is ever written by two threads.
//
// End-to-end latency (operators that end a chain with no output, i.e. sinks): each batch carries
// the monotonic time at which the source produced the batch its rows came from (`ingest_us`, the
// oldest contributing input batch when an exchange merges rows). When a batch reaches a sink the
// task adds `now - ingest_us` to the ingestion-to-sink histogram once, weighted by the rows of the
// batch, and wall clock minus the event time of the batch's last row to the event-time histogram
// when rows carry event times. Two clock reads per sink batch; no per-row work.
//
// Thread-safety: add()/set()/observe() by the owning task's thread only; reads from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "sluice/time.h"

namespace sluice::detail {

// A counter with one writing thread: a relaxed load and store, no atomic read-modify-write.
class SingleWriterCounter {
 public:
  void add(uint64_t n) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  // For figures an operator already keeps as a running total of its own.
  void set_total(uint64_t n) { v_.store(n, std::memory_order_relaxed); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// A value with one writing thread (watermark, state size).
class SingleWriterGauge {
 public:
  explicit SingleWriterGauge(int64_t initial = 0) : v_(initial) {}
  void set(int64_t v) { v_.store(v, std::memory_order_relaxed); }
  int64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_;
};

// Latencies in milliseconds over fixed buckets (upper bounds, the last one +Inf), counted in rows.
// The sub-millisecond buckets resolve ingestion latency (microsecond clock) of an unloaded job;
// event-time latency has millisecond resolution and starts counting at 1 ms.
class LatencyHistogram {
 public:
  static constexpr std::array<double, 19> kBoundsMs = {0.05, 0.1,  0.25,  0.5,   1,    2,   5,
                                                       10,   20,   50,    100,   200,  500, 1000,
                                                       2000, 5000, 10000, 30000, 60000};
  static constexpr size_t kBuckets = kBoundsMs.size() + 1;

  void observe(double ms, uint64_t rows) {
    size_t b = 0;
    while (b < kBoundsMs.size() && ms > kBoundsMs[b]) ++b;
    buckets_[b].add(rows);
    sum_us_.add(static_cast<uint64_t>(ms < 0 ? 0 : ms * 1000) * rows);
  }
  // Rows in bucket `b` alone (not cumulative).
  uint64_t bucket(size_t b) const { return buckets_[b].get(); }
  double sum_ms() const { return static_cast<double>(sum_us_.get()) / 1000.0; }

 private:
  std::array<SingleWriterCounter, kBuckets> buckets_;
  SingleWriterCounter sum_us_;
};

struct OperatorMetrics {
  SingleWriterCounter records_in;
  SingleWriterCounter records_out;
  SingleWriterCounter bytes_in;  // rows times their in-memory row size
  SingleWriterCounter bytes_out;
  SingleWriterCounter side_records_out;        // all side outputs (late records, tagged outputs)
  SingleWriterGauge watermark{kMinTimestamp};  // the last watermark the operator emitted
  // Published by operators that know them (window operators, file sources).
  SingleWriterCounter late_dropped;
  SingleWriterCounter dead_lettered;
  SingleWriterCounter bad_records;
  SingleWriterGauge state_bytes;
  SingleWriterGauge state_keys;
  SingleWriterGauge connector_lag{-1};  // records a source has yet to read; -1: not known
  // Set on sinks only (see above).
  std::unique_ptr<LatencyHistogram> ingest_latency;
  std::unique_ptr<LatencyHistogram> event_latency;
};

}  // namespace sluice::detail
