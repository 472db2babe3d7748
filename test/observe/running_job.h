// Helpers of the observability tests: free loopback ports, a running unbounded job serving its
// endpoint, and polling an HTTP path until its body looks right.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "sluice/sluice.h"

namespace sluice::test {

// A loopback socket bound to a free port, listening while the object lives.
class PortHolder {
 public:
  PortHolder() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd_, 1), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~PortHolder() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

inline int free_port() { return PortHolder().port(); }

// Runs an unbounded, rate-limited job on its own thread until stop().
class RunningJob {
 public:
  explicit RunningJob(const std::string& address, double rate = 20'000) : env_(options(address)) {
    GeneratorOptions gen;
    gen.rate = rate;
    env_.generate(
            UINT64_MAX, [](uint64_t i) { return i; }, gen)
        .name("numbers")
        .filter([](uint64_t i) { return i % 2 == 0; })
        .name("even")
        .sink([](uint64_t) {})
        .name("discard");
    thread_ = std::thread([this] { status_ = env_.execute("endpoint-test"); });
  }
  ~RunningJob() { (void)stop(); }
  Status stop() {
    if (thread_.joinable()) {
      env_.cancel();
      thread_.join();
    }
    return status_;
  }

 private:
  static JobOptions options(const std::string& address) {
    JobOptions o;
    o.metrics_address = address;
    o.progress = Progress::kOff;
    o.handle_signals = false;
    return o;
  }
  Environment env_;
  Status status_;
  std::thread thread_;
};

// GET `path` until `pred(body)` holds (up to 10 s); the last body.
template <typename Pred>
std::string poll(int port, const std::string& path, Pred pred) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1);
  std::string body;
  for (int i = 0; i < 200; ++i) {
    if (auto res = client.Get(path.c_str()); res && res->status == 200) {
      body = res->body;
      if (pred(body)) return body;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return body;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace sluice::test
