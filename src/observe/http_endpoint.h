// HttpEndpoint: the job's HTTP server (cpp-httplib), serving
//   /metrics   every metric in the Prometheus text format (metrics_registry.h)
//   /api/job   the job as JSON: graph, live figures, history, checkpoints, exceptions
//   /          the web dashboard (dashboard_assets.h)
// on the address of the job option `metrics.address`; when its port is taken, on the next free
// one (up to 100 further ports).
//
// Thread-safety: start() and stop() from one thread; requests are served on the server's own
// threads and only read the registry and tracker, which are thread-safe.
#pragma once

#include <memory>
#include <string>

#include "observe/job_tracker.h"
#include "observe/metrics_registry.h"
#include "sluice/status.h"

namespace sluice::observe {

class HttpEndpoint {
 public:
  HttpEndpoint(const MetricsRegistry* registry, const JobTracker* tracker);
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // Binds `address` ("host:port") or the next free port and starts serving. Not OK, naming the
  // job option, when no port can be bound.
  Status start(const std::string& address);
  // The address actually bound ("127.0.0.1:9250"), once started.
  const std::string& address() const { return bound_; }
  void stop();

 private:
  struct Server;
  std::unique_ptr<Server> server_;
  std::string bound_;
};

}  // namespace sluice::observe
