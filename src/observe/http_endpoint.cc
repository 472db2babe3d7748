#include "observe/http_endpoint.h"

#include <sys/socket.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <httplib.h>

#include "observe/dashboard_assets.h"

namespace sluice::observe {

namespace {
constexpr int kPortsToTry = 100;
constexpr int kServerThreads = 2;
}  // namespace

struct HttpEndpoint::Server {
  httplib::Server http;
  std::thread thread;
};

HttpEndpoint::HttpEndpoint(const MetricsRegistry* registry, const JobTracker* tracker)
    : server_(std::make_unique<Server>()) {
  httplib::Server& http = server_->http;
  http.new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let two jobs share a port
  // instead of the second one moving to the next free port.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  http.Get("/metrics", [registry](const httplib::Request&, httplib::Response& res) {
    res.set_content(registry->text(), "text/plain; version=0.0.4; charset=utf-8");
  });
  http.Get("/api/job", [tracker](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(tracker->json(), "application/json");
  });
  for (const Asset& asset : dashboard_assets()) {
    const std::string type = std::string(asset.content_type) + "; charset=utf-8";
    http.Get(std::string(asset.path),
             [asset, type](const httplib::Request&, httplib::Response& res) {
               res.set_content(asset.body.data(), asset.body.size(), type.c_str());
             });
  }
}

HttpEndpoint::~HttpEndpoint() { stop(); }

Status HttpEndpoint::start(const std::string& address) {
  const size_t colon = address.rfind(':');
  const std::string host = address.substr(0, colon);
  const int first = std::stoi(address.substr(colon + 1));
  int port = 0;
  for (int p = first; p < first + kPortsToTry && p <= 65535; ++p) {
    if (server_->http.bind_to_port(host, p)) {
      port = p;
      break;
    }
  }
  if (port == 0) {
    return Status::invalid_argument(
        fmt::format("job option 'metrics.address': cannot listen on {} nor on the {} ports after "
                    "it; expected a free local address or 'off'",
                    address, kPortsToTry - 1));
  }
  bound_ = fmt::format("{}:{}", host, port);
  server_->thread = std::thread([this] { server_->http.listen_after_bind(); });
  // stop() only reaches a server whose loop is running: wait for it, or a short job could stop
  // before the loop starts and leave it listening.
  while (!server_->http.is_running()) std::this_thread::sleep_for(std::chrono::microseconds(100));
  return Status::ok();
}

void HttpEndpoint::stop() {
  if (!server_->thread.joinable()) return;
  server_->http.stop();
  server_->thread.join();
}

}  // namespace sluice::observe
