#include "job_client.h"

#include <httplib.h>

#include <filesystem>

#include <fmt/format.h>

#include "sluice/detail/json_line_parser.h"

namespace sluice::cli {

namespace {
// A savepoint of large state may take a while; the job answers once it is complete.
constexpr int kReplyTimeoutSeconds = 600;
}  // namespace

Result<std::string> request_savepoint(const std::string& address, const std::string& target_dir,
                                      bool stop) {
  const std::string base = address.find("://") == std::string::npos ? "http://" + address : address;
  httplib::Client client(base);
  if (!client.is_valid()) {
    return Status::invalid_argument(
        fmt::format("--job '{}': expected the job's address, host:port", address));
  }
  client.set_read_timeout(kReplyTimeoutSeconds, 0);
  // The job resolves a relative directory against its own working directory: send it absolute.
  std::error_code ec;
  const std::string dir = std::filesystem::absolute(target_dir, ec).string();
  const httplib::Params params{{"dir", ec ? target_dir : dir}};
  httplib::Result res = client.Post(stop ? "/api/stop" : "/api/savepoint", params);
  if (!res) {
    return Status::io_error(
        fmt::format("no job answers at {}: {}", address, httplib::to_string(res.error())));
  }
  detail::JsonLineParser parser;
  JsonRow row;
  const bool json = parser.parse(res->body, row).is_ok();
  const std::string savepoint = json ? std::string(row.str("savepoint")) : "";
  if (res->status == 200 && json && row.error() == nullptr && !savepoint.empty()) {
    return savepoint;
  }
  std::string reason = json ? std::string(row.str("error")) : res->body;
  if (reason.empty()) reason = res->body;
  return Status::failed(fmt::format("the job at {} answered {}: {}", address, res->status, reason));
}

}  // namespace sluice::cli
