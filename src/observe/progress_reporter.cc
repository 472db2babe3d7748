#include "observe/progress_reporter.h"

#include <chrono>
#include <cstdio>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace sluice::observe {
namespace {

constexpr int kLiveEveryMs = 500;

std::string rate(double per_s) {
  if (per_s >= 1e6) return fmt::format("{:.2f}M/s", per_s / 1e6);
  if (per_s >= 1e3) return fmt::format("{:.1f}k/s", per_s / 1e3);
  return fmt::format("{:.0f}/s", per_s);
}

std::string millis(double ms) {
  if (ms < 0) return "-";
  if (ms >= 1000) return fmt::format("{:.2f} s", ms / 1000);
  return fmt::format("{:.1f} ms", ms);
}

}  // namespace

ProgressReporter::ProgressReporter(const JobTracker* tracker, Mode mode, int log_every_ms)
    : tracker_(tracker), mode_(mode), log_every_ms_(log_every_ms) {}

ProgressReporter::~ProgressReporter() { stop(); }

std::string ProgressReporter::format(const HistoryPoint& p, const CheckpointRecord& cp) {
  std::string line =
      fmt::format("in {}  out {}  p99 {}", rate(p.in_per_s), rate(p.out_per_s), millis(p.p99_ms));
  line += p.watermark_lag_ms < 0 ? "  watermark -"
                                 : fmt::format("  watermark lag {}", millis(p.watermark_lag_ms));
  line += cp.id == 0 ? "  checkpoint -"
                     : fmt::format("  checkpoint #{} {} ({} bytes)", cp.id,
                                   millis(static_cast<double>(cp.duration_us) / 1000), cp.bytes);
  return line;
}

void ProgressReporter::start() {
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void ProgressReporter::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (!thread_.joinable()) return;
  thread_.join();
  if (drew_) std::fputc('\n', stderr);
  drew_ = false;
}

void ProgressReporter::loop() {
  const int every = mode_ == Mode::kLiveLine ? kLiveEveryMs : log_every_ms_;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(every), [&] { return stopping_; });
    if (stopping_) break;
    const std::string text = format(tracker_->latest(), tracker_->last_checkpoint());
    if (mode_ == Mode::kLiveLine) {
      std::fprintf(stderr, "\r\033[K%s", text.c_str());  // rewrite the line in place
      std::fflush(stderr);
      drew_ = true;
    } else {
      spdlog::info("progress: {}", text);
    }
  }
}

}  // namespace sluice::observe
