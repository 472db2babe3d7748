// Nodes with several inputs: the graph-building step that joins and broadcast processing share.
//
// add_node_with_inputs(name, make, a, b, ...) adds one node whose operator reads stream a on
// input 0, b on input 1, and so on, each through its own edge with that stream's partitioning
// (key_by, broadcast(), rebalance(), or forward). A node with more than one input is never chained
// to an upstream operator; its task merges the inputs' watermarks (the minimum) and ends when all
// of them have ended.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "sluice/environment.h"

namespace sluice::detail {

template <typename Out, typename First, typename... Rest>
Stream<Out> add_node_with_inputs(std::string name, std::function<std::unique_ptr<Operator>()> make,
                                 const Stream<First>& first, const Stream<Rest>&... rest) {
  Environment* env = first.environment();
  if (((rest.environment() != env) || ...)) {
    throw std::invalid_argument("'" + name + "': its inputs belong to different environments");
  }
  LogicalGraph& g = env->graph();
  NodeSpec node;
  node.name = std::move(name);
  node.parallelism = env->options().parallelism;
  node.make_operator = std::move(make);
  const int id = g.add_node(std::move(node));
  int port = 0;
  g.add_edge(first.edge_to(id, port++));
  (g.add_edge(rest.edge_to(id, port++)), ...);
  return Stream<Out>(env, id);
}

// A node reading `left` on input 0 and `right` on input 1.
template <typename Out, typename L, typename R>
Stream<Out> add_two_input(const Stream<L>& left, const Stream<R>& right, std::string name,
                          std::function<std::unique_ptr<Operator>()> make) {
  return add_node_with_inputs<Out>(std::move(name), std::move(make), left, right);
}

}  // namespace sluice::detail
