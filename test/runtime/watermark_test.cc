// Watermarks across exchanges: an operator's watermark is the minimum over its inputs, never goes
// back, never lets an on-time row arrive late, and reaches kMaxTimestamp when the stream ends.
#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sluice/sluice.h"

namespace sluice {
namespace {

// Concatenates with a stream (GCC 12 at -O3 warns falsely, -Wrestrict, on "literal" + std::string).
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

struct Row {
  uint64_t i;
  Timestamp ts;
};

// What the probes saw, shared by every subtask under one lock (test code, not the data path).
struct WatermarkLog {
  std::mutex mutex;
  std::map<int, Timestamp> upstream;  // upstream subtask -> last watermark it sent on
  struct Downstream {
    std::vector<Timestamp> watermarks;
    std::vector<Timestamp> rows;
    std::vector<std::string> problems;
    bool ended = false;
  };
  std::map<int, Downstream> downstream;
};

// Upstream of the exchange: notes each watermark before passing it on, so a downstream subtask
// can never see a watermark before it is noted here.
class UpstreamProbe final : public detail::Operator {
 public:
  explicit UpstreamProbe(std::shared_ptr<WatermarkLog> log) : log_(std::move(log)) {}
  void open() override {
    std::lock_guard<std::mutex> lock(log_->mutex);
    log_->upstream[info_.subtask] = kMinTimestamp;
  }
  void process(int, detail::BatchBase& batch) override { out_->emit(batch); }
  void on_watermark(Timestamp w) override {
    {
      std::lock_guard<std::mutex> lock(log_->mutex);
      log_->upstream[info_.subtask] = w;
    }
    out_->emit_watermark(w);
  }

 private:
  std::shared_ptr<WatermarkLog> log_;
};

// Downstream of the exchange: records rows and watermarks in arrival order and checks each
// watermark against what every upstream subtask has sent so far.
class DownstreamRecorder final : public detail::Operator {
 public:
  explicit DownstreamRecorder(std::shared_ptr<WatermarkLog> log) : log_(std::move(log)) {}
  void open() override {
    std::lock_guard<std::mutex> lock(log_->mutex);
    log_->downstream[info_.subtask];
  }
  void process(int, detail::BatchBase& batch) override {
    const auto& rows = detail::batch_cast<Row>(batch).rows;
    std::lock_guard<std::mutex> lock(log_->mutex);
    auto& d = log_->downstream[info_.subtask];
    const Timestamp w = d.watermarks.empty() ? kMinTimestamp : d.watermarks.back();
    for (const Row& r : rows) {
      if (r.ts <= w) {
        d.problems.push_back(cat("row ", r.ts, " after watermark ", w));
      }
      d.rows.push_back(r.ts);
    }
    out_->emit(batch);
  }
  void on_watermark(Timestamp w) override {
    {
      std::lock_guard<std::mutex> lock(log_->mutex);
      auto& d = log_->downstream[info_.subtask];
      Timestamp min_upstream = kMaxTimestamp;
      for (auto& [s, uw] : log_->upstream) min_upstream = std::min(min_upstream, uw);
      if (w > min_upstream) {
        d.problems.push_back(cat("watermark ", w, " above the upstream minimum ", min_upstream));
      }
      if (!d.watermarks.empty() && w <= d.watermarks.back()) {
        d.problems.push_back(cat("watermark ", w, " after ", d.watermarks.back()));
      }
      if (d.ended) d.problems.push_back("watermark after the end");
      d.watermarks.push_back(w);
    }
    out_->emit_watermark(w);
  }
  void on_end() override {
    {
      std::lock_guard<std::mutex> lock(log_->mutex);
      log_->downstream[info_.subtask].ended = true;
    }
    out_->emit_end();
  }

