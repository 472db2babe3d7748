// OutputTag<X>: names a side output of rows of type X, by an explicit output port (>= 1; port 0
// is the main output). Declare one per side output, next to the function that writes it:
//
//   inline constexpr sluice::OutputTag<Alert> kAlerts{"alerts", 1};
//
// A process function sends to it with `ctx.output(kAlerts, alert)`; the pipeline reads it with
// `result.side_output(kAlerts)`. Two tags of one operator must not share a port.
#pragma once

#include <stdexcept>
#include <string_view>

namespace sluice {

template <typename X>
class OutputTag {
 public:
  using Row = X;
  // A port below 1 fails at compile time for a constexpr tag, at start-up otherwise.
  constexpr OutputTag(std::string_view name, int port) : name_(name), port_(port) {
    if (port < 1)
      throw std::invalid_argument("OutputTag: the port must be >= 1 (0 is the main output)");
  }
  constexpr std::string_view name() const { return name_; }
  constexpr int port() const { return port_; }

 private:
  std::string_view name_;
  int port_;
};

}  // namespace sluice
