// Fraud thresholds: flag card transactions above the current limit of their merchant category,
// with the limits pushed on a control stream (broadcast state).
//
// Every subtask of the checking operator receives every threshold update and keeps the latest
// limit per category; each transaction is compared with the limits its subtask holds when it gets
// there. The two streams are not ordered with each other, so this example loads the thresholds
// first (rules_first); a live job would apply each update from the moment it arrives.
//
//   build/release/examples/fraud_thresholds [transactions] [parallelism]
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/container/flat_hash_map.h"
#include "sluice/joins.h"
#include "sluice/sluice.h"

struct Transaction {
  uint64_t card = 0;
  uint32_t category = 0;  // merchant category code
  int64_t amount_cents = 0;
};

struct ThresholdUpdate {
  uint32_t category = 0;
  int64_t limit_cents = 0;
};

struct Alert {
  uint64_t card = 0;
  uint32_t category = 0;
  int64_t amount_cents = 0;
  int64_t limit_cents = 0;
};

// Describes Alert to the print sink: `card=... category=... amount_cents=... limit_cents=...`.
template <typename W>
void sluice_fields(const Alert& a, W& w) {
  w("card", a.card);
  w("category", a.category);
  w("amount_cents", a.amount_cents);
  w("limit_cents", a.limit_cents);
}

using Limits = absl::flat_hash_map<uint32_t, int64_t>;  // category -> limit

constexpr uint32_t kCategories[] = {5411, 5812, 5999, 7995};  // grocery, dining, retail, gambling

Transaction make_transaction(uint64_t i) {
  uint64_t h = (i + 1) * 0x9E3779B97F4A7C15ull;
  h = (h ^ (h >> 31)) * 0xBF58476D1CE4E5B9ull;
  h ^= h >> 29;
  return Transaction{h % 100'000, kCategories[(h >> 20) % 4],
                     static_cast<int64_t>((h >> 32) % 200'000)};
}

// Updates in order: the last one per category wins (gambling ends at $500.00).
constexpr ThresholdUpdate kUpdates[] = {
    {5411, 150'000}, {5812, 120'000}, {5999, 180'000}, {7995, 100'000}, {7995, 50'000},
};

int main(int argc, char** argv) {
  const uint64_t transactions = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100'000;
  sluice::JobOptions options;
  options.parallelism = argc > 2 ? std::atoi(argv[2]) : 2;
  sluice::Environment env(options);

  auto thresholds = env.generate(std::size(kUpdates), [](uint64_t i) { return kUpdates[i]; },
                                 {.name = "thresholds", .parallelism = 1});
  std::atomic<uint64_t> alerts{0};
  auto flagged =
      env.generate(transactions, make_transaction, {.name = "transactions"})
          .connect_broadcast<Alert>(
              thresholds, Limits{},
              [](const ThresholdUpdate& u, Limits& limits) { limits[u.category] = u.limit_cents; },
              [](const Transaction& t, const Limits& limits, sluice::Collector<Alert>& out) {
                auto it = limits.find(t.category);
                if (it != limits.end() && t.amount_cents > it->second) {
                  out.emit(Alert{t.card, t.category, t.amount_cents, it->second});
                }
              },
              {.rules_first = true})
          .name("check thresholds");
  flagged
      .filter([](const Alert& a) { return a.amount_cents > 199'900; })  // a sample
      .sink(sluice::sinks::print<Alert>());
  flagged.sink(sluice::sinks::count<Alert>(&alerts));

  sluice::Status status = env.execute("fraud thresholds");
  if (!status.is_ok()) {
    std::fprintf(stderr, "fraud_thresholds: %s\n", status.message().c_str());
    return 1;
  }
  std::printf("alerts: %llu of %llu transactions\n", static_cast<unsigned long long>(alerts.load()),
              static_cast<unsigned long long>(transactions));
  return 0;
}
