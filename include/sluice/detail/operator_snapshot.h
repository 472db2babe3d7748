// What an operator subtask contributes to a checkpoint, and what it gets back on a restore.
//
// An operator's state has two parts:
//   - keyed state, written as one byte stream per key group (key_group_of(hash_key(key),
//     max_parallelism)). On a restore each subtask receives exactly the key groups it owns at the
//     new parallelism, whichever old subtasks wrote them, so keyed state redistributes.
//   - operator-wide state (source offsets, broadcast rules, a sink's pending transaction): one
//     byte stream per subtask. On a restore every subtask receives the streams of all old
//     subtasks and picks what it needs (its own at equal parallelism, one copy of broadcast
//     rules, its share of pending transactions).
// A state backend that keeps its state in files of its own (an LSM tree's immutable tables) lists
// them in `files` instead of copying their bytes; the checkpoint layer copies or links them and
// names them in the manifest, and a later checkpoint may reuse a file an earlier one stored.
//
// Snapshots are taken synchronously at the barrier (the cut), between batches, on the task's
// thread. An operator whose state is large may instead leave a `deferred` function that fills the
// byte streams later on the checkpoint writer's thread, from a copy-on-write view it took at the
// cut; the checkpoint layer calls it before writing. REQUIRES of such a function: it touches
// nothing the task keeps mutating.
//
// Thread-safety: a snapshot is filled on the task's thread and then handed to the checkpoint
// layer, which owns it from then on.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "sluice/detail/key_groups.h"
#include "sluice/state_serializer.h"
#include "sluice/status.h"
#include "sluice/time.h"

namespace sluice::detail {

struct KeyGroupState {
  int key_group = 0;
  std::vector<char> bytes;
};

// A file a state backend owns and the checkpoint stores as is.
struct BackendFile {
  std::string path;    // where it is now (absolute)
  std::string name;    // its name in the checkpoint; stable, so later checkpoints can reuse it
  int key_group = -1;  // -1: the file spans key groups (the backend filters on restore)
};

struct OperatorSnapshot {
  std::vector<char> operator_state;       // empty: none
  std::vector<KeyGroupState> key_groups;  // ascending, empty groups left out
  std::vector<BackendFile> files;
  std::string offsets;  // a source's position, readable, for the manifest
  std::function<void(OperatorSnapshot&)> deferred;  // see the file comment; may be empty

  bool empty() const {
    return operator_state.empty() && key_groups.empty() && files.empty() && !deferred;
  }
};

struct OperatorRestore {
  uint64_t checkpoint_id = 0;
  int old_parallelism = 1;
  std::vector<std::vector<char>> operator_states;  // by old subtask; empty vectors for none
  std::vector<KeyGroupState> key_groups;           // the groups this subtask owns, ascending
  std::vector<std::string> files;                  // backend files, restored to local paths
};

// The key groups subtask `subtask` of `parallelism` owns: [first, last).
struct KeyGroupRange {
  int first = 0;
  int last = 0;
  bool contains(int g) const { return g >= first && g < last; }
};
inline KeyGroupRange key_group_range(int subtask, int parallelism, int max_parallelism) {
  auto first_of = [&](int s) {
    // The smallest g with g * parallelism / max_parallelism >= s.
    return static_cast<int>((static_cast<int64_t>(s) * max_parallelism + parallelism - 1) /
                            parallelism);
  };
  return {first_of(subtask), first_of(subtask + 1)};
}

// Collects byte streams by key group while an operator walks its state in any order.
class KeyGroupWriter {
 public:
  explicit KeyGroupWriter(int max_parallelism) : groups_(static_cast<size_t>(max_parallelism)) {}
  StateWriter& group(int key_group) {
    auto& g = groups_[static_cast<size_t>(key_group)];
    if (g == nullptr) g = std::make_unique<Group>();
    return g->writer;
  }
  // Moves the streams into `out` (ascending key groups).
  void finish(OperatorSnapshot& out) {
    for (size_t i = 0; i < groups_.size(); ++i) {
      if (groups_[i] != nullptr)
        out.key_groups.push_back({static_cast<int>(i), std::move(groups_[i]->bytes)});
      groups_[i].reset();
    }
  }

