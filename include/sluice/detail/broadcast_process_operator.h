// BroadcastProcessOperator: events (input 0) processed against rules (input 1) that every subtask
// receives. Each subtask keeps its own copy of the rules state, updated by `on_rule(rule, state)`;
// `fn(event, state, out)` emits the results. Events and rules are not ordered with each other (see
// sluice/joins.h). Emitted rows take their event's time.
//
// Checkpoints: the rules state is replicated rule state, small next to keyed state, and of any
// type, so it has no copy-on-write table: at the cut the operator copies it whole (when State is
// copy-constructible) and the checkpoint writer serializes the copy on its own thread, so the
// pause is a copy, not an encoding. A State that cannot be copied is serialized in the
// synchronous part. REQUIRES of a copyable State: its copy shares nothing that on_rule changes
// (a std::shared_ptr to mutable rules would let later rules into the checkpoint).
//
// Thread-safety: one task drives an instance; the copy taken at a cut is read on the checkpoint
// writer's thread.
#pragma once

#include <memory>
#include <stdexcept>
#include <type_traits>

#include "sluice/detail/held_rows.h"
#include "sluice/detail/operator.h"
#include "sluice/detail/operators.h"

namespace sluice::detail {

template <typename E, typename Rule, typename Out, typename State, typename OnRule, typename Fn>
class BroadcastProcessOperator final : public Operator {
 public:
  BroadcastProcessOperator(State initial, OnRule on_rule, Fn fn, bool rules_first)
      : state_(std::move(initial)),
        on_rule_(std::move(on_rule)),
        fn_(std::move(fn)),
        holding_(rules_first) {}

  void process(int input, BatchBase& batch) override {
    if (input == 1) {
      for (const Rule& rule : batch_cast<Rule>(batch).rows) on_rule_(rule, state_);
    } else if (holding_) {
      held_.add(batch_cast<E>(batch));
    } else {
      run(batch_cast<E>(batch));
    }
  }

  void on_input_end(int input) override {
    if (input != 1 || !holding_) return;
    holding_ = false;
    run(held_.batch());
    held_.clear();
    if (held_watermark_ != kMinTimestamp) Operator::on_watermark(held_watermark_);
    if (held_idle_) Operator::on_idle(true);
  }

  void on_watermark(Timestamp watermark) override {
    if (holding_) {
      held_watermark_ = watermark;
      return;
    }
    Operator::on_watermark(watermark);
  }

  // Idleness would let downstream watermarks pass the held events too.
  void on_idle(bool idle) override {
    if (holding_) {
      held_idle_ = idle;
      return;
    }
    Operator::on_idle(idle);
  }

  void on_end() override {
    if (holding_) on_input_end(1);
    end_outputs();
  }

  // Checkpoints: the rules state as operator-wide state of every subtask, copied at the cut and
  // serialized by the checkpoint writer (see the file comment); a restore gives the copy of old
  // subtask 0 to every subtask, whatever the parallelism. Declined while events are held for the
  // rules input (rules_first).
  bool has_state() const override { return true; }
  void snapshot_state(uint64_t, OperatorSnapshot& out) override {
    if (holding_) {
      throw std::runtime_error(
          "a checkpoint cannot be taken while events wait for the rules input to end");
    }
    if constexpr (kSerializable<State> && std::is_copy_constructible_v<State>) {
      auto copy = std::make_shared<const State>(state_);  // the state at the cut
      out.deferred = [copy](OperatorSnapshot& to) { StateWriter(&to.operator_state).write(*copy); };
    } else if constexpr (kSerializable<State>) {
      StateWriter(&out.operator_state).write(state_);
    } else {
      throw std::runtime_error(
          "the broadcast state type cannot be checkpointed: specialise "
          "sluice::StateSerializer<T> (see sluice/state_serializer.h)");
    }
  }
  Status restore_state(const OperatorRestore& in) override {
    if constexpr (kSerializable<State>) {
      if (in.operator_states.empty() || in.operator_states[0].empty()) return Status::ok();
      StateReader r(in.operator_states[0]);
      r.read(state_);
      if (r.failed() || !r.at_end()) {
        return Status::invalid_argument("operator " + info_.display() +
                                        ": truncated or malformed rules state");
      }
      return Status::ok();
    } else {
      (void)in;
      return Status::invalid_argument("operator " + info_.display() +
                                      ": its state type cannot be restored");
    }
  }

  // The rules state: the same on every subtask once every rule has arrived.
  const State& rules_state() const { return state_; }
  State& rules_state() { return state_; }

 private:
  void run(const Batch<E>& b) {
    Collector<Out> collector(&out_batch_, out_, info_.batch_size);
    const bool has_times = b.has_times();
    for (size_t i = 0; i < b.rows.size(); ++i) {
      if (has_times) collector.set_time(b.times[i], true);
      fn_(b.rows[i], static_cast<const State&>(state_), collector);
    }
    collector.flush();
  }

  State state_;  // checkpointed
  OnRule on_rule_;
  Fn fn_;
  HeldRows<E> held_;
  bool holding_;
  Timestamp held_watermark_ = kMinTimestamp;
  bool held_idle_ = false;
  Batch<Out> out_batch_;
};

}  // namespace sluice::detail
