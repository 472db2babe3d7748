// Nexmark max bid: the highest bid on each auction, over the Nexmark bid stream.
//
// Generates Nexmark bids (5,000,000 events by default, as fast as possible), keeps the bids of
// $1,000 or more, maintains the running maximum price per auction, and prints how fast that went
// and the ten auctions with the highest bids.
//
//   build/release/examples/nexmark_max_bid [--events N] [--parallelism P] [--set key=value]...
#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_map>
#include <vector>

#include "sluice/sluice.h"

using sluice::nexmark::Bid;

struct AuctionMax {
  int64_t auction = 0;
  int64_t max_price = 0;  // cents
};

// A sink that keeps the latest maximum of each auction. Each subtask fills its own map; when the
// input ends it merges the map into the shared result under a lock (once per subtask).
class LatestPerAuction {
 public:
  explicit LatestPerAuction(std::vector<AuctionMax>* out)
      : shared_(std::make_shared<Shared>(out)) {}
  LatestPerAuction(const LatestPerAuction& other) : shared_(other.shared_) {}

  void write(std::span<const AuctionMax> rows) {
    for (const AuctionMax& row : rows) latest_[row.auction] = row.max_price;
  }
  void finish() {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    for (const auto& [auction, price] : latest_) shared_->out->push_back({auction, price});
  }

 private:
  struct Shared {
    explicit Shared(std::vector<AuctionMax>* o) : out(o) {}
    std::mutex mutex;
    std::vector<AuctionMax>* out;
  };
  std::shared_ptr<Shared> shared_;
  std::unordered_map<int64_t, int64_t> latest_;
};

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

int main(int argc, char** argv) {
  uint64_t events = 5'000'000;
  sluice::JobOptions options;
  options.parallelism = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--events") == 0 && i + 1 < argc) {
      events = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--parallelism") == 0 && i + 1 < argc) {
      options.parallelism = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
      if (sluice::Status s = options.set(argv[++i]); !s) {
        std::fprintf(stderr, "%s\n", s.message().c_str());
        return 2;
      }
    } else {
      std::fprintf(stderr, "usage: %s [--events N] [--parallelism P] [--set key=value]...\n",
                   argv[0]);
      return 2;
    }
  }
  constexpr int64_t kMinPrice = 100'000;  // $1,000.00 in cents

  sluice::Environment env(options);
  sluice::nexmark::NexmarkOptions nexmark;
  nexmark.events = events;
  std::vector<AuctionMax> result;
  sluice::nexmark::bids(env, nexmark)
      .filter([](const Bid& bid) { return bid.price >= kMinPrice; })
      .key_by([](const Bid& bid) { return bid.auction; })
      .aggregate(
          int64_t{0}, [](int64_t& max, const Bid& bid) { max = std::max(max, bid.price); },
          [](int64_t auction, int64_t max) {
            return AuctionMax{auction, max};
          })
      .sink(LatestPerAuction(&result));

  const double cpu_before = cpu_seconds();
  sluice::Status status = env.execute("nexmark max bid");
  if (!status.is_ok()) {
    std::fprintf(stderr, "nexmark_max_bid: %s\n", status.message().c_str());
    return 1;
  }
  const double wall = env.stats().seconds;
  const double cpu = cpu_seconds() - cpu_before;

  std::printf("events        %llu (parallelism %d)\n", (unsigned long long)events,
              options.parallelism);
  std::printf("wall time     %.3f s\n", wall);
  std::printf("throughput    %.2f M events/s (%.2f M events per CPU-second, %.1f cores)\n",
              events / wall / 1e6, events / cpu / 1e6, cpu / wall);
  std::printf("auctions      %zu with a bid of $1,000 or more\n", result.size());
  std::printf("top 10 auctions by highest bid:\n");
  std::sort(result.begin(), result.end(), [](const AuctionMax& a, const AuctionMax& b) {
    return a.max_price != b.max_price ? a.max_price > b.max_price : a.auction < b.auction;
  });
  for (size_t i = 0; i < std::min<size_t>(10, result.size()); ++i) {
    std::printf("  auction %-8lld $%lld.%02lld\n", (long long)result[i].auction,
                (long long)(result[i].max_price / 100), (long long)(result[i].max_price % 100));
  }
  return 0;
}
