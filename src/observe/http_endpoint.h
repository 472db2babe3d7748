// HttpEndpoint: the job's HTTP server (cpp-httplib), serving
//   /metrics   every metric in the Prometheus text format (metrics_registry.h)
//   /api/job   the job as JSON: graph, live figures, history, checkpoints, exceptions
//   /          the web dashboard (dashboard_assets.h)
//   POST /api/savepoint   a savepoint of the running job into the directory `dir` (a query or form
//                         parameter, or {"dir": "..."} as a JSON body); replies
//                         {"savepoint": "<its directory>"} once it is complete
//   POST /api/stop        the same, then the job stops (stop-with-savepoint)
// Both reply {"error": "..."} with 400 when `dir` is missing, 409 when no savepoint could be
// taken, 501 when the job takes no requests.
// on the address of the job option `metrics.address`; when its port is taken, on the next free
// one (up to 100 further ports).
//
// Thread-safety: start() and stop() from one thread; requests are served on the server's own
// threads and only read the registry and tracker, which are thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
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

  // What the savepoint routes call: a savepoint into `dir`, stopping the job after it with
  // `stop`; its directory, or why not. May block until the savepoint is complete.
  using SavepointHandler = std::function<Result<std::string>(const std::string& dir, bool stop)>;
  // Any thread; an empty handler turns the routes off again.
  void set_savepoint_handler(SavepointHandler handler);

 private:
  struct Control {
    std::mutex mutex;
    SavepointHandler handler;  // guarded by mutex
  };
  struct Server;
  std::shared_ptr<Control> control_ = std::make_shared<Control>();
  std::unique_ptr<Server> server_;
  std::string bound_;
};

}  // namespace sluice::observe
