// Counting at operator boundaries, once per batch (see operator_metrics.h for the costs).
//
// A batch handed from operator A to operator B is counted as A's output and B's input: chain
// links count both; a MeteredOutput wraps the output at the end of a chain (an exchange) and
// counts the last operator's output; the task counts its head operator's input. Each emitted
// batch is stamped with the ingestion time of the input the task is working on, so latency
// survives operators that build new batches.
//
// Thread-safety: used by the owning task's thread only.
#pragma once

#include <chrono>

#include "runtime/job_metrics.h"
#include "sluice/detail/operator.h"

namespace sluice::runtime {

int64_t monotonic_us();

inline int64_t wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// `batch` arrives at the operator counting into `m`; a sink also records its latency, as of the
// start of the task's slice (at most a few batches late; the histograms count milliseconds).
inline void count_input(detail::OperatorMetrics& m, const detail::BatchBase& batch,
                        const TaskMetrics& task) {
  const uint64_t n = batch.size();
  m.records_in.add(n);
  m.bytes_in.add(n * batch.row_bytes);
  if (m.ingest_latency == nullptr || n == 0) return;
  if (batch.ingest_us != 0) {
    m.ingest_latency->observe(static_cast<double>(task.now_us - batch.ingest_us) / 1000.0, n);
  }
  const int64_t t = batch.last_time();
  if (t != INT64_MIN) {
    m.event_latency->observe(static_cast<double>(task.now_us / 1000 + task.wall_offset_ms - t), n);
  }
}

inline void count_output(detail::OperatorMetrics& m, detail::BatchBase& batch,
                         const TaskMetrics& task) {
  const uint64_t n = batch.size();
  m.records_out.add(n);
  m.bytes_out.add(n * batch.row_bytes);
  batch.ingest_us = task.ingest_us;
}

// A side output (late records, a process function's tagged output) counts apart from the main
// output, whose figures chain links and the next operator's input must agree with.
inline void count_side_output(detail::OperatorMetrics& m, detail::BatchBase& batch,
                              const TaskMetrics& task) {
  m.side_records_out.add(batch.size());
  batch.ingest_us = task.ingest_us;
}

class MeteredOutput final : public detail::Output {
 public:
  enum class Port { kMain, kSide };
  MeteredOutput(detail::Output* inner, detail::OperatorMetrics* metrics, const TaskMetrics* task,
                Port port = Port::kMain)
      : inner_(inner), metrics_(metrics), task_(task), port_(port) {}

  void emit(detail::BatchBase& batch) override {
    if (port_ == Port::kMain) {
      count_output(*metrics_, batch, *task_);
    } else {
      count_side_output(*metrics_, batch, *task_);
    }
    inner_->emit(batch);
  }
  void emit_watermark(Timestamp watermark) override {
    if (port_ == Port::kMain) metrics_->watermark.set(watermark);
    inner_->emit_watermark(watermark);
  }
  void emit_idle(bool idle) override { inner_->emit_idle(idle); }
  void emit_barrier(uint64_t checkpoint_id) override { inner_->emit_barrier(checkpoint_id); }
  void emit_end() override { inner_->emit_end(); }
  void set_now(int64_t now_us) override { inner_->set_now(now_us); }
  bool flush_due(int64_t now_us) override { return inner_->flush_due(now_us); }
  int64_t flush_deadline() const override { return inner_->flush_deadline(); }
  void flush() override { inner_->flush(); }
  bool blocked() override { return inner_->blocked(); }

 private:
  detail::Output* inner_;
  detail::OperatorMetrics* metrics_;
  const TaskMetrics* task_;
  Port port_;
};

}  // namespace sluice::runtime
