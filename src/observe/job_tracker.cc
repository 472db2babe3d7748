#include "observe/job_tracker.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "runtime/metered_output.h"
#include "sluice/detail/text_writer.h"

namespace sluice::observe {
namespace {

double per_second(uint64_t later, uint64_t earlier, double seconds) {
  return seconds <= 0 || later < earlier ? 0 : static_cast<double>(later - earlier) / seconds;
}

// A number, or null for the "none" marker (negative) of latencies and lags.
std::string number_or_null(double v) { return v < 0 ? "null" : fmt::format("{:.3f}", v); }

std::string quoted(std::string_view s) {
  std::string out;
  detail::append_json_string(out, s);
  return out;
}

}  // namespace

JobTracker::~JobTracker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void JobTracker::start(const runtime::JobMetrics* job) {
  std::lock_guard<std::mutex> lock(mutex_);
  job_ = job;
  job_name_ = job->job_name;
  start_wall_ms_ = job->start_wall_ms;
  operators_ = job->operators;
  for (runtime::OperatorNode& op : operators_) op.subtasks.clear();  // not ours to keep
  edges_ = job->edges;
  state_ = "running";
  const size_t n = operators_.size();
  in_rate_.assign(n, 0);
  out_rate_.assign(n, 0);
  busy_.assign(n, 0);
  idle_.assign(n, 0);
  backpressured_.assign(n, 0);
  last_ = take_snapshot(*job_);
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void JobTracker::stop(std::string state) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  if (job_ != nullptr) sample();
  job_ = nullptr;
  state_ = std::move(state);
}

void JobTracker::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(interval_ms_), [&] { return stopping_; });
    if (!stopping_) sample();
  }
}

void JobTracker::sample() {
  JobSnapshot now = take_snapshot(*job_);
  const double seconds = static_cast<double>(now.monotonic_us - last_.monotonic_us) / 1e6;
  if (seconds <= 0) return;
  for (size_t i = 0; i < now.operators.size(); ++i) {
    const OperatorFigures& a = last_.operators[i];
    const OperatorFigures& b = now.operators[i];
    in_rate_[i] = per_second(b.records_in, a.records_in, seconds);
    out_rate_[i] = per_second(b.records_out, a.records_out, seconds);
    const double total = static_cast<double>((b.busy_us - a.busy_us) + (b.idle_us - a.idle_us) +
                                             (b.backpressured_us - a.backpressured_us));
    if (total > 0) {
      busy_[i] = static_cast<double>(b.busy_us - a.busy_us) / total;
      idle_[i] = static_cast<double>(b.idle_us - a.idle_us) / total;
      backpressured_[i] = static_cast<double>(b.backpressured_us - a.backpressured_us) / total;
    }
  }
  HistoryPoint p;
  p.wall_ms = now.wall_ms;
  p.in_per_s = per_second(now.source_records, last_.source_records, seconds);
  p.out_per_s = per_second(now.sink_records, last_.sink_records, seconds);
  const LatencyBuckets ingest = difference(now.ingest_latency, last_.ingest_latency);
  p.p50_ms = quantile_ms(ingest, 0.50);
  p.p99_ms = quantile_ms(ingest, 0.99);
  p.event_p99_ms = quantile_ms(difference(now.event_latency, last_.event_latency), 0.99);
  int64_t low = kMaxTimestamp;
  for (const OperatorFigures& f : now.operators) {
    if (f.watermark != kMinTimestamp) low = std::min(low, f.watermark);  // kMax: input ended
  }
  if (low != kMaxTimestamp) p.watermark_lag_ms = static_cast<double>(now.wall_ms - low);
  history_.push_back(p);
  if (history_.size() > kHistory) history_.pop_front();
  last_ = std::move(now);
}

void JobTracker::checkpoint(CheckpointRecord record) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++(record.completed ? checkpoints_completed_ : checkpoints_failed_);
  checkpoints_.push_back(std::move(record));
  if (checkpoints_.size() > kCheckpointHistory) checkpoints_.pop_front();
}

void JobTracker::error(std::string_view kind, std::string_view message) {
  std::lock_guard<std::mutex> lock(mutex_);
  errors_.push_back(ErrorRecord{runtime::wall_clock_ms(), std::string(kind), std::string(message)});
  if (errors_.size() > kErrorHistory) errors_.pop_front();
}

HistoryPoint JobTracker::latest() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return history_.empty() ? HistoryPoint{} : history_.back();
}

CheckpointRecord JobTracker::last_checkpoint() const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = checkpoints_.rbegin(); it != checkpoints_.rend(); ++it) {
    if (it->completed) return *it;
  }
  return CheckpointRecord{};
}