 private:
  std::shared_ptr<WatermarkLog> log_;
};

enum class Edge { kForward, kRebalance, kHash };

struct Case {
  int upstream;
  int downstream;
  Edge edge;
  size_t batch_size;
};

class WatermarkTest : public ::testing::TestWithParam<Case> {};

TEST_P(WatermarkTest, MinimumOverInputsMonotonicAndMaxAtEnd) {
  const Case c = GetParam();
  constexpr uint64_t kRows = 40'000;
  JobOptions o;
  o.batch_size = c.batch_size;
  o.handle_signals = false;
  o.parallelism = c.upstream;
  Environment env(o);
  auto log = std::make_shared<WatermarkLog>();
  // Subtask 1 of the source (odd rows) is slowed down now and then, so the two inputs of each
  // downstream subtask drift apart and a wrong merge (say, the maximum) lets rows arrive late.
  auto timed =
      env.generate(kRows,
                   [](uint64_t i) {
                     if (i % 2 == 1 && i % 1024 == 1) {
                       std::this_thread::sleep_for(std::chrono::microseconds(300));
                     }
                     return Row{i, static_cast<Timestamp>(i)};
                   })
          .assign_timestamps([](const Row& r) { return r.ts; }, 0)
          .add<Row>("upstream probe", [log] { return std::make_unique<UpstreamProbe>(log); });
  Stream<Row> edge = timed;
  if (c.edge == Edge::kRebalance) edge = timed.rebalance();
  if (c.edge == Edge::kHash) edge = timed.partition_by([](const Row& r) { return r.i % 97; });
  edge.add<Row>("recorder", [log] { return std::make_unique<DownstreamRecorder>(log); })
      .parallelism(c.downstream);
  Status s = env.execute();
  ASSERT_TRUE(s.is_ok()) << s.to_string();

  ASSERT_EQ(static_cast<int>(log->downstream.size()), c.downstream);
  std::vector<Timestamp> all_rows;
  for (auto& [subtask, d] : log->downstream) {
    SCOPED_TRACE(cat("downstream subtask ", subtask));
    EXPECT_TRUE(d.ended);
    for (size_t k = 0; k < std::min<size_t>(d.problems.size(), 5); ++k)
      ADD_FAILURE() << d.problems[k];
    ASSERT_FALSE(d.watermarks.empty());
    EXPECT_EQ(d.watermarks.back(), kMaxTimestamp);
    EXPECT_EQ(std::count(d.watermarks.begin(), d.watermarks.end(), kMaxTimestamp), 1);
    EXPECT_GT(d.watermarks.size(), 2u) << "watermarks advance while the stream runs";
    all_rows.insert(all_rows.end(), d.rows.begin(), d.rows.end());
  }
  std::sort(all_rows.begin(), all_rows.end());
  ASSERT_EQ(all_rows.size(), kRows);
  for (uint64_t i = 0; i < kRows; ++i) ASSERT_EQ(all_rows[i], static_cast<Timestamp>(i));
}

INSTANTIATE_TEST_SUITE_P(
    All, WatermarkTest,
    ::testing::Values(Case{2, 2, Edge::kRebalance, 64}, Case{2, 1, Edge::kForward, 64},
                      Case{2, 2, Edge::kHash, 64}, Case{2, 2, Edge::kRebalance, 1},
                      Case{4, 2, Edge::kHash, 1024}, Case{1, 1, Edge::kForward, 64}),
    [](const auto& info) {
      const Case& c = info.param;
      const char* e = c.edge == Edge::kForward     ? "forward"
                      : c.edge == Edge::kRebalance ? "rebalance"
                                                   : "hash";
      return cat(c.upstream, "to", c.downstream, "_", e, "_batch", c.batch_size);
    });

// An ended input stops holding the watermark back: the other input's watermarks get through.
TEST(WatermarkMergeTest, EndedInputNoLongerHoldsTheWatermarkBack) {
  JobOptions o;
  o.batch_size = 16;
  o.handle_signals = false;
  Environment env(o);
  auto log = std::make_shared<WatermarkLog>();
  auto short_stream = env.generate(10,
                                   [](uint64_t i) {
                                     return Row{i, static_cast<Timestamp>(i)};
                                   })
                          .assign_timestamps([](const Row& r) { return r.ts; }, 0);
  GeneratorOptions slow;
  slow.rate = 2000;  // rows per second: runs well past the short stream's end
  auto long_stream = env.generate(
                            400,
                            [](uint64_t i) {
                              return Row{i + 1000, static_cast<Timestamp>(i + 1000)};
                            },
                            slow)
                         .assign_timestamps([](const Row& r) { return r.ts; }, 0);
  short_stream.union_with(long_stream).add<Row>("recorder", [log] {
    return std::make_unique<DownstreamRecorder>(log);
  });
  Status s = env.execute();
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  auto& d = log->downstream[0];
  for (const std::string& p : d.problems) ADD_FAILURE() << p;
  // Watermarks between the short stream's end and the long one's: only the long one's count.
  const auto between = std::count_if(d.watermarks.begin(), d.watermarks.end(),
                                     [](Timestamp w) { return w > 1000 && w < kMaxTimestamp; });
  EXPECT_GT(between, 3);
  EXPECT_EQ(d.watermarks.back(), kMaxTimestamp);
}

}  // namespace
}  // namespace sluice
