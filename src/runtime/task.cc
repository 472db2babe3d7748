#include "runtime/task.h"

#include <algorithm>

#include "runtime/metered_output.h"
#include "runtime/worker_pool.h"

namespace sluice::runtime {

namespace {
constexpr int kSourceBatchesPerSlice = 8;
constexpr int kEnvelopesPerSlice = 32;
}  // namespace

void ChainLink::emit(detail::BatchBase& batch) {
  batch.hashes.clear();  // the key hashes were for the operator the channel delivered to
  if (from_ != nullptr) {
    count_output(*from_, batch, *task_);
    count_input(*next_->metrics(), batch, *task_);
  }
  detail::attribute_errors(next_->info(), [&] { next_->process(port_, batch); });
}
void ChainLink::emit_watermark(Timestamp watermark) {
  if (from_ != nullptr) from_->watermark.set(watermark);
  detail::attribute_errors(next_->info(), [&] { next_->on_watermark(watermark); });
}
void ChainLink::emit_idle(bool idle) {
  detail::attribute_errors(next_->info(), [&] { next_->on_idle(idle); });
}
void ChainLink::emit_barrier(uint64_t checkpoint_id) {
  detail::attribute_errors(next_->info(), [&] { next_->on_barrier(checkpoint_id); });
}
void ChainLink::emit_end() {
  detail::attribute_errors(next_->info(), [&] { next_->on_end(); });
}

Task::Task(std::vector<std::unique_ptr<detail::Operator>> ops,
           std::vector<std::unique_ptr<detail::Output>> outputs,
           std::vector<detail::Output*> exchanges)
    : ops_(std::move(ops)), outputs_(std::move(outputs)), exchanges_(std::move(exchanges)) {
  source_ = dynamic_cast<detail::SourceOperator*>(ops_.front().get());
}

Task::~Task() = default;

void Task::add_input(Channel* channel, int port) {
  inputs_.push_back(Input{channel, port});
  ++open_inputs_;
}

void Task::open() {
  for (auto& op : ops_) detail::attribute_errors(op->info(), [&] { op->open(); });
}

void Task::close() {
  for (auto& op : ops_) detail::attribute_errors(op->info(), [&] { op->close(); });
}

void Task::notify() { worker_->wake(); }

void Task::set_checkpoint_control(CheckpointControl* control) {
  control_ = control;
  if (control_ != nullptr) {
    last_barrier_ = control_->trigger_id();
    notified_ = control_->completed_id();
  }
}

void Task::set_committer(Committer* committer) {
  for (size_t i = 0; i < ops_.size(); ++i) {
    if (ops_[i]->commits()) lanes_.emplace_back(i, committer->add_lane(ops_[i].get()));
  }
}

std::vector<SubtaskState> Task::snapshot_chain(uint64_t checkpoint_id) {
  std::vector<SubtaskState> states;
  for (size_t i = 0; i < ops_.size(); ++i) {
    if (!ops_[i]->has_state()) continue;
    for (auto& [op, lane] : lanes_) {
      if (op == i) lane->prepared(checkpoint_id);  // even if it fails: it hears of the abort
    }
    SubtaskState& s = states.emplace_back();
    s.node = i < nodes_.size() ? nodes_[i] : 0;
    s.subtask = subtask_;
    detail::attribute_errors(ops_[i]->info(),
                             [&] { ops_[i]->snapshot_state(checkpoint_id, s.snapshot); });
  }
  return states;
}

void Task::notify_complete(uint64_t checkpoint_id) {
  for (auto& op : ops_) {
    detail::attribute_errors(op->info(), [&] { op->notify_checkpoint_complete(checkpoint_id); });
  }
  for (auto& [op, lane] : lanes_) lane->completed(checkpoint_id);
  if (!lanes_.empty()) run_commits(monotonic_us());
}

// The lanes hear of checkpoints in id order: abandoned ones below the newest completed one were
// counted before it completed (CheckpointControl's promise), so reading the completed id first
// sees them all.
void Task::notify_completed() {
  const uint64_t done = control_->completed_id();
  if (done <= notified_ && control_->abandoned_count() <= abandoned_seen_) return;
  std::vector<uint64_t> abandoned;
  if (control_->abandoned_count() > abandoned_seen_) {
    abandoned = control_->abandoned_since(abandoned_seen_);
    abandoned_seen_ += abandoned.size();
    std::sort(abandoned.begin(), abandoned.end());
  }
  for (uint64_t id : abandoned) {
    if (id > done) break;
    for (auto& [op, lane] : lanes_) lane->abandoned(id);
  }
  if (done > notified_) {
    notified_ = done;
    notify_complete(done);
  }
  for (uint64_t id : abandoned) {
    if (id <= done) continue;
    for (auto& [op, lane] : lanes_) lane->abandoned(id);
  }
  if (!abandoned.empty() && !lanes_.empty()) run_commits(monotonic_us());
}

void Task::run_commits(int64_t now_us) {
  commit_due_us_ = INT64_MAX;
  for (auto& [op, lane] : lanes_) {
    if (lane->off_thread()) continue;
    Status s = lane->run(now_us);
    if (!s.is_ok()) throw detail::OperatorError(ops_[op]->info().display(), s.message(), "sink");
    commit_due_us_ = std::min(commit_due_us_, lane->due_us());
  }
}

void Task::checkpoint(uint64_t id, int64_t alignment_us) {
  last_barrier_ = id;
  const int64_t start = monotonic_us();
  std::vector<SubtaskState> states;
  std::string declined;
  try {
    states = snapshot_chain(id);
  } catch (const std::exception& e) {
    declined = e.what();  // the checkpoint fails, the job goes on
  }
  const int64_t sync_us = monotonic_us() - start;
  if (!ended_) {  // after the end nothing goes downstream, not even a barrier
    detail::Operator* head = ops_.front().get();
    detail::attribute_errors(head->info(), [&] { head->on_barrier(id); });
  }
  if (control_ == nullptr) return;
  if (declined.empty()) {
    control_->acknowledge(id, std::move(states), alignment_us, sync_us);
  } else {
    control_->decline(id, declined);
  }
}

bool Task::checkpoint_ended() {
  if (!ended_ || control_ == nullptr) return false;
  const uint64_t id = control_->trigger_id();
  if (id <= last_barrier_) return false;
  checkpoint(id, 0);
  return true;
}

bool Task::run_finished() {
  if (control_ == nullptr) return false;
  const uint64_t notified = notified_;
  const uint64_t abandoned = abandoned_seen_;
  notify_completed();
  bool retried = false;
  if (commit_due_us_ != INT64_MAX) {
    const int64_t now = monotonic_us();
    retried = now >= commit_due_us_;
    if (retried) run_commits(now);
  }
  return checkpoint_ended() || notified_ != notified || abandoned_seen_ != abandoned || retried;
}

bool Task::has_checkpoint_work() const {
  if (control_ == nullptr) return false;
  return control_->completed_id() > notified_ || control_->abandoned_count() > abandoned_seen_ ||
         (commit_due_us_ != INT64_MAX && monotonic_us() >= commit_due_us_) ||
         (ended_ && control_->trigger_id() > last_barrier_);
}

void Task::on_barrier(Input& in, uint64_t id) {
  if (id <= last_barrier_) return;  // of a checkpoint already taken or abandoned
  if (id > aligning_) {             // a newer barrier supersedes an abandoned alignment
    release_inputs();
    aligning_ = id;
    aligned_inputs_ = 0;
    align_start_us_ = monotonic_us();
  }
  in.holding = true;
  if (++aligned_inputs_ < open_inputs_) return;
  release_inputs();
  checkpoint(id, monotonic_us() - align_start_us_);
}

void Task::release_inputs() {
  for (Input& in : inputs_) in.holding = false;
  aligning_ = 0;
  aligned_inputs_ = 0;
}

Task::Slice Task::run_slice(int64_t now_us) {
  if (finished_) return Slice::kFinished;
  if (metrics_ != nullptr) metrics_->now_us = now_us;
  exchanges_.set_now(now_us);
  // An ended task answers a trigger even while its end waits in an overflow: it emits nothing.
  const bool acknowledged = checkpoint_ended();
  if (exchanges_.blocked()) return acknowledged ? Slice::kProgress : Slice::kBlocked;
  if (ended_) {  // the end went out and nothing waits in an overflow any more
    if (metrics_ != nullptr) sample_state_sizes(now_us);  // the sizes the job ends with
    finished_ = true;
    return Slice::kFinished;
  }
  bool progress = false;
  detail::Operator* head = ops_.front().get();
  if (control_ != nullptr) notify_completed();
  if (now_us >= commit_due_us_) run_commits(now_us);  // a quick sink's retry
  if (source_ != nullptr) {
    for (int i = 0; i < kSourceBatchesPerSlice; ++i) {
      if (control_ != nullptr && control_->trigger_id() > last_barrier_) {
        checkpoint(control_->trigger_id(), 0);
        progress = true;
        if (exchanges_.blocked()) break;
      }
      if (source_stopped()) {
        source_idle_ = false;  // no poll deadline: only a trigger or a completion wakes it
        break;
      }
      detail::SourceState state;
      if (metrics_ != nullptr) metrics_->ingest_us = now_us;
      detail::attribute_errors(head->info(), [&] { state = source_->poll(now_us); });
      source_idle_ = state == detail::SourceState::kIdle;
      if (state == detail::SourceState::kIdle) break;
      progress = true;
      if (state == detail::SourceState::kEnd) {
        // Checkpoints go on: from now on this task acknowledges them with its final state (its
        // end position) and emits no barrier; downstream tasks align without this input.
        detail::attribute_errors(head->info(), [&] { head->on_end(); });
        ended_ = true;
        break;
      }
      if (exchanges_.blocked()) break;
    }
  } else {
    int handled = 0;
    size_t empty_in_row = 0;
    while (handled < kEnvelopesPerSlice && empty_in_row < inputs_.size() && !ended_) {
      Input& in = inputs_[next_input_];
      next_input_ = next_input_ + 1 == inputs_.size() ? 0 : next_input_ + 1;
      Envelope e;
      if (in.ended || in.holding || !in.channel->try_pop(e)) {
        ++empty_in_row;
        continue;
      }
      empty_in_row = 0;
      ++handled;
      progress = true;
      handle(in, e);
      if (exchanges_.blocked()) break;
    }
  }
  if (!ended_ && !exchanges_.blocked()) progress |= fire_processing_timers(now_us);
  if (!ended_) exchanges_.flush_due(now_us);
  if (metrics_ != nullptr && now_us >= next_state_sample_us_) sample_state_sizes(now_us);
  if (ended_ && !exchanges_.blocked()) {
    if (metrics_ != nullptr) sample_state_sizes(now_us);  // the sizes the job ends with
    finished_ = true;
    return Slice::kFinished;
  }
  if (progress) return Slice::kProgress;
  return exchanges_.blocked() ? Slice::kBlocked : Slice::kIdle;
}

void Task::account(Slice slice, int64_t start_us, int64_t end_us) {
  if (metrics_ == nullptr) return;
  if (last_slice_end_us_ != 0 && start_us > last_slice_end_us_) {
    auto& gap = last_slice_ == Slice::kBlocked ? metrics_->backpressured_us : metrics_->idle_us;
    gap.add(static_cast<uint64_t>(start_us - last_slice_end_us_));
  }
  auto& spent = slice == Slice::kProgress  ? metrics_->busy_us
                : slice == Slice::kBlocked ? metrics_->backpressured_us
                                           : metrics_->idle_us;
  spent.add(static_cast<uint64_t>(end_us - start_us));
  last_slice_end_us_ = end_us;
  last_slice_ = slice;
}

void Task::handle(Input& in, const Envelope& e) {
  detail::Operator* head = ops_.front().get();
  switch (e.kind) {
    case Envelope::Kind::kData: {
      // The popped batch is held by nothing but `e`: hand it back even when the operator throws,
      // or a failed job leaks it.
      struct GiveBack {
        Channel* channel;
        detail::BatchBase* batch;
        ~GiveBack() { channel->give_back(batch); }
      } give_back{in.channel, e.batch};
      if (metrics_ != nullptr) {
        count_input(*head_metrics_, *e.batch, *metrics_);
        metrics_->ingest_us = e.batch->ingest_us;
      }
      detail::attribute_errors(head->info(), [&] { head->process(in.port, *e.batch); });
      break;
    }
    case Envelope::Kind::kWatermark:
      in.watermark = std::max(in.watermark, e.value);
      advance_watermark();
      break;
    case Envelope::Kind::kIdle:
      in.idle = e.value != 0;
      update_idleness();
      advance_watermark();  // the inputs still active may now allow more
      break;
    case Envelope::Kind::kBarrier:
      on_barrier(in, static_cast<uint64_t>(e.value));
      break;
    case Envelope::Kind::kEnd: {
      in.ended = true;
      --open_inputs_;
      const bool port_open = std::any_of(inputs_.begin(), inputs_.end(), [&](const Input& i) {
        return i.port == in.port && !i.ended;
      });
      if (!port_open) {
        detail::attribute_errors(head->info(), [&] { head->on_input_end(in.port); });
      }
      end_input();
      // The inputs still open may all have delivered the barrier being aligned.
      if (aligning_ != 0 && !ended_ && aligned_inputs_ >= open_inputs_) {
        const uint64_t id = aligning_;
        release_inputs();
        checkpoint(id, monotonic_us() - align_start_us_);
      }
      break;
    }
  }
}

void Task::advance_watermark() {
  Timestamp min = kMaxTimestamp;
  bool any = false;
  bool idle_open = false;
  for (const Input& in : inputs_) {
    if (in.ended) continue;
    if (in.idle) {
      idle_open = true;
      continue;
    }
    any = true;
    min = std::min(min, in.watermark);
  }
  if (!any || min <= watermark_) return;
  // The end of the active inputs is not the end of an idle one, which may still send rows.
  if (min == kMaxTimestamp && idle_open) return;
  watermark_ = min;
  detail::Operator* head = ops_.front().get();
  detail::attribute_errors(head->info(), [&] { head->on_watermark(min); });
}

// An input that becomes active again with a watermark behind the task's holds the merged
// watermark where it is (it never goes back) until it catches up.
void Task::update_idleness() {
  bool any_open = false;
  bool all_idle = true;
  for (const Input& in : inputs_) {
    if (in.ended) continue;
    any_open = true;
    all_idle = all_idle && in.idle;
  }
  const bool idle = any_open && all_idle;
  if (idle == idle_) return;
  idle_ = idle;
  detail::Operator* head = ops_.front().get();
  detail::attribute_errors(head->info(), [&] { head->on_idle(idle); });
}

void Task::end_input() {
  if (open_inputs_ > 0) {
    update_idleness();    // the inputs left open may all be idle
    advance_watermark();  // an ended input no longer holds the watermark back
    return;
  }
  detail::Operator* head = ops_.front().get();
  detail::attribute_errors(head->info(), [&] { head->on_end(); });
  ended_ = true;
}

// Processing-time timers run between batches, like watermarks: every operator of the chain
// whose earliest timer is due gets on_processing_time (a virtual call per operator per slice).
void Task::sample_state_sizes(int64_t now_us) {
  next_state_sample_us_ = now_us + kStateSampleIntervalUs;
  for (const auto& op : ops_) {
    int64_t keys = 0;
    int64_t bytes = 0;
    if (op->metrics() == nullptr || !op->state_size(&keys, &bytes)) continue;
    op->metrics()->state_keys.set(keys);
    op->metrics()->state_bytes.set(bytes);
  }
}

bool Task::fire_processing_timers(int64_t now_us) {
  bool fired = false;
  for (auto& op : ops_) {
    if (op->next_timer_us() > now_us) continue;
    detail::attribute_errors(op->info(), [&] { op->on_processing_time(now_us); });
    fired = true;
  }
  return fired;
}

int64_t Task::next_timer_us() const {
  int64_t d = INT64_MAX;
  for (const auto& op : ops_) d = std::min(d, op->next_timer_us());
  return d;
}

bool Task::has_work(int64_t now_us) {
  if (finished_) return false;
  if (ended_ && control_ != nullptr && control_->trigger_id() > last_barrier_) return true;
  if (exchanges_.blocked()) return false;
  if (ended_) return true;
  if (now_us >= exchanges_.flush_deadline()) return true;
  if (now_us >= next_timer_us()) return true;
  if (control_ != nullptr &&
      (control_->completed_id() > notified_ || control_->abandoned_count() > abandoned_seen_)) {
    return true;
  }
  if (now_us >= commit_due_us_) return true;
  if (source_ != nullptr) {
    if (control_ != nullptr && control_->trigger_id() > last_barrier_) return true;
    if (source_stopped()) return false;
    return !source_idle_ || now_us >= source_->next_poll_us();
  }
  for (Input& in : inputs_) {
    if (!in.ended && !in.holding && !in.channel->empty()) return true;
  }
  return false;
}

int64_t Task::deadline_us() const {
  int64_t d = std::min({exchanges_.flush_deadline(), next_timer_us(), commit_due_us_});
  if (source_ != nullptr && source_idle_) d = std::min(d, source_->next_poll_us());
  return d;
}

}  // namespace sluice::runtime
