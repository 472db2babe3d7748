// Pieces shared by the join operators: the output buffer that batches joined rows with their event
// times, the snapshot unit (the rows of one key group), time arithmetic that cannot overflow, and
// the counters a join reports when it ends.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "sluice/detail/batch.h"
#include "sluice/detail/operator.h"
#include "sluice/join_options.h"
#include "sluice/time.h"

namespace sluice::detail {

// a + b, clamped to the int64 range (bounds added to kMin/kMaxTimestamp stay there).
inline int64_t saturating_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? kMaxTimestamp : kMinTimestamp;
  return r;
}

// Floor division (towards minus infinity), for window starts before the epoch.
inline int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// A row held in join state with its event time.
template <typename Row>
struct TimedRow {
  int64_t time;
  Row row;
  friend bool operator==(const TimedRow&, const TimedRow&) = default;
};

}  // namespace sluice::detail

namespace sluice {
template <typename Row>
struct StateSerializer<detail::TimedRow<Row>> {
  static void write(StateWriter& w, const detail::TimedRow<Row>& t) {
    w.write(t.time);
    w.write(t.row);
  }
  static void read(StateReader& r, detail::TimedRow<Row>& t) {
    r.read(t.time);
    r.read(t.row);
  }
};
template <typename Row>
inline constexpr bool kSerializable<detail::TimedRow<Row>> = kSerializable<Row>;
}  // namespace sluice

namespace sluice::detail {

// The state of the keys of one key group, as a snapshot stores it. Join states export their
// contents as a list of these and import them back, so a restore can hand each subtask exactly
// the key groups it owns at the new parallelism.
template <typename Entry>
struct KeyGroupSnapshot {
  int key_group = 0;
  std::vector<Entry> entries;
};

// The fields of a snapshot entry, for writing and reading them in order: the entry's own
// fields() (the join states' entry structs), or a pair's two members.
template <typename Entry>
auto entry_fields(Entry& e) {
  if constexpr (requires { e.fields(); }) {
    return e.fields();
  } else {
    return std::tie(e.first, e.second);
  }
}

template <typename Fields>
struct AllSerializable;
template <typename... F>
struct AllSerializable<std::tuple<F&...>> {
  static constexpr bool value = (kSerializable<std::decay_t<F>> && ...);
};
template <typename Entry>
inline constexpr bool kSerializableEntry =
    AllSerializable<decltype(entry_fields(std::declval<Entry&>()))>::value;

// The entries of `state` (a join state or a frozen view of it, whose for_each_entry(max
// parallelism, fn) calls fn(key_group, Entry&&) for every entry) grouped by key group, ascending.
template <typename Entry, typename State>
std::vector<KeyGroupSnapshot<Entry>> group_entries(const State& state, int max_parallelism) {
  std::map<int, std::vector<Entry>> groups;
  state.for_each_entry(max_parallelism,
                       [&](int g, Entry&& e) { groups[g].push_back(std::move(e)); });
  std::vector<KeyGroupSnapshot<Entry>> out;
  for (auto& [g, entries] : groups) out.push_back({g, std::move(entries)});
  return out;
}

// Writes the entries of `state` (as for group_entries()) into `out`: per key group, the entries'
// fields to the end of the stream. REQUIRES: kSerializableEntry<Entry>.
template <typename Entry, typename State>
void write_entries(const State& state, int max_parallelism, OperatorSnapshot& out) {
  KeyGroupWriter groups(max_parallelism);
  state.for_each_entry(max_parallelism, [&](int g, Entry&& e) {
    StateWriter& w = groups.group(g);
    std::apply([&](auto&... f) { (w.write(f), ...); }, entry_fields(e));
  });
  groups.finish(out);
}

// The synchronous part of a checkpoint of `state`'s entries: state.freeze() (a FrozenView, see
// frozen_view.h) now, write_entries() from it on the checkpoint writer's thread.
template <typename Entry, typename State>
void write_entries_deferred(State& state, int max_parallelism, OperatorSnapshot& out) {
  if constexpr (kSerializableEntry<Entry>) {
    auto frozen = std::make_shared<decltype(state.freeze())>(state.freeze());
    out.deferred = [frozen, max_parallelism](OperatorSnapshot& to) {
      write_entries<Entry>(*frozen, max_parallelism, to);
    };
  } else {
    (void)state;
    (void)max_parallelism;
    (void)out;
    throw std::runtime_error(
        "the join's key or row types cannot be checkpointed: specialise "
        "sluice::StateSerializer<T> (see sluice/state_serializer.h)");
  }
}

// Reads what write_entries() wrote and hands each key group to `restore(group)`.
template <typename Entry, typename Restore>
Status restore_entries(const OperatorRestore& in, const std::string& op, Restore&& restore) {
  if constexpr (kSerializableEntry<Entry>) {
    return read_key_groups(in, op, [&](int g, StateReader& r) {
      KeyGroupSnapshot<Entry> group{g, {}};
      while (!r.at_end() && !r.failed()) {
        Entry& e = group.entries.emplace_back();
        std::apply([&](auto&... f) { (r.read(f), ...); }, entry_fields(e));
      }
      if (!r.failed()) restore(group);
      return Status::ok();
    });
  } else {
    (void)in;
    (void)restore;
    return Status::invalid_argument("operator " + op + ": its state type cannot be restored");
  }
}

// A join's checkpoint: the watermark it has passed (operator-wide, so rows late before a restore
// stay late after it) and its held rows by key group. `State` has watermark(), freeze() (entries
// of type State::Entry), restore_watermark(w) and restore(group); the held rows are written on
// the checkpoint writer's thread.
template <typename State>
void snapshot_join(State& state, const OperatorInfo& info, OperatorSnapshot& out) {
  StateWriter(&out.operator_state).write(state.watermark());
  write_entries_deferred<typename State::Entry>(state, info.max_parallelism, out);
}
template <typename Entry, typename State>
Status restore_join(State& state, const OperatorInfo& info, const OperatorRestore& in) {
  const Timestamp watermark = restored_watermark(in, info.subtask, info.parallelism);
  if (watermark != kMinTimestamp) state.restore_watermark(watermark);
  return restore_entries<Entry>(in, info.display(),
                                [&](const auto& group) { state.restore(group); });
}

// Joined rows waiting to go downstream: appended one at a time, sent a batch at a time.
template <typename Out>
class JoinOutput {
 public:
  void reset(Output* out, size_t batch_size) {
    out_ = out;
    batch_size_ = std::max<size_t>(1, batch_size);
    batch_.rows.reserve(batch_size_);
    batch_.times.reserve(batch_size_);
  }
  template <typename... Args>
  void emit_with_time(int64_t time, Args&&... args) {
    batch_.rows.emplace_back(std::forward<Args>(args)...);
    batch_.times.push_back(time);
    if (batch_.rows.size() >= batch_size_) flush();
  }
  template <typename... Args>
  void emit(Args&&... args) {  // a row without an event time (inputs without times)
    batch_.rows.emplace_back(std::forward<Args>(args)...);
    if (batch_.rows.size() >= batch_size_) flush();
  }
  void flush() {
    if (batch_.rows.empty()) return;
    out_->emit(batch_);
    batch_.clear();
  }

