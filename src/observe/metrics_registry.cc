#include "observe/metrics_registry.h"

#include "observe/metric_names.h"
#include "prometheus/text_serializer.h"

namespace sluice::observe {
namespace {

template <typename Builder>
auto& build(Builder builder, const MetricName& m, prometheus::Registry& registry) {
  return builder.Name(m.name).Help(m.help).Register(registry);
}

const prometheus::Histogram::BucketBoundaries& checkpoint_buckets() {
  static const prometheus::Histogram::BucketBoundaries b = {0.01, 0.05, 0.1, 0.5, 1,   2,
                                                            5,    10,   30,  60,  120, 300};
  return b;
}

}  // namespace

MetricsRegistry::MetricsRegistry(std::string job_name)
    : job_name_(std::move(job_name)),
      checkpoints_(build(prometheus::BuildCounter(), metric::kCheckpoints, registry_)),
      duration_(build(prometheus::BuildHistogram(), metric::kCheckpointDuration, registry_)),
      alignment_(build(prometheus::BuildHistogram(), metric::kCheckpointAlignment, registry_)),
      size_(build(prometheus::BuildGauge(), metric::kCheckpointSize, registry_)),
      errors_(build(prometheus::BuildCounter(), metric::kErrors, registry_)) {
  // Series that exist from the start, so rates and dashboards see zeros rather than nothing.
  checkpoints_.Add({{"sluice_job", job_name_}, {"status", "completed"}});
  checkpoints_.Add({{"sluice_job", job_name_}, {"status", "failed"}});
  for (const char* kind : {"source", "operator", "sink", "checkpoint"}) {
    errors_.Add({{"sluice_job", job_name_}, {"kind", kind}});
  }
}

void MetricsRegistry::checkpoint_completed(int64_t duration_us, int64_t alignment_us,
                                           uint64_t bytes) {
  checkpoints_.Add({{"sluice_job", job_name_}, {"status", "completed"}}).Increment();
  duration_.Add({{"sluice_job", job_name_}}, checkpoint_buckets())
      .Observe(static_cast<double>(duration_us) / 1e6);
  alignment_.Add({{"sluice_job", job_name_}}, checkpoint_buckets())
      .Observe(static_cast<double>(alignment_us) / 1e6);
  size_.Add({{"sluice_job", job_name_}}).Set(static_cast<double>(bytes));
}

void MetricsRegistry::checkpoint_failed() {
  checkpoints_.Add({{"sluice_job", job_name_}, {"status", "failed"}}).Increment();
  errors_.Add({{"sluice_job", job_name_}, {"kind", "checkpoint"}}).Increment();
}

void MetricsRegistry::error(std::string_view kind) {
  errors_.Add({{"sluice_job", job_name_}, {"kind", std::string(kind)}}).Increment();
}

std::string MetricsRegistry::text() const {
  std::vector<prometheus::MetricFamily> families = registry_.Collect();
  std::vector<prometheus::MetricFamily> job = job_.Collect();
  families.insert(families.end(), std::make_move_iterator(job.begin()),
                  std::make_move_iterator(job.end()));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace sluice::observe
