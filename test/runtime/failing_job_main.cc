// A small program for process-level tests (see process_exit_test.cc). It runs one job chosen by
// argv[1], prints `thrown <steady_clock ns>` for the moment a user function threw, and exits
// with 1 when the job failed, 0 when it succeeded.
//
//   failing_job map          an unbounded job whose map throws
//   failing_job backpressured an unbounded job whose slow sink throws in one of four subtasks
//   failing_job hash         prints the key hashes of a few keys (stability across processes)
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>

#include "sluice/detail/key_groups.h"
#include "sluice/sluice.h"

namespace {

using Clock = std::chrono::steady_clock;
std::atomic<int64_t> g_thrown_ns{0};

void throw_now(const char* what) {
  g_thrown_ns.store(Clock::now().time_since_epoch().count());
  throw std::runtime_error(what);
}

class SlowSink {
 public:
  void open(int subtask, int) { subtask_ = subtask; }
  void write(std::span<const uint64_t>) {
    std::this_thread::sleep_for(std::chrono::microseconds(300));
    if (subtask_ == 1 && ++batches_ == 200) throw_now("sink subtask 2 gave up");
  }

 private:
  int subtask_ = -1;
  int batches_ = 0;
};

int finish(const sluice::Status& s) {
  std::printf("thrown %lld\n", static_cast<long long>(g_thrown_ns.load()));
  std::fflush(stdout);
  if (s.is_ok()) return 0;
  std::fprintf(stderr, "%s\n", s.to_string().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  sluice::JobOptions options;
  options.parallelism = 2;
  if (mode == "map") {
    sluice::Environment env(options);
    env.generate(UINT64_MAX, [](uint64_t i) { return i; })
        .map([](const uint64_t& x) {
          if (x == 300'000) throw_now("map broke");
          return x;
        })
        .name("breaking map")
        .rebalance()
        .sink([](const uint64_t&) {});
    return finish(env.execute());
  }
  if (mode == "backpressured") {
    options.parallelism = 4;
    options.channel_capacity = 4;
    sluice::Environment env(options);
    env.generate(UINT64_MAX, [](uint64_t i) { return i; })
        .key_by([](const uint64_t& x) { return x % 64; })
        .reduce([](const uint64_t& a, const uint64_t& b) { return a + b; })
        .sink(SlowSink{})
        .name("slow sink");
    return finish(env.execute());
  }
  if (mode == "hash") {
    for (uint64_t k : {uint64_t{0}, uint64_t{1}, uint64_t{42}, uint64_t{1} << 40}) {
      std::printf("%llu %llu\n", static_cast<unsigned long long>(k),
                  static_cast<unsigned long long>(sluice::detail::hash_key(k)));
    }
    std::printf("abc %llu\n",
                static_cast<unsigned long long>(sluice::detail::hash_key(std::string("abc"))));
    return 0;
  }
  std::fprintf(stderr, "usage: failing_job map|backpressured|hash\n");
  return 2;
}
