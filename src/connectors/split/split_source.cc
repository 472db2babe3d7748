// SplitSourceBase: the splits of a source subtask, their turns, positions and watermarks;
// declared in sluice/detail/split_source.h.
#include "sluice/detail/split_source.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_set>

#include <fmt/format.h>

#include "sluice/detail/processing_clock.h"

namespace sluice::detail {

namespace {

// Splits the manifest's offset line names one by one; the rest are counted.
constexpr size_t kDescribedSplits = 8;

}  // namespace

SplitSourceBase::~SplitSourceBase() = default;

std::string SplitSourceBase::describe_position(const SourceSplit& split) const {
  return split.position.empty() ? std::string("at the start")
                                : fmt::format("{} bytes of position", split.position.size());
}

Status SplitSourceBase::accept_restored(const SourceSplit&, bool) const { return Status::ok(); }

Result<std::vector<SubtaskSplits>> SplitSourceBase::read_legacy_state(const OperatorRestore&) {
  return Status::invalid_argument(
      fmt::format("operator {}: its checkpointed position is not in the split format this "
                  "version reads; start it without that checkpoint",
                  info_.display()));
}

void SplitSourceBase::open() {
  listed_ = list_splits();
  Result<SubtaskSplits> mine =
      take_splits(listed_, {}, info_.subtask, info_.parallelism, info_.display());
  if (!mine.is_ok()) throw std::runtime_error(mine.status().message());
  reset(std::move(mine).value());
  if (timestamps_ != nullptr && timestamps_->periodic_us() > 0) {
    next_periodic_us_ = steady_now_us() + timestamps_->periodic_us();
  }
}

void SplitSourceBase::reset(SubtaskSplits splits) {
  for (Entry& e : active_) {
    if (e.open) close_reader(e.slot);
  }
  active_.clear();
  finished_.clear();
  free_slots_.clear();
  slots_ = 0;
  cursor_ = 0;
  turn_polls_ = 0;
  const int64_t now = steady_now_us();
  for (SourceSplit& s : splits.splits) {
    if (s.finished) {
      finished_.push_back(std::move(s.id));
    } else {
      add(std::move(s), now);
    }
  }
  for (size_t i = 0; i < active_.size(); ++i) {
    if (active_[i].split.id == splits.cursor) cursor_ = i;
  }
}

void SplitSourceBase::add(SourceSplit split, int64_t now_us) {
  Entry e;
  e.split = std::move(split);
  if (free_slots_.empty()) {
    e.slot = slots_++;
  } else {
    e.slot = free_slots_.back();
    free_slots_.pop_back();
  }
  e.last_row_us = now_us;
  if (timestamps_ != nullptr) timestamps_->reset(e.slot);
  active_.push_back(std::move(e));
}

Status SplitSourceBase::assign(SourceSplit split) {
  const bool held = std::any_of(active_.begin(), active_.end(),
                                [&](const Entry& e) { return e.split.id == split.id; }) ||
                    std::find(finished_.begin(), finished_.end(), split.id) != finished_.end();
  if (held) {
    return Status::invalid_argument(
        fmt::format("operator {}: split '{}' is assigned already", info_.display(), split.id));
  }
  if (split.finished) {
    finished_.push_back(std::move(split.id));
  } else {
    add(std::move(split), steady_now_us());
  }
  return Status::ok();
}

SourceSplit SplitSourceBase::remove(size_t i) {
  Entry& e = active_[i];
  SourceSplit split = std::move(e.split);
  if (e.open) {
    split.position.clear();
    reader_position(e.slot, split.position);
    close_reader(e.slot);
  }
  free_slots_.push_back(e.slot);
  active_.erase(active_.begin() + static_cast<ptrdiff_t>(i));
  if (i < cursor_) {
    --cursor_;
  } else if (i == cursor_) {
    turn_polls_ = 0;  // the next split's turn starts
  }
  if (cursor_ >= active_.size()) cursor_ = 0;
  return split;
}

Result<SourceSplit> SplitSourceBase::revoke(std::string_view id) {
  for (size_t i = 0; i < active_.size(); ++i) {
    if (active_[i].split.id == id) return remove(i);
  }
  auto it = std::find(finished_.begin(), finished_.end(), id);
  if (it != finished_.end()) {
    SourceSplit split{std::move(*it), {}, true};
    finished_.erase(it);
    return split;
  }
  return Status::not_found(
      fmt::format("operator {}: split '{}' is not assigned to it", info_.display(), id));
}

std::vector<std::string> SplitSourceBase::split_ids() const {
  std::vector<std::string> ids;
  for (size_t k = 0; k < active_.size(); ++k) {
    ids.push_back(active_[(cursor_ + k) % active_.size()].split.id);
  }
  ids.insert(ids.end(), finished_.begin(), finished_.end());
  return ids;
}

void SplitSourceBase::pass_turn() {
  turn_polls_ = 0;
  if (!active_.empty()) cursor_ = (cursor_ + 1) % active_.size();
}

SourceState SplitSourceBase::poll_splits(int64_t now_us) {
  update_assignment(now_us);
  begin_batch();
  const size_t limit = info_.batch_size;
  size_t used = 0;
  bool more = false;
  // Each split is asked at most once per poll.
  const size_t turns = active_.size();
  for (size_t k = 0; k < turns && !active_.empty() && used < limit; ++k) {
    Entry& e = active_[cursor_];
    const size_t begin = used;
    const SplitStatus status = read_turn(e.slot, e.split, e.open, used, limit);
    e.open = true;
    if (used > begin) {
      e.last_row_us = now_us;
      e.idle = false;
      if (timestamps_ != nullptr) {
        e.watermark = std::max(e.watermark, timestamps_->stamp(e.slot, batch(), begin, used));
      }
    }
    e.nothing_now = status == SplitStatus::kNothingNow;
    if (status == SplitStatus::kMore) {
      if (options_.batches_per_turn > 0 && ++turn_polls_ >= options_.batches_per_turn) {
        pass_turn();
      }
      more = true;
      break;
    }
    if (status == SplitStatus::kNothingNow) {
      pass_turn();
    } else {
      finished_.push_back(remove(cursor_).id);
    }
  }
  if (used > 0 && idle_) set_idle(false);  // active again before the rows go out
  finish_batch(used);
  polled(used);
  if (timestamps_ != nullptr) track_event_time(now_us);
  if (active_.empty() && options_.bounded) {
    ending();
    return SourceState::kEnd;
  }
  if (more || used > 0) return SourceState::kMore;
  // A subtask of an unbounded source that holds no split has no data to wait for.
  if (active_.empty() && !idle_) set_idle(true);
  next_poll_us_ = std::min(now_us + options_.poll_delay_us, next_periodic_us_);
  return SourceState::kIdle;
}

void SplitSourceBase::track_event_time(int64_t now_us) {
  if (timestamps_->periodic_us() > 0 && now_us >= next_periodic_us_) {
    next_periodic_us_ = now_us + timestamps_->periodic_us();
    for (Entry& e : active_) e.watermark = std::max(e.watermark, timestamps_->current(e.slot));
  }
  const int64_t timeout = timestamps_->idle_timeout_us();
  Timestamp low = kMaxTimestamp;
  bool any = false;
  for (Entry& e : active_) {
    if (timeout > 0 && e.nothing_now && now_us - e.last_row_us >= timeout) e.idle = true;
    if (e.idle) continue;
    any = true;
    low = std::min(low, e.watermark);
  }
  if (!any) {
    if (!active_.empty() || !options_.bounded) set_idle(true);
    return;
  }
  if (idle_) set_idle(false);
  if (low > emitted_) {
    emitted_ = low;
    out_->emit_watermark(low);
  }
}

void SplitSourceBase::set_idle(bool idle) {
  idle_ = idle;
  out_->emit_idle(idle);
}

void SplitSourceBase::on_end() {
  // The end closes every window, as WatermarkOperator's does.
  if (timestamps_ != nullptr) out_->emit_watermark(kMaxTimestamp);
  end_outputs();
}

void SplitSourceBase::snapshot_state(uint64_t, OperatorSnapshot& out) {
  if (!options_.replayable) {
    out.offsets =
        active_.empty() ? std::string("at the end") : describe_position(active_.front().split);
    return;
  }
  // Between polls every row read has been emitted: the readers' positions are the cut.
  SubtaskSplits splits;
  for (const Entry& e : active_) {
    SourceSplit s{e.split.id, {}, false};
    if (e.open) {
      reader_position(e.slot, s.position);
    } else {
      s.position = e.split.position;
    }
    splits.splits.push_back(std::move(s));
  }
  for (const std::string& id : finished_) splits.splits.push_back(SourceSplit{id, {}, true});
  if (!active_.empty()) splits.cursor = active_[cursor_].split.id;
  write_subtask_splits(splits, out.operator_state);

  if (active_.empty()) {
    out.offsets = options_.bounded ? "at the end" : "no splits";
    return;
  }
  std::string text;
  for (size_t k = 0; k < active_.size() && k < kDescribedSplits; ++k) {
    const SourceSplit& s = splits.splits[(cursor_ + k) % active_.size()];
    if (!text.empty()) text += "; ";
    text += s.id + " " + describe_position(s);
  }
  if (active_.size() > kDescribedSplits) {
    text += fmt::format("; {} more", active_.size() - kDescribedSplits);
  }
  if (!finished_.empty()) text += fmt::format(" ({} finished)", finished_.size());
  out.offsets = std::move(text);
}

Status SplitSourceBase::restore_state(const OperatorRestore& in) {
  if (!options_.replayable) return Status::ok();  // nothing to replay: read on from here
  std::vector<SubtaskSplits> old(in.operator_states.size());
  const bool legacy = std::any_of(
      in.operator_states.begin(), in.operator_states.end(),
      [](const std::vector<char>& bytes) { return !bytes.empty() && !is_split_state(bytes); });
  if (legacy) {
    SLUICE_ASSIGN_OR_RETURN(old, read_legacy_state(in));
  } else {
    for (size_t o = 0; o < old.size(); ++o) {
      if (in.operator_states[o].empty()) continue;
      SLUICE_RETURN_IF_ERROR(
          read_subtask_splits(in.operator_states[o], info_.display(), static_cast<int>(o), old[o]));
    }
  }
  SLUICE_ASSIGN_OR_RETURN(SubtaskSplits mine, take_splits(listed_, old, info_.subtask,
                                                          info_.parallelism, info_.display()));
  const std::unordered_set<std::string> listed(listed_.begin(), listed_.end());
  for (const SourceSplit& s : mine.splits) {
    if (!s.finished) SLUICE_RETURN_IF_ERROR(accept_restored(s, listed.count(s.id) > 0));
  }
  reset(std::move(mine));
  return Status::ok();
}

}  // namespace sluice::detail
