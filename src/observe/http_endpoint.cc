#include "observe/http_endpoint.h"

#include <sys/socket.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <httplib.h>

#include "observe/dashboard_assets.h"
#include "sluice/detail/json_line_parser.h"
#include "sluice/detail/text_writer.h"

namespace sluice::observe {

namespace {
constexpr int kPortsToTry = 100;
constexpr int kServerThreads = 2;

std::string json_field(std::string_view name, std::string_view value) {
  std::string out = "{";
  detail::append_json_string(out, name);
  out += ':';
  detail::append_json_string(out, value);
  out += "}\n";
  return out;
}

// The target directory of a savepoint request: parameter `dir`, or a JSON body's "dir".
std::string target_dir(const httplib::Request& req) {
  if (req.has_param("dir")) return req.get_param_value("dir");
  if (req.body.empty() || req.body.front() != '{') return {};
  detail::JsonLineParser parser;
  JsonRow row;
  if (!parser.parse(req.body, row).is_ok()) return {};
  std::string dir(row.str("dir"));
  return row.error() == nullptr ? dir : std::string();
}
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
  for (const bool stop : {false, true}) {
    http.Post(stop ? "/api/stop" : "/api/savepoint",
              [control = control_, stop](const httplib::Request& req, httplib::Response& res) {
                SavepointHandler handler;
                {
                  std::lock_guard<std::mutex> lock(control->mutex);
                  handler = control->handler;
                }
                const std::string dir = target_dir(req);
                Result<std::string> result = Status::failed("");
                if (!handler) {
                  res.status = 501;
                  result = Status::failed("this job takes no savepoint requests");
                } else if (dir.empty()) {
                  res.status = 400;
                  result = Status::invalid_argument(
                      "expected the savepoint's target directory as parameter 'dir' or as "
                      "{\"dir\": \"...\"}");
                } else {
                  result = handler(dir, stop);
                  res.status = result ? 200 : 409;
                }
                res.set_content(result ? json_field("savepoint", *result)
                                       : json_field("error", result.status().message()),
                                "application/json");
              });
  }
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

void HttpEndpoint::set_savepoint_handler(SavepointHandler handler) {
  std::lock_guard<std::mutex> lock(control_->mutex);
  control_->handler = std::move(handler);
}

void HttpEndpoint::stop() {
  if (!server_->thread.joinable()) return;
  server_->http.stop();
  server_->thread.join();
}

}  // namespace sluice::observe