 private:
  Output* out_ = nullptr;
  size_t batch_size_ = 1024;
  Batch<Out> batch_;
};

// Event-time joins need times on both inputs; a batch without them is a programming error in the
// pipeline (assign_timestamps missing), reported as the job's failure.
template <typename T>
inline void require_times(const Batch<T>& batch, const char* join, const char* side) {
  if (!batch.rows.empty() && !batch.has_times()) {
    throw std::logic_error(std::string(join) + ": the " + side +
                           " input has no event times; call assign_timestamps on it");
  }
}

// Adds one subtask's figures to the shared counters (once, when the subtask ends).
// The state size of a join: `held` keys (or windows) and `rows` rows of either side, taken at
// half of `both_sides_bytes` each (approximate: the containers' overhead is left out).
inline bool join_state_size(size_t held, int64_t rows, size_t both_sides_bytes, int64_t* keys,
                            int64_t* bytes) {
  *keys = static_cast<int64_t>(held);
  *bytes = rows * static_cast<int64_t>(both_sides_bytes / 2);
  return true;
}

inline void report_metrics(JoinMetrics* metrics, int64_t late, int64_t unmatched, int64_t peak,
                           int64_t held_at_end) {
  if (metrics == nullptr) return;
  metrics->late_rows.fetch_add(late);
  metrics->unmatched_rows.fetch_add(unmatched);
  metrics->peak_rows_held.fetch_add(peak);
  metrics->rows_held_at_end.fetch_add(held_at_end);
}

}  // namespace sluice::detail