std::string JobTracker::json() const {
  std::lock_guard<std::mutex> lock(mutex_);
  const int64_t now_ms = runtime::wall_clock_ms();
  std::string out = fmt::format(R"({{"job":{},"state":"{}","start_time_ms":{},"now_ms":{},)",
                                quoted(job_name_), state_, start_wall_ms_, now_ms);
  out += R"("operators":[)";
  for (size_t i = 0; i < operators_.size(); ++i) {
    const runtime::OperatorNode& op = operators_[i];
    const OperatorFigures& f = last_.operators.size() > i ? last_.operators[i] : OperatorFigures{};
    // No watermark yet, or the end of the input (kMaxTimestamp): nothing to show.
    const bool known = f.watermark != kMinTimestamp && f.watermark != kMaxTimestamp;
    if (i > 0) out += ',';
    out += fmt::format(
        R"({{"id":{},"name":{},"parallelism":{},"chain":{},"source":{},"sink":{},)"
        R"("records_in":{},"records_out":{},"side_records_out":{},"bytes_in":{},"bytes_out":{},)"
        R"("records_in_per_s":{:.1f},"records_out_per_s":{:.1f},)"
        R"("busy":{:.3f},"idle":{:.3f},"backpressured":{:.3f},"queue_depth":{},)"
        R"("watermark_ms":{},"watermark_lag_ms":{},)"
        R"("late_dropped":{},"dead_lettered":{},"bad_records":{},"state_bytes":{},"state_keys":{},)"
        R"("connector_lag":{}}})",
        i, quoted(op.name), op.parallelism, op.chain, op.is_source, op.is_sink, f.records_in,
        f.records_out, f.side_records_out, f.bytes_in, f.bytes_out,
        in_rate_.size() > i ? in_rate_[i] : 0.0, out_rate_.size() > i ? out_rate_[i] : 0.0,
        busy_.size() > i ? busy_[i] : 0.0, idle_.size() > i ? idle_[i] : 0.0,
        backpressured_.size() > i ? backpressured_[i] : 0.0, f.queue_depth,
        known ? std::to_string(f.watermark) : "null",
        known ? std::to_string(last_.wall_ms - f.watermark) : "null", f.late_dropped,
        f.dead_lettered, f.bad_records, f.state_bytes, f.state_keys,
        f.connector_lag >= 0 ? std::to_string(f.connector_lag) : "null");
  }
  out += R"(],"edges":[)";
  for (size_t i = 0; i < edges_.size(); ++i) {
    const runtime::EdgeNode& e = edges_[i];
    if (i > 0) out += ',';
    out += fmt::format(R"({{"from":{},"to":{},"partitioning":"{}","chained":{},"side_output":{}}})",
                       e.from, e.to, e.partitioning, e.chained, e.side_output);
  }
  const HistoryPoint live = history_.empty() ? HistoryPoint{} : history_.back();
  out += fmt::format(
      R"(],"throughput":{{"in_per_s":{:.1f},"out_per_s":{:.1f},"records_in":{},"records_out":{}}},)"
      R"("latency_ms":{{"p50":{},"p99":{},"event_time_p99":{},)"
      R"("total_p50":{},"total_p99":{}}},"watermark_lag_ms":{},"history":[)",
      live.in_per_s, live.out_per_s, last_.source_records, last_.sink_records,
      number_or_null(live.p50_ms), number_or_null(live.p99_ms), number_or_null(live.event_p99_ms),
      number_or_null(quantile_ms(last_.ingest_latency, 0.5)),
      number_or_null(quantile_ms(last_.ingest_latency, 0.99)),
      number_or_null(live.watermark_lag_ms));
  for (size_t i = 0; i < history_.size(); ++i) {
    const HistoryPoint& p = history_[i];
    if (i > 0) out += ',';
    out += fmt::format(R"({{"t":{},"in_per_s":{:.1f},"out_per_s":{:.1f},"p50_ms":{},"p99_ms":{},)"
                       R"("event_p99_ms":{},"watermark_lag_ms":{}}})",
                       p.wall_ms, p.in_per_s, p.out_per_s, number_or_null(p.p50_ms),
                       number_or_null(p.p99_ms), number_or_null(p.event_p99_ms),
                       number_or_null(p.watermark_lag_ms));
  }
  out += fmt::format(R"(],"checkpoints":{{"completed":{},"failed":{},"history":[)",
                     checkpoints_completed_, checkpoints_failed_);
  for (size_t i = 0; i < checkpoints_.size(); ++i) {
    const CheckpointRecord& c = checkpoints_[i];
    if (i > 0) out += ',';
    out += fmt::format(
        R"({{"id":{},"status":"{}","time_ms":{},"duration_ms":{:.3f},"alignment_ms":{:.3f},)"
        R"("bytes":{},"reason":{}}})",
        c.id, c.completed ? "completed" : "failed", c.wall_ms, c.duration_us / 1000.0,
        c.alignment_us / 1000.0, c.bytes, quoted(c.reason));
  }
  out += R"(]},"exceptions":[)";
  for (size_t i = 0; i < errors_.size(); ++i) {
    const ErrorRecord& e = errors_[i];
    if (i > 0) out += ',';
    out += fmt::format(R"({{"time_ms":{},"kind":{},"message":{}}})", e.wall_ms, quoted(e.kind),
                       quoted(e.message));
  }
  out += "]}";
  return out;
}

}  // namespace sluice::observe
