// Patient vital signs: alert when a patient's heart rate stays above a limit for 30 seconds.
//
// A keyed process function per patient remembers, in a ValueState, since when the heart rate has
// been high, and sets an event-time timer 30 s later. A normal reading before then cancels the
// timer; if the timer fires, the rate was high for 30 s: an alert goes out. Readings that cannot
// be right (heart rate <= 0: a loose sensor) go to a side output instead.
//
//   build/examples/patient_vitals
#include <cstdio>

#include "sluice/sluice.h"

namespace {

constexpr int kPatients = 12;
constexpr int kHeartRateLimit = 120;
constexpr sluice::Duration kSustained = 30'000;          // ms
constexpr sluice::Timestamp kStart = 1'767'225'600'000;  // 2026-01-01 00:00:00 UTC

struct Reading {
  int patient;
  sluice::Timestamp time;
  int heart_rate;
};

struct Alert {
  int patient;
  sluice::Timestamp high_since;
  sluice::Timestamp at;
};

inline constexpr sluice::OutputTag<Reading> kSensorErrors{"sensor errors", 1};

// One reading per patient per second for 10 minutes. Patient p has a high episode from 45p s
// lasting 10 + 5p seconds; patient 7's sensor comes loose for a few readings.
Reading make_reading(uint64_t i) {
  const int patient = static_cast<int>(i % kPatients);
  const int64_t second = static_cast<int64_t>(i / kPatients);
  const int64_t episode_start = patient * 45;
  const bool high = second >= episode_start && second < episode_start + 10 + 5 * patient;
  int rate = 70 + static_cast<int>((i * 7919) % 15) + (high ? 70 : 0);
  if (patient == 7 && second >= 100 && second < 103) rate = 0;
  return Reading{patient, kStart + second * 1000, rate};
}

struct SustainedHighHeartRate {
  sluice::ValueState<sluice::Timestamp> high_since;

  void open(sluice::RuntimeContext& ctx) {
    high_since = ctx.state<sluice::ValueState<sluice::Timestamp>>("high since");
  }

  void process(const Reading& r, sluice::ProcessContext<int>& ctx, sluice::Collector<Alert>&) {
    if (r.heart_rate <= 0) {
      ctx.output(kSensorErrors, r);
      return;
    }
    const sluice::Timestamp* since = high_since.get();
    if (r.heart_rate > kHeartRateLimit) {
      if (since == nullptr) {
        high_since.update(r.time);
        ctx.timers().register_event_time(r.time + kSustained);
      }
    } else if (since != nullptr && r.time <= *since + kSustained) {
      // Back to normal within 30 s: no alert. (A normal reading after the timer's time
      // leaves the timer alone: in event time the rate was high for 30 s, even if the watermark
      // has not reached the timer yet.)
      ctx.timers().delete_event_time(*since + kSustained);
      high_since.clear();
    }
  }

  void on_timer(sluice::Timestamp t, sluice::TimerContext<int>& ctx,
                sluice::Collector<Alert>& out) {
    out.emit(Alert{ctx.key(), *high_since.get(), t});
    high_since.clear();  // a new episode starts with the next high reading
  }
};

}  // namespace

int main() {
  sluice::JobOptions options;
  options.parallelism = 2;
  sluice::Environment env(options);
  auto alerts = env.generate(10 * 60 * kPatients, make_reading)
                    .assign_timestamps([](const Reading& r) { return r.time; }, 2'000)
                    .key_by([](const Reading& r) { return r.patient; })
                    .process(SustainedHighHeartRate{})
                    .name("sustained high heart rate");
  alerts.sink([](const Alert& a) {
    std::printf("ALERT patient %2d: heart rate above %d since %s (alert at %s)\n", a.patient,
                kHeartRateLimit, sluice::format_timestamp(a.high_since).c_str(),
                sluice::format_timestamp(a.at).c_str());
  });
  alerts.side_output(kSensorErrors).sink([](const Reading& r) {
    std::printf("sensor error: patient %d, heart rate %d at %s\n", r.patient, r.heart_rate,
                sluice::format_timestamp(r.time).c_str());
  });
  sluice::Status s = env.execute("patient vitals");
  if (!s.is_ok()) {
    std::fprintf(stderr, "%s\n", s.to_string().c_str());
    return 1;
  }
  return 0;
}
