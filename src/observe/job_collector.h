// JobCollector: the data-path figures of the running job (runtime/job_metrics.h) as Prometheus
// metric families. It reads the single-writer counters at scrape time and sums nothing on the
// data path; each operator and task subtask is one labelled series.
//
// Thread-safety: attach()/detach() and Collect() from any thread; detach() waits for a Collect()
// in progress, after which the job's metrics may be freed.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "runtime/job_metrics.h"

namespace sluice::observe {

class JobCollector final : public prometheus::Collectable {
 public:
  void attach(const runtime::JobMetrics* job);
  void detach();
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable std::mutex mutex_;
  const runtime::JobMetrics* job_ = nullptr;  // guarded by mutex_
};

}  // namespace sluice::observe