 private:
  struct Group {
    std::vector<char> bytes;
    StateWriter writer{&bytes};
  };
  std::vector<std::unique_ptr<Group>> groups_;  // by key group; a writer points into its Group
};

// Why a snapshot of keyed values is declined (the checkpoint fails, the job goes on).
[[noreturn]] inline void throw_not_serializable() {
  throw std::runtime_error(
      "the key or state type cannot be checkpointed: specialise sluice::StateSerializer<T> "
      "(see sluice/state_serializer.h)");
}

// Writes keyed values per key group, (key, value) pairs to the end of the stream;
// `for_each(fn)` calls fn(key, value) for every entry.
template <typename K, typename V, typename ForEach>
void write_keyed_values(ForEach&& for_each, int max_parallelism, OperatorSnapshot& out) {
  KeyGroupWriter groups(max_parallelism);
  for_each([&](const K& key, const V& value) {
    StateWriter& w = groups.group(key_group_of(hash_key(key), max_parallelism));
    w.write(key);
    w.write(value);
  });
  groups.finish(out);
}

// Writes a hash map of keyed values in the synchronous part (write_keyed_values' format).
template <typename Map>
void snapshot_keyed_map(const Map& map, int max_parallelism, OperatorSnapshot& out) {
  using K = typename Map::key_type;
  using V = typename Map::mapped_type;
  if constexpr (kSerializable<K> && kSerializable<V>) {
    write_keyed_values<K, V>(
        [&](auto&& fn) {
          for (const auto& [key, value] : map) fn(key, value);
        },
        max_parallelism, out);
  } else {
    (void)map;
    (void)max_parallelism;
    (void)out;
    throw_not_serializable();
  }
}

// Reads each restored key group with `fn(key_group, reader)`; the reader must be consumed to its
// end. Not OK, naming the operator and the group, when a stream is malformed.
template <typename Fn>
Status read_key_groups(const OperatorRestore& in, const std::string& op, Fn&& fn) {
  for (const KeyGroupState& g : in.key_groups) {
    StateReader r(g.bytes);
    Status s = fn(g.key_group, r);
    if (s.is_ok() && (r.failed() || !r.at_end())) {
      s = Status::invalid_argument("truncated or malformed state");
    }
    if (!s.is_ok()) {
      return Status::invalid_argument("operator " + op + ": key group " +
                                      std::to_string(g.key_group) + ": " + s.message());
    }
  }
  return Status::ok();
}

// Restores what snapshot_keyed_map() wrote for the key groups this subtask owns.
template <typename Map>
Status restore_keyed_map(Map& map, const OperatorRestore& in, const std::string& op) {
  using K = typename Map::key_type;
  using V = typename Map::mapped_type;
  if constexpr (kSerializable<K> && kSerializable<V>) {
    return read_key_groups(in, op, [&](int, StateReader& r) {
      while (!r.at_end() && !r.failed()) {
        K key{};
        r.read(key);
        r.read(map[key]);
      }
      return Status::ok();
    });
  } else {
    (void)map;
    (void)in;
    return Status::invalid_argument("operator " + op + ": its state type cannot be restored");
  }
}

// The event-time watermark an operator resumes with, from the operator-wide streams whose first
// field is the watermark each old subtask had passed: at the same parallelism its own subtask's;
// at another, the lowest of them (no new subtask may treat as late what one old subtask would
// not have). kMinTimestamp when no old subtask wrote one.
inline Timestamp restored_watermark(const OperatorRestore& in, int subtask, int parallelism) {
  const bool same = in.old_parallelism == parallelism;
  Timestamp watermark = kMaxTimestamp;
  for (size_t i = 0; i < in.operator_states.size(); ++i) {
    if ((same && static_cast<int>(i) != subtask) || in.operator_states[i].empty()) continue;
    StateReader r(in.operator_states[i]);
    watermark = std::min(watermark, r.read<Timestamp>());
  }
  return watermark == kMaxTimestamp ? kMinTimestamp : watermark;
}

// Reads the operator-wide state the same subtask wrote in the old run with `fn(reader)`. Not OK,
// naming the operator, when the parallelism changed (a source's position is per subtask) or the
// bytes are malformed. A subtask that wrote nothing is left as it is.
template <typename Fn>
Status read_own_state(const OperatorRestore& in, int subtask, int parallelism,
                      const std::string& op, Fn&& fn) {
  if (in.old_parallelism != parallelism ||
      static_cast<int>(in.operator_states.size()) != parallelism) {
    return Status::invalid_argument(
        "operator " + op + ": its position was checkpointed at parallelism " +
        std::to_string(in.old_parallelism) + "; restore it at that parallelism, not " +
        std::to_string(parallelism));
  }
  const std::vector<char>& bytes = in.operator_states[static_cast<size_t>(subtask)];
  if (bytes.empty()) return Status::ok();
  StateReader r(bytes);
  fn(r);
  if (r.failed() || !r.at_end()) {
    return Status::invalid_argument("operator " + op + ": truncated or malformed state");
  }
  return Status::ok();
}

}  // namespace sluice::detail
