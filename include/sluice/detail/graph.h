// The logical graph a job is built as: nodes (operators with a parallelism) joined by edges
// (with a partitioning). The typed API fills it with factories that create typed operators and
// typed exchanges; the runtime (src/runtime) turns it into tasks without knowing any row type.
//
// Thread-safety: built on one thread before the job starts; read-only afterwards.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sluice/detail/channel_set.h"
#include "sluice/detail/exchange.h"
#include "sluice/detail/operator.h"

namespace sluice::detail {

class SplitTimestamps;  // split_timestamps.h

struct ExchangeSpec {
  Partitioning partitioning = Partitioning::kForward;  // as executed (see job_runner.h)
  int consumer_parallelism = 1;
  int max_parallelism = 128;
  size_t batch_size = 1024;
  int64_t flush_delay_us = 1000;
  // The consuming operator's name: a key function runs in the producer's exchange but belongs to
  // the keyed operator, so its errors name that operator.
  std::string consumer_name;
};

struct EdgeSpec {
  int from = -1;
  int to = -1;
  int port = 0;       // input number at the consumer
  int from_port = 0;  // output of the producer: 0 main, 1.. side outputs
  Partitioning partitioning = Partitioning::kForward;
  // Creates the exchange that one producer subtask writes this edge through.
  std::function<std::unique_ptr<Output>(std::unique_ptr<ChannelSet>, const ExchangeSpec&)>
      make_exchange;
};

struct NodeSpec {
  std::string name;
  // The id checkpoints file this operator's state under (Stream::uid); unset: derived from the
  // name (runtime/operator_ids.h).
  std::optional<std::string> uid;
  int parallelism = 1;
  bool is_source = false;
  // Set on a split source (mark_split_source() in split_source.h): assign_timestamps called on
  // it hands the source its function and strategy this way (per-split watermarks) instead of
  // chaining a watermark operator; `source_event_time` records that it did, so a second call
  // chains one as for any stream. A function rather than a cast in the API's templates, so that
  // only programs with split sources refer to the connectors' classes.
  std::function<void(Operator&, std::unique_ptr<SplitTimestamps>)> give_split_timestamps;
  bool source_event_time = false;
  bool chain_with_upstream = true;
  std::function<std::unique_ptr<Operator>()> make_operator;
  std::vector<int> in_edges;
  std::vector<int> out_edges;
};

class LogicalGraph {
 public:
  int add_node(NodeSpec node) {
    nodes_.push_back(std::move(node));
    return static_cast<int>(nodes_.size()) - 1;
  }
  int add_edge(EdgeSpec edge) {
    int id = static_cast<int>(edges_.size());
    nodes_[edge.from].out_edges.push_back(id);
    nodes_[edge.to].in_edges.push_back(id);
    edges_.push_back(std::move(edge));
    return id;
  }
  NodeSpec& node(int id) { return nodes_[id]; }
  const NodeSpec& node(int id) const { return nodes_[id]; }
  const EdgeSpec& edge(int id) const { return edges_[id]; }
  int node_count() const { return static_cast<int>(nodes_.size()); }
  int edge_count() const { return static_cast<int>(edges_.size()); }

 private:
  std::vector<NodeSpec> nodes_;
  std::vector<EdgeSpec> edges_;
};

}  // namespace sluice::detail
