// The Nexmark source operator; the API is in sluice/connectors/nexmark_source.h.
#include "sluice/connectors/nexmark_source.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <type_traits>

#include "sluice/detail/operator.h"
#include "sluice/detail/striped_position.h"

namespace sluice::nexmark {
namespace {

// Far beyond any run; the generator requires n < 2^62.
constexpr uint64_t kEventNumberLimit = uint64_t{1} << 62;
// A poll covers at most this many batches' worth of event numbers, so a subtask that finds few
// rows of its kind (p a multiple of 50 reading bids) still returns to the scheduler.
constexpr uint64_t kBatchesOfNumbersPerPoll = 2;

// The job start, resolved once for all subtasks of a source: a throttled source without a
// base_time starts event time there, identically in every subtask.
struct StartTime {
  std::once_flag once;
  Timestamp millis = 0;
};

template <typename Row>
constexpr EventKind kKindOf = std::is_same_v<Row, Person>    ? EventKind::kPerson
                              : std::is_same_v<Row, Auction> ? EventKind::kAuction
                                                             : EventKind::kBid;

// Generates the rows of one subtask. Row is Event (every kind) or one of Person, Auction, Bid
// (only that kind; numbers of other kinds are skipped without being generated).
template <typename Row>
class NexmarkSource final : public detail::SourceOperator {
 public:
  NexmarkSource(const NexmarkOptions& options, std::shared_ptr<StartTime> start)
      : options_(options), start_(std::move(start)) {}

  void open() override {
    if (options_.rate < 0 || std::isnan(options_.rate)) {
      throw std::invalid_argument("rate must be >= 0 events per second");
    }
    if (options_.event_rate && *options_.event_rate <= 0) {
      throw std::invalid_argument("event_rate must be > 0 events per second");
    }
    const bool throttled = options_.rate > 0;
    GeneratorConfig config;
    config.seed = options_.seed;
    if (options_.base_time) {
      config.base_time_ms = *options_.base_time;
    } else if (throttled) {
      std::call_once(start_->once, [&] { start_->millis = wall_clock_millis(); });
      config.base_time_ms = start_->millis;
    }
    if (options_.event_rate) {
      config.event_rate = *options_.event_rate;
    } else if (throttled) {
      config.event_rate = std::max<int64_t>(1, std::llround(options_.rate));
    }
    generator_.emplace(config);

    const uint64_t first = std::min(options_.first_event, kEventNumberLimit);
    end_ = options_.events ? first + std::min(*options_.events, kEventNumberLimit - first)
                           : kEventNumberLimit;
    position_.start(info_.subtask, info_.parallelism, first);
    batch_.rows.reserve(info_.batch_size);
  }

  detail::SourceState poll(int64_t now_us) override {
    if (position_.next() >= end_) {
      publish_lag(0);
      return detail::SourceState::kEnd;
    }
    uint64_t budget = kBatchesOfNumbersPerPoll * info_.batch_size;
    uint64_t due = UINT64_MAX;  // event numbers of this subtask due by now (all, without a rate)
    if (options_.rate > 0) {
      if (start_us_ < 0) start_us_ = now_us;
      const double per_subtask = options_.rate / static_cast<double>(position_.stride());
      due = static_cast<uint64_t>(static_cast<double>(now_us - start_us_) * per_subtask / 1e6) + 1;
      if (due <= covered_) {
        publish_lag(0);
        next_poll_us_ =
            start_us_ + static_cast<int64_t>(static_cast<double>(covered_) * 1e6 / per_subtask);
        return detail::SourceState::kIdle;
      }
      budget = std::min(budget, due - covered_);
    }
    batch_.clear();  // rows, and any event times a downstream operator gave the last batch
    auto& rows = batch_.rows;
    const Generator& gen = *generator_;
    // Numbers made before a restore are skipped without counting: pacing covers the others.
    covered_ += position_.make_next(end_, budget, [&](uint64_t n) {
      if constexpr (std::is_same_v<Row, Event>) {
        gen.event(n, rows.emplace_back());
      } else if (Generator::kind_of(n) == kKindOf<Row>) {
        if constexpr (std::is_same_v<Row, Bid>) gen.bid(n, rows.emplace_back());
        if constexpr (std::is_same_v<Row, Auction>) gen.auction(n, rows.emplace_back());
        if constexpr (std::is_same_v<Row, Person>) gen.person(n, rows.emplace_back());
      }
      return rows.size() < info_.batch_size;
    });
    // Event numbers, every kind counted: a bids-only source lags by the events it has to cover.
    publish_lag(std::min(position_.remaining(end_), due - covered_));
    if (!rows.empty()) out_->emit(batch_);
    return detail::SourceState::kMore;
  }

  int64_t next_poll_us() const override { return next_poll_us_; }

  // Pacing restarts from the restore: numbers covered before it are not waited for again.
  bool has_state() const override { return true; }
  void snapshot_state(uint64_t, detail::OperatorSnapshot& out) override {
    position_.snapshot(out, "next event number");
  }
  Status restore_state(const detail::OperatorRestore& in) override {
    return position_.restore(in, info_.display());
  }

 private:
  NexmarkOptions options_;
  std::shared_ptr<StartTime> start_;
  std::optional<Generator> generator_;
  detail::StripedPosition position_;  // the event numbers of this subtask; checkpointed
  uint64_t end_ = 0;
  uint64_t covered_ = 0;  // event numbers covered since the start or the restore, for pacing
  int64_t start_us_ = -1;
  int64_t next_poll_us_ = 0;
  detail::Batch<Row> batch_;
};

template <typename Row>
Stream<Row> add(Environment& env, const NexmarkOptions& options, const char* default_name) {
  auto start = std::make_shared<StartTime>();
  return env.add_source<Row>(
      options.name.empty() ? default_name : options.name, options.parallelism,
      [options, start] { return std::make_unique<NexmarkSource<Row>>(options, start); });
}

}  // namespace

Stream<Event> source(Environment& env, const NexmarkOptions& options) {
  return add<Event>(env, options, "nexmark");
}
Stream<Bid> bids(Environment& env, const NexmarkOptions& options) {
  return add<Bid>(env, options, "nexmark bids");
}
Stream<Auction> auctions(Environment& env, const NexmarkOptions& options) {
  return add<Auction>(env, options, "nexmark auctions");
}
Stream<Person> persons(Environment& env, const NexmarkOptions& options) {
  return add<Person>(env, options, "nexmark persons");
}

}  // namespace sluice::nexmark
