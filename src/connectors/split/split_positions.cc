// The checkpoint format of a split source subtask and the split assignment of a start or a
// restore; declared in sluice/detail/split_positions.h.
#include "sluice/detail/split_positions.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include "sluice/state_serializer.h"

namespace sluice::detail {

void write_subtask_splits(const SubtaskSplits& splits, std::vector<char>& out) {
  StateWriter w(&out);
  w.write(kSplitFormatTag);
  w.write(kSplitFormat);
  w.write(splits.cursor);
  w.write(static_cast<uint64_t>(splits.splits.size()));
  for (const SourceSplit& s : splits.splits) {
    w.write(s.id);
    w.write(s.finished);
    w.write(s.position);
  }
}

bool is_split_state(const std::vector<char>& bytes) {
  if (bytes.size() < sizeof(uint32_t)) return false;
  StateReader r(bytes);
  return r.read<uint32_t>() == kSplitFormatTag;
}

Status read_subtask_splits(const std::vector<char>& bytes, const std::string& op, int old_subtask,
                           SubtaskSplits& out) {
  auto bad = [&](const std::string& why) {
    return Status::invalid_argument(
        fmt::format("operator {}: the splits of old subtask {}: {}", op, old_subtask + 1, why));
  };
  StateReader r(bytes);
  if (r.read<uint32_t>() != kSplitFormatTag) return bad("not a split source's state");
  const uint32_t format = r.read<uint32_t>();
  if (format != kSplitFormat) {
    return bad(fmt::format("format {} is not known to this version (it reads format {})", format,
                           kSplitFormat));
  }
  r.read(out.cursor);
  const uint64_t count = r.read<uint64_t>();
  out.splits.clear();
  for (uint64_t i = 0; i < count && !r.failed(); ++i) {
    SourceSplit s;
    r.read(s.id);
    r.read(s.finished);
    r.read(s.position);
    out.splits.push_back(std::move(s));
  }
  if (r.failed() || !r.at_end()) return bad("truncated or malformed state");
  return Status::ok();
}

Result<SubtaskSplits> take_splits(const std::vector<std::string>& known,
                                  const std::vector<SubtaskSplits>& restored, int subtask,
                                  int parallelism, const std::string& op) {
  struct Held {
    int old_subtask;
    const SourceSplit* split;
  };
  std::unordered_map<std::string, Held> held;
  for (size_t o = 0; o < restored.size(); ++o) {
    for (const SourceSplit& s : restored[o].splits) {
      auto [it, inserted] = held.try_emplace(s.id, Held{static_cast<int>(o), &s});
      if (!inserted) {
        return Status::invalid_argument(
            fmt::format("operator {}: split '{}' is held by old subtasks {} and {}", op, s.id,
                        it->second.old_subtask + 1, o + 1));
      }
    }
  }
  // Every split in the source's order: the listed ones, then those only the checkpoint holds.
  std::vector<std::string> order;
  std::unordered_set<std::string> listed;
  for (const std::string& id : known) {
    if (listed.insert(id).second) order.push_back(id);
  }
  std::vector<std::string> unlisted;
  for (const auto& [id, h] : held) {
    if (listed.count(id) == 0) unlisted.push_back(id);
  }
  std::sort(unlisted.begin(), unlisted.end());
  order.insert(order.end(), unlisted.begin(), unlisted.end());

  const bool same = !restored.empty() && static_cast<int>(restored.size()) == parallelism;
  SubtaskSplits mine;
  size_t open_rank = 0;
  size_t finished_rank = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    auto it = held.find(order[i]);
    const SourceSplit* split = it == held.end() ? nullptr : it->second.split;
    int owner;
    if (split != nullptr && same) {
      owner = it->second.old_subtask;
    } else if (restored.empty() || same) {
      owner = static_cast<int>(i % static_cast<size_t>(parallelism));
    } else if (split != nullptr && split->finished) {
      owner = static_cast<int>(finished_rank++ % static_cast<size_t>(parallelism));
    } else {
      owner = static_cast<int>(open_rank++ % static_cast<size_t>(parallelism));
    }
    if (owner != subtask) continue;
    mine.splits.push_back(split != nullptr ? *split : SourceSplit{order[i], {}, false});
  }
  if (same) mine.cursor = restored[static_cast<size_t>(subtask)].cursor;
  return mine;
}

}  // namespace sluice::detail
