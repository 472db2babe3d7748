// Fraud rule: flag the card accounts that make more than a limit of transactions.
//
// Generates card transactions (most accounts make a handful; a few compromised ones make many),
// keeps a running count of transactions per account, and prints each account once, at the
// transaction that takes it past the limit.
//
//   build/release/examples/fraud_rule [limit]        (default limit: 20)
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "sluice/sluice.h"

struct Transaction {
  uint64_t account = 0;
  int64_t amount_cents = 0;
};

struct Flag {
  uint64_t account = 0;
  int64_t transactions = 0;
};

// Describes Flag to the print sink: `account=4242 transactions=21`.
template <typename W>
void sluice_fields(const Flag& f, W& w) {
  w("account", f.account);
  w("transactions", f.transactions);
}

constexpr uint64_t kTransactions = 500'000;
constexpr uint64_t kAccounts = 200'000;
constexpr uint64_t kCompromised[] = {13, 4242, 77'777, 123'456, 199'999};

// Transaction i: a pseudo-random account, except that every 2,000th goes to a compromised one.
Transaction make_transaction(uint64_t i) {
  uint64_t h = (i + 1) * 0x9E3779B97F4A7C15ull;
  h = (h ^ (h >> 31)) * 0xBF58476D1CE4E5B9ull;
  h ^= h >> 29;
  const uint64_t account = i % 2000 == 0 ? kCompromised[(i / 2000) % 5] : h % kAccounts;
  return Transaction{account, static_cast<int64_t>(h % 50'000)};
}

int main(int argc, char** argv) {
  const int64_t limit = argc > 1 ? std::atoll(argv[1]) : 20;

  sluice::Environment env;
  env.generate(kTransactions, make_transaction)
      .key_by([](const Transaction& t) { return t.account; })
      .aggregate(
          int64_t{0}, [](int64_t& count, const Transaction&) { ++count; },
          [](uint64_t account, int64_t count) {
            return Flag{account, count};
          })
      .filter([limit](const Flag& f) { return f.transactions == limit + 1; })  // once per account
      .sink(sluice::sinks::print<Flag>());

  sluice::Status status = env.execute("fraud rule");
  if (!status.is_ok()) {
    std::fprintf(stderr, "fraud_rule: %s\n", status.message().c_str());
    return 1;
  }
  return 0;
}
