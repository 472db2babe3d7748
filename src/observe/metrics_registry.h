// MetricsRegistry: the one registry every Sluice metric is served from. Control-plane metrics
// (checkpoints, errors) are prometheus-cpp families in a prometheus::Registry, updated when the
// control plane reports; data-path metrics come from the JobCollector, read at scrape time. Names
// are in metric_names.h.
//
// Thread-safety: every method from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "observe/job_collector.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace sluice::observe {

class MetricsRegistry {
 public:
  explicit MetricsRegistry(std::string job_name);

  void attach(const runtime::JobMetrics* job) { job_.attach(job); }
  void detach() { job_.detach(); }

  void checkpoint_completed(int64_t duration_us, int64_t alignment_us, uint64_t bytes);
  void checkpoint_failed();
  void error(std::string_view kind);

  // Every metric in the Prometheus text exposition format (version 0.0.4).
  std::string text() const;

 private:
  std::string job_name_;
  prometheus::Registry registry_;
  JobCollector job_;
  prometheus::Family<prometheus::Counter>& checkpoints_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Histogram>& alignment_;
  prometheus::Family<prometheus::Gauge>& size_;
  prometheus::Family<prometheus::Counter>& errors_;
};

}  // namespace sluice::observe
