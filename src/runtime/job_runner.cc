#include "runtime/job_runner.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "runtime/channel.h"
#include "runtime/channel_set_impl.h"
#include "runtime/committer.h"
#include "runtime/metered_output.h"
#include "runtime/operator_ids.h"
#include "runtime/task.h"
#include "runtime/worker_pool.h"

namespace sluice::runtime {

namespace {

std::atomic<int> g_signal{0};
extern "C" void on_signal(int sig) { g_signal.store(sig); }

// Installs SIGINT/SIGTERM handlers for the duration of a job.
class SignalScope {
 public:
  explicit SignalScope(bool enabled) : enabled_(enabled) {
    if (!enabled_) return;
    g_signal.store(0);
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~SignalScope() {
    if (!enabled_) return;
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  bool enabled_;
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

detail::Partitioning effective_partitioning(const detail::EdgeSpec& e, int p, int q) {
  if (p == 1 && q == 1) return detail::Partitioning::kForward;
  if (e.partitioning == detail::Partitioning::kForward && p != q) {
    return detail::Partitioning::kRebalance;
  }
  return e.partitioning;
}

}  // namespace

JobRunner::JobRunner(const detail::LogicalGraph& graph, const JobOptions& options,
                     JobObserver* observer, std::string job_name, CheckpointService* checkpoints)
    : graph_(graph), options_(options), observer_(observer), checkpoints_(checkpoints) {
  metrics_.job_name = std::move(job_name);
  if (options_.workers <= 0) {
    options_.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
}

JobRunner::~JobRunner() = default;

bool JobRunner::chained(const detail::LogicalGraph& graph, int node) {
  const detail::NodeSpec& n = graph.node(node);
  if (n.is_source || !n.chain_with_upstream || n.in_edges.size() != 1) return false;
  const detail::EdgeSpec& e = graph.edge(n.in_edges[0]);
  if (e.from_port != 0) return false;
  const detail::NodeSpec& up = graph.node(e.from);
  if (up.out_edges.size() != 1 || up.parallelism != n.parallelism) return false;
  return effective_partitioning(e, up.parallelism, n.parallelism) == detail::Partitioning::kForward;
}

Status JobRunner::build() {
  // Options the data structures rely on: a ring's capacity must be a power of two (it indexes
  // with a mask), an empty batch size would never fill a batch, and key groups need at least one.
  const size_t cap = options_.channel_capacity;
  if (cap == 0 || (cap & (cap - 1)) != 0) {
    return Status::invalid_argument("channel_capacity must be a power of two, not " +
                                    std::to_string(cap));
  }
  if (options_.batch_size == 0) return Status::invalid_argument("batch_size must be at least 1");
  if (options_.max_parallelism < 1) {
    return Status::invalid_argument("max_parallelism must be at least 1");
  }
  if (options_.flush_delay_us < 0) {
    return Status::invalid_argument("flush_delay_us must not be negative");
  }
  SLUICE_ASSIGN_OR_RETURN(operator_ids_, assign_operator_ids(graph_));
  const int node_count = graph_.node_count();
  // Chains in node order: the graph is built upstream-first, so node order is topological.
  std::vector<int> chain_of(node_count, -1);
  std::vector<std::vector<int>> chains;
  for (int n = 0; n < node_count; ++n) {
    const detail::NodeSpec& spec = graph_.node(n);
    if (spec.parallelism < 1 || spec.parallelism > options_.max_parallelism) {
      return Status::invalid_argument("operator '" + spec.name + "': parallelism " +
                                      std::to_string(spec.parallelism) + " is outside 1.." +
                                      std::to_string(options_.max_parallelism));
    }
    if (!spec.is_source && spec.in_edges.empty()) {
      return Status::invalid_argument("operator '" + spec.name + "' has no input");
    }
    if (chained(graph_, n)) {
      chain_of[n] = chain_of[graph_.edge(spec.in_edges[0]).from];
      chains[chain_of[n]].push_back(n);
    } else {
      chain_of[n] = static_cast<int>(chains.size());
      chains.push_back({n});
    }
  }

  describe(chains, chain_of);

  // Operators of every (chain, subtask).
  struct Pending {
    std::vector<std::unique_ptr<detail::Operator>> ops;
    std::vector<std::unique_ptr<detail::Output>> outputs;
    std::vector<std::pair<Channel*, int>> inputs;
    TaskMetrics* metrics = nullptr;
  };
  std::vector<std::vector<Pending>> pending(chains.size());
  for (size_t c = 0; c < chains.size(); ++c) {
    const int par = graph_.node(chains[c][0]).parallelism;
    pending[c].resize(par);
    for (int s = 0; s < par; ++s) {
      Pending& p = pending[c][s];
      if (observer_ != nullptr) {
        p.metrics = &metrics_.tasks.emplace_back();
        p.metrics->chain = static_cast<int>(c);
        p.metrics->subtask = s;
        p.metrics->wall_offset_ms = wall_clock_ms() - monotonic_us() / 1000;
      }
      for (int n : chains[c]) {
        const detail::NodeSpec& spec = graph_.node(n);
        std::unique_ptr<detail::Operator> op = spec.make_operator();
        const char* error_kind = spec.is_source           ? "source"
                                 : spec.out_edges.empty() ? "sink"
                                                          : "operator";
        op->set_info(detail::OperatorInfo{spec.name, s, par, options_.max_parallelism,
                                          options_.batch_size, !options_.checkpoint_dir.empty(),
                                          error_kind});
        if (p.metrics != nullptr) op->set_metrics(metrics_.operators[n].subtasks[s]);
        op->set_state_config(
            detail::StateConfig{options_.state_backend, options_.effective_state_dir()});
        if (!p.ops.empty()) {
          int port = graph_.edge(spec.in_edges[0]).port;
          if (p.metrics != nullptr) {
            p.outputs.push_back(
                std::make_unique<ChainLink>(op.get(), port, p.ops.back()->metrics(), p.metrics));
          } else {
            p.outputs.push_back(std::make_unique<ChainLink>(op.get(), port));
          }
          p.ops.back()->set_output(p.outputs.back().get());
        }
        p.ops.push_back(std::move(op));
      }
    }
  }

  // Channels and exchanges for every edge that crosses tasks.
  // Exchanges of every (chain, subtask), by (producing node, output port).
  using ExchangeMap = std::map<std::pair<int, int>, std::vector<std::unique_ptr<detail::Output>>>;
  std::vector<std::vector<ExchangeMap>> exchanges(chains.size());
  for (size_t c = 0; c < chains.size(); ++c) exchanges[c].resize(pending[c].size());
  for (int e = 0; e < graph_.edge_count(); ++e) {
    const detail::EdgeSpec& edge = graph_.edge(e);
    if (chain_of[edge.to] == chain_of[edge.from] && chained(graph_, edge.to)) continue;
    const int pc = chain_of[edge.from], cc = chain_of[edge.to];
    const int p = graph_.node(edge.from).parallelism, q = graph_.node(edge.to).parallelism;
    detail::ExchangeSpec xs{effective_partitioning(edge, p, q),
                            q,
                            options_.max_parallelism,
                            options_.batch_size,
                            options_.flush_delay_us,
                            graph_.node(edge.to).name};
    for (int s = 0; s < p; ++s) {
      std::vector<Channel*> outs;
      for (int t = 0; t < q; ++t) {
        if (xs.partitioning == detail::Partitioning::kForward && t != s) continue;
        channels_.push_back(std::make_unique<Channel>(options_.channel_capacity));
        outs.push_back(channels_.back().get());
        pending[cc][t].inputs.emplace_back(channels_.back().get(), edge.port);
      }
      auto set = std::make_unique<ChannelSetImpl>(std::move(outs), &batches_allocated_);
      exchanges[pc][s][{edge.from, edge.from_port}].push_back(
          edge.make_exchange(std::move(set), xs));
    }
  }

  // Tasks: main outputs of the chain's last node end the chain; side outputs of any node of the
  // chain are set on its operator. Several edges from one output share it through a fan-out.
  std::vector<std::vector<Task*>> task_of(chains.size());
  for (size_t c = 0; c < chains.size(); ++c) {
    for (size_t s = 0; s < pending[c].size(); ++s) {
      Pending& p = pending[c][s];
      std::vector<detail::Output*> group;
      detail::Output* tail = nullptr;
      for (auto& [key, outs] : exchanges[c][s]) {
        const auto [node, port] = key;
        std::unique_ptr<detail::Output> out;
        if (outs.size() == 1) {
          out = std::move(outs[0]);
        } else {
          auto fan = std::make_unique<detail::FanoutOutput>();
          for (auto& x : outs) fan->add(std::move(x));
          out = std::move(fan);
        }
        group.push_back(out.get());
        const size_t pos = std::find(chains[c].begin(), chains[c].end(), node) - chains[c].begin();
        if (port == 0) {
          tail = out.get();
        } else {
          detail::Output* side = out.get();
          if (p.metrics != nullptr) {
            side = p.outputs
                       .emplace_back(std::make_unique<MeteredOutput>(
                           side, p.ops[pos]->metrics(), p.metrics, MeteredOutput::Port::kSide))
                       .get();
          }
          p.ops[pos]->set_side_output(port, side);
        }
        p.outputs.push_back(std::move(out));
      }
      if (tail == nullptr) {
        p.outputs.push_back(std::make_unique<NullOutput>());
        tail = p.outputs.back().get();
      } else if (p.metrics != nullptr) {
        p.outputs.push_back(
            std::make_unique<MeteredOutput>(tail, p.ops.back()->metrics(), p.metrics));
        tail = p.outputs.back().get();
      }
      p.ops.back()->set_output(tail);
      detail::OperatorMetrics* head = p.ops.front()->metrics();
      tasks_.push_back(
          std::make_unique<Task>(std::move(p.ops), std::move(p.outputs), std::move(group)));
      tasks_.back()->set_metrics(p.metrics, head);
      tasks_.back()->set_layout(chains[c], static_cast<int>(s));
      task_of[c].push_back(tasks_.back().get());
    }
  }
  // Wire channel ends: inputs were recorded per consumer, in creation order.
  for (size_t c = 0; c < chains.size(); ++c) {
    for (size_t s = 0; s < pending[c].size(); ++s) {
      for (auto& [channel, port] : pending[c][s].inputs) {
        channel->consumer = task_of[c][s];
        task_of[c][s]->add_input(channel, port);
        if (pending[c][s].metrics != nullptr) pending[c][s].metrics->inputs.push_back(channel);
      }
    }
  }
  // Producers: repeat the edge walk in the same order.
  size_t next = 0;
  for (int e = 0; e < graph_.edge_count(); ++e) {
    const detail::EdgeSpec& edge = graph_.edge(e);
    if (chain_of[edge.to] == chain_of[edge.from] && chained(graph_, edge.to)) continue;
    const int p = graph_.node(edge.from).parallelism, q = graph_.node(edge.to).parallelism;
    const bool forward = effective_partitioning(edge, p, q) == detail::Partitioning::kForward;
    for (int s = 0; s < p; ++s) {
      for (int t = 0; t < q; ++t) {
        if (forward && t != s) continue;
        channels_[next++]->producer = task_of[chain_of[edge.from]][s];
      }
    }
  }
  stats_.tasks = static_cast<int>(tasks_.size());
  stats_.channels = static_cast<int>(channels_.size());
  return Status::ok();
}

void JobRunner::describe(const std::vector<std::vector<int>>& chains,
                         const std::vector<int>& chain_of) {
  static constexpr const char* kPartitioning[] = {"forward", "rebalance", "broadcast", "hash"};
  for (int n = 0; n < graph_.node_count(); ++n) {
    const detail::NodeSpec& spec = graph_.node(n);
    OperatorNode& node = metrics_.operators.emplace_back();
    node.name = spec.name;
    node.parallelism = spec.parallelism;
    node.chain = chain_of[n];
    node.is_source = spec.is_source;
    // A sink ends its chain and feeds no exchange.
    node.is_sink = chains[chain_of[n]].back() == n && spec.out_edges.empty();
    if (observer_ == nullptr) continue;
    for (int s = 0; s < spec.parallelism; ++s) {
      detail::OperatorMetrics* m = metrics_.add_operator_metrics();
      if (node.is_sink) {
        m->ingest_latency = std::make_unique<detail::LatencyHistogram>();
        m->event_latency = std::make_unique<detail::LatencyHistogram>();
      }
      node.subtasks.push_back(m);
    }
  }
  for (int e = 0; e < graph_.edge_count(); ++e) {
    const detail::EdgeSpec& edge = graph_.edge(e);
    const int p = graph_.node(edge.from).parallelism, q = graph_.node(edge.to).parallelism;
    EdgeNode& out = metrics_.edges.emplace_back();
    out.from = edge.from;
    out.to = edge.to;
    out.partitioning = kPartitioning[static_cast<int>(effective_partitioning(edge, p, q))];
    out.chained = chain_of[edge.to] == chain_of[edge.from] && chained(graph_, edge.to);
    out.side_output = edge.from_port != 0;
  }
}

Status JobRunner::run() {
  if (graph_.node_count() == 0) return Status::invalid_argument("the job has no operators");
  if (options_.checkpoint_interval_us > 0 && options_.checkpoint_dir.empty()) {
    return Status::invalid_argument(
        "job option 'checkpoint.interval' needs 'checkpoint.dir': where should checkpoints go?");
  }
  if (checkpoints_ == nullptr &&
      (!options_.checkpoint_dir.empty() || !options_.savepoint_path.empty())) {
    return Status::invalid_argument(
        "job options 'checkpoint.dir' and 'savepoint.path' need checkpointing: run the job "
        "with Environment::execute");
  }
  SignalScope signals(options_.handle_signals);
  int64_t wait_us = options_.restart_backoff_us;
  for (int attempt = 0;; ++attempt) {
    attempt_ = attempt;
    bool restartable = false;
    Status s = run_once(&restartable);
    stats_.checkpoints_completed += figures_.completed;
    stats_.checkpoints_failed += figures_.failed;
    stats_.checkpoint_max_pause_us =
        std::max(stats_.checkpoint_max_pause_us, figures_.max_pause_us);
    stats_.checkpoint_max_sync_us = std::max(stats_.checkpoint_max_sync_us, figures_.max_sync_us);
    if (figures_.last_bytes > 0) {
      stats_.checkpoint_last_bytes = figures_.last_bytes;
      stats_.checkpoint_last_duration_us = figures_.last_duration_us;
    }
    figures_ = {};
    if (s.is_ok() || !restartable || attempt >= options_.restart_attempts) return s;
    ++stats_.restarts;
    std::fprintf(stderr, "sluice: %s\nsluice: restarting (%d of %d) in %lld ms\n",
                 s.message().c_str(), attempt + 1, options_.restart_attempts,
                 static_cast<long long>(wait_us / 1000));
    if (!backoff(wait_us)) return Status::cancelled("job cancelled");
    wait_us = std::min<int64_t>(wait_us * 2, 60'000'000);
  }
}

bool JobRunner::backoff(int64_t us) {
  const int64_t until = monotonic_us() + us;
  while (monotonic_us() < until) {
    if (options_.handle_signals && g_signal.load() != 0) cancel_requested_ = true;
    if (cancel_requested_) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(20, us / 1000 + 1)));
  }
  return true;
}

Status JobRunner::run_once(bool* restartable) {
  committer_.reset();  // first: its thread may report to the pool (whose workers have stopped)
  pool_.reset();
  {
    std::lock_guard<std::mutex> lock(control_mutex_);
    control_.reset();
  }
  tasks_.clear();
  channels_.clear();
  metrics_.clear();
  SLUICE_RETURN_IF_ERROR(build());
  StartingPoint start;  // from the beginning, without checkpointing
  if (checkpoints_ != nullptr) {
    SLUICE_ASSIGN_OR_RETURN(start, checkpoints_->starting_point(options_, attempt_));
  }
  const std::optional<LoadedCheckpoint>& restored = start.checkpoint;
  std::vector<NodeLayout> nodes;
  for (int n = 0; n < graph_.node_count(); ++n) {
    nodes.push_back({n, graph_.node(n).name, graph_.node(n).parallelism,
                     operator_ids_[static_cast<size_t>(n)]});
  }
  if (checkpoints_ != nullptr) {
    std::lock_guard<std::mutex> lock(control_mutex_);
    control_ = checkpoints_->start(options_, std::move(nodes), static_cast<int>(tasks_.size()),
                                   start.first_id);
  }
  for (auto& t : tasks_) t->set_checkpoint_control(control_.get());
  committer_ = std::make_unique<Committer>();
  for (auto& t : tasks_) t->set_committer(committer_.get());
  if (observer_ == nullptr) return run_tasks(restored, restartable);
  metrics_.start_wall_ms = wall_clock_ms();
  observer_->job_started(metrics_);
  Status status = run_tasks(restored, restartable);
  if (status.code() == StatusCode::kFailed) observer_->error(failure_kind_, status.message());
  observer_->job_finished(status);
  return status;
}

Result<std::future<Result<std::string>>> JobRunner::request_savepoint(std::string target_dir,
                                                                      bool stop) {
  if (target_dir.empty()) {
    return Status::invalid_argument("a savepoint needs a target directory");
  }
  if (checkpoints_ == nullptr) {
    return Status::failed("this job runs without checkpointing: no savepoints");
  }
  std::lock_guard<std::mutex> lock(control_mutex_);
  if (control_ == nullptr) {
    return Status::not_found("the job is starting or restarting; ask again");
  }
  return control_->request_savepoint(std::move(target_dir), stop);
}

Status JobRunner::run_tasks(const std::optional<LoadedCheckpoint>& restored, bool* restartable) {
  const int64_t start = monotonic_us();
  failure_kind_ = "operator";
  try {
    for (auto& t : tasks_) t->open();
  } catch (const detail::OperatorError& e) {
    failure_kind_ = e.kind();
    return Status::failed(e.what());
  } catch (const std::exception& e) {
    return Status::failed(e.what());
  }
  stats_.restored_from = restored ? restored->id : 0;
  if (restored) {
    std::fprintf(stderr, "sluice: resuming from checkpoint %llu (%s)\n",
                 static_cast<unsigned long long>(restored->id), restored->dir.c_str());
    SLUICE_RETURN_IF_ERROR(restore(*restored));
  }
  pool_ = std::make_unique<WorkerPool>(options_.workers);
  committer_->start([this](const std::string& message) { pool_->report_failure(message, "sink"); });
  std::vector<Task*> order;
  for (auto& t : tasks_) order.push_back(t.get());
  pool_->start(order);
  uint64_t completed = control_ != nullptr ? control_->completed_id() : 0;
  uint64_t abandoned = control_ != nullptr ? control_->abandoned_count() : 0;
  reported_ = {};
  std::optional<std::string> stopped_with;
  while (!pool_->all_finished() && !pool_->cancelled()) {
    pool_->wait_for(5);
    if (options_.handle_signals && g_signal.load() != 0) cancel_requested_ = true;
    if (cancel_requested_) pool_->cancel();
    if (control_ == nullptr) continue;
    stopped_with = control_->stopped_with();
    if (stopped_with) {  // the sources emit nothing more; the sinks commit below
      pool_->cancel();
      break;
    }
    // A trigger or a completed checkpoint wakes every task: sources inject barriers, sinks commit.
    bool wake = control_->tick(monotonic_us());
    if (control_->completed_id() != completed) {
      completed = control_->completed_id();
      wake = true;
    }
    if (control_->abandoned_count() != abandoned) {  // sinks that prepared it abort
      abandoned = control_->abandoned_count();
      wake = true;
    }
    if (wake) {
      for (auto& t : tasks_) t->notify();
    }
    report_checkpoints(control_->figures());
  }
  pool_->join();
  stats_.seconds = static_cast<double>(monotonic_us() - start) / 1e6;
  stats_.batches_allocated = batches_allocated_.load();
  for (const auto& c : channels_) {
    stats_.max_queue_depth = std::max(stats_.max_queue_depth, c->max_depth());
  }
  std::string failure = pool_->failure();
  failure_kind_ = pool_->failure_kind();
  if (control_ != nullptr) figures_ = control_->figures();
  if (!failure.empty()) {
    *restartable = true;
    return Status::failed(failure);
  }
  if (stopped_with) {
    try {
      for (auto& t : tasks_) t->notify_completed();  // those that had not yet commit it now
    } catch (const std::exception& e) {
      return Status::failed(e.what());
    }
    SLUICE_RETURN_IF_ERROR(drain_commits());
    stats_.stopped_with_savepoint = *stopped_with;
    std::fprintf(stderr, "sluice: job stopped with savepoint %s\n", stopped_with->c_str());
    return Status::ok();
  }
  if (cancel_requested_ && !pool_->all_finished()) return Status::cancelled("job cancelled");
  try {
    SLUICE_RETURN_IF_ERROR(finish_checkpoints());
    SLUICE_RETURN_IF_ERROR(drain_commits());
    for (auto& t : tasks_) t->close();
  } catch (const std::exception& e) {
    return Status::failed(e.what());
  }
  return Status::ok();
}

Status JobRunner::restore(const LoadedCheckpoint& cp) {
  if (cp.max_parallelism != options_.max_parallelism) {
    return Status::invalid_argument(fmt::format(
        "checkpoint {} was taken with max_parallelism {}; the job has {} (key groups are fixed "
        "for the life of a job)",
        cp.dir, cp.max_parallelism, options_.max_parallelism));
  }
  SLUICE_ASSIGN_OR_RETURN(const std::vector<const NodeState*> matched, match_operators(cp));
  for (auto& t : tasks_) {
    for (size_t i = 0; i < t->op_count(); ++i) {
      const int node = t->nodes()[i];
      const NodeState* state = matched[static_cast<size_t>(node)];
      if (state == nullptr) continue;  // an operator the checkpoint does not know: starts empty
      const detail::NodeSpec& spec = graph_.node(node);
      detail::OperatorRestore in;
      in.checkpoint_id = cp.id;
      in.old_parallelism = state->parallelism;
      in.operator_states = state->operator_states;
      in.files = state->files;  // every old subtask's: a backend picks what it needs
      const detail::KeyGroupRange range =
          detail::key_group_range(t->subtask(), spec.parallelism, options_.max_parallelism);
      for (const auto& [g, bytes] : state->key_groups) {
        if (range.contains(g)) in.key_groups.push_back({g, bytes});
      }
      Status s;
      try {
        s = t->op(i).restore_state(in);
      } catch (const std::exception& e) {
        s = Status::failed(std::string("operator ") + t->op(i).info().display() + ": " + e.what());
      }
      if (!s.is_ok()) {
        return Status(s.code(), "restoring checkpoint " + cp.dir + ": " + s.message());
      }
    }
  }
  return Status::ok();
}

namespace {

bool holds_state(const NodeState& n) {
  return !n.key_groups.empty() || !n.files.empty() ||
         std::any_of(n.operator_states.begin(), n.operator_states.end(),
                     [](const std::vector<char>& bytes) { return !bytes.empty(); });
}

}  // namespace

Result<std::vector<const NodeState*>> JobRunner::match_operators(const LoadedCheckpoint& cp) const {
  std::vector<const NodeState*> matched(static_cast<size_t>(graph_.node_count()));
  if (!cp.has_operator_ids) {  // format 1: the job must have the same operators in the same order
    for (const auto& [node, state] : cp.nodes) {
      if (node >= graph_.node_count()) continue;
      if (state.name != graph_.node(node).name) {
        return Status::invalid_argument(fmt::format(
            "checkpoint {} does not match this job: operator {} is '{}' there and '{}' here",
            cp.dir, node, state.name, graph_.node(node).name));
      }
      matched[static_cast<size_t>(node)] = &state;
    }
    return matched;
  }
  std::unordered_map<std::string_view, int> node_of;  // this job's ids
  for (int n = 0; n < graph_.node_count(); ++n)
    node_of.emplace(operator_ids_[static_cast<size_t>(n)], n);
  for (const auto& [old_node, state] : cp.nodes) {
    auto it = node_of.find(state.uid);
    if (it != node_of.end()) {
      matched[static_cast<size_t>(it->second)] = &state;
    } else if (holds_state(state) && !options_.ignore_unclaimed_state) {
      return Status::invalid_argument(fmt::format(
          "{} holds state of operator '{}' (uid '{}'), which this job does not have; give the "
          "operator that should take it .uid(\"{}\"), or set savepoint.ignore_unclaimed_state="
          "true to drop that state",
          cp.dir, state.name, state.uid, state.uid));
    }
  }
  return matched;
}

// The final checkpoint of a finished job: every input at its end, the sinks' last transactions
// pending; once it is in place the sinks commit. A restart from it replays nothing.
Status JobRunner::finish_checkpoints() {
  if (options_.checkpoint_dir.empty()) return Status::ok();  // savepoints only
  const uint64_t id = control_->final_id();
  std::vector<SubtaskState> states;
  for (auto& t : tasks_) {
    for (auto& s : t->snapshot_chain(id)) states.push_back(std::move(s));
  }
  Result<uint64_t> written = control_->write_final(id, std::move(states));
  figures_ = control_->figures();
  report_checkpoints(figures_);
  if (!written) return written.status();
  for (auto& t : tasks_) t->notify_completed();
  return Status::ok();
}

Status JobRunner::drain_commits() {
  return committer_->drain([this] {
    if (options_.handle_signals && g_signal.load() != 0) cancel_requested_ = true;
    return cancel_requested_.load();
  });
}

// The observer hears of each checkpoint completed since the last report, and of the last one
// failed (the figures carry the last failure; failures are rarely closer together than a
// report). Two checkpoints may complete between two reports: the last periodic one and the
// final one at the end, or after a slow write, one that completed right after it.
void JobRunner::report_checkpoints(const CheckpointFigures& f) {
  std::vector<CompletedCheckpoint> completed = control_->take_completed();
  if (observer_ == nullptr) return;
  for (const CompletedCheckpoint& c : completed) {
    observer_->checkpoint_completed(c.id, c.duration_us, c.alignment_us, c.bytes);
  }
  if (f.failed != reported_.failed) {
    observer_->checkpoint_failed(0, f.last_failure);
    observer_->error("checkpoint", f.last_failure);
  }
  reported_ = f;
}

void JobRunner::cancel() { cancel_requested_ = true; }

}  // namespace sluice::runtime
