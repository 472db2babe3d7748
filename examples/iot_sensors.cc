// IoT sensors: per-sensor 1-minute average temperature, and an alert when an average crosses a
// threshold. Readings arrive up to 5 s out of order; the watermark waits for them. A partition of
// the feed that goes quiet (a gateway offline) is idle after 30 s without readings, so it does not
// hold back the other sensors' averages and alerts.
//
//   build/examples/iot_sensors
#include <cstdio>

#include "sluice/sluice.h"

struct Reading {
  uint64_t sensor;
  sluice::Timestamp time;  // ms
  double celsius;
};

int main() {
  constexpr double kThreshold = 26.0;
  sluice::Environment env;
  auto averages =
      env.generate(8 * 600,  // 8 sensors, one reading per second each, for 10 minutes
                   [](uint64_t i) {
                     const uint64_t sensor = i % 8;
                     const int64_t second = static_cast<int64_t>(i / 8);
                     // Sensor 3 heats up after 6 minutes; readings jitter by up to 4 s.
                     const double heat = sensor == 3 && second > 360 ? 0.05 * (second - 360) : 0;
                     return Reading{sensor, second * 1000 - static_cast<int64_t>(i * 7 % 5) * 1000,
                                    20.0 + static_cast<double>(sensor) * 0.5 + heat};
                   })
          .assign_timestamps([](const Reading& r) { return r.time; },
                             sluice::bounded_out_of_orderness(5'000).with_idleness(30'000))
          .key_by([](const Reading& r) { return r.sensor; })
          .window(sluice::Tumbling{60'000})
          .avg([](const Reading& r) { return r.celsius; });
  averages.sink([](const sluice::WindowResult<uint64_t, double>& r) {
    std::printf("sensor %llu  %s  avg %.2f C\n", static_cast<unsigned long long>(r.key),
                sluice::format_timestamp(r.window_start).c_str(), r.value);
  });
  averages
      .filter([](const sluice::WindowResult<uint64_t, double>& r) { return r.value > kThreshold; })
      .sink([](const sluice::WindowResult<uint64_t, double>& r) {
        std::printf("ALERT sensor %llu averaged %.2f C (> %.1f) in the minute from %s\n",
                    static_cast<unsigned long long>(r.key), r.value, kThreshold,
                    sluice::format_timestamp(r.window_start).c_str());
      });
  sluice::Status s = env.execute("iot sensors");
  if (!s.is_ok()) {
    std::fprintf(stderr, "%s\n", s.to_string().c_str());
    return 1;
  }
  return 0;
}
