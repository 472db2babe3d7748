// SideOutputs: the typed batches an operator fills for its side outputs (ports >= 1), sent to
// Operator::side_output(port) when full and at the end of each batch or timer pass.
//
// The row type of a port is fixed by the first row sent to it; sending another type to the same
// port is a programming error (two OutputTags of one operator sharing a port) and throws. A port
// nothing consumes drops its rows.
//
// Thread-safety: owned by one operator subtask.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "sluice/detail/operator.h"

namespace sluice::detail {

template <typename X>
inline const void* row_type_id() {
  static const char id = 0;
  return &id;
}

class SideOutputs {
 public:
  void init(const Operator* op, size_t batch_size) {
    op_ = op;
    batch_size_ = batch_size;
  }
  void set_time(Timestamp time, bool has_time) {
    time_ = time;
    has_time_ = has_time;
  }

  template <typename X>
  void emit(int port, X value) {
    if (static_cast<size_t>(port) >= ports_.size() || ports_[port].type != row_type_id<X>())
        [[unlikely]] {
      bind<X>(port);
    }
    Port& p = ports_[port];
    if (p.out == nullptr) return;
    auto& b = static_cast<Batch<X>&>(*p.batch);
    b.rows.push_back(std::move(value));
    if (has_time_) b.times.push_back(time_);
    if (b.rows.size() >= batch_size_) flush(p);
  }

  void flush_all() {
    for (Port& p : ports_) {
      if (p.batch != nullptr && p.batch->size() > 0) flush(p);
    }
  }

 private:
  struct Port {
    std::unique_ptr<BatchBase> batch;
    const void* type = nullptr;
    Output* out = nullptr;
  };

  template <typename X>
  void bind(int port) {
    if (port < 1) throw std::logic_error("side output port must be >= 1");
    if (ports_.size() <= static_cast<size_t>(port)) ports_.resize(port + 1);
    Port& p = ports_[port];
    if (p.type != nullptr) {
      throw std::logic_error("side output port " + std::to_string(port) +
                             " is used with two row types (two OutputTags share a port)");
    }
    p.type = row_type_id<X>();
    p.batch = std::make_unique<Batch<X>>();
    p.out = op_->side_output(port);
  }
  void flush(Port& p) {
    p.out->emit(*p.batch);
    p.batch->clear();
  }

  const Operator* op_ = nullptr;
  size_t batch_size_ = 1024;
  std::vector<Port> ports_;  // by port
  Timestamp time_ = 0;
  bool has_time_ = false;
};

}  // namespace sluice::detail
