#include "topology/cluster_provider.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <utility>

#include "resp/reply_inspect.h"

namespace sy::topology {
namespace {

// How soon the table is read again while a shard that serves slots has no confirmed master.
constexpr common::Millis kFailoverRefresh{100};

// True when a shard that serves slots has no confirmed master (the cluster flags it failed, or
// has not settled its failover yet).
bool awaitsFailover(const ClusterView& view) {
  for (size_t shard = 0; shard < view.groups.size(); ++shard) {
    if (view.slot_counts[shard] > 0 && !view.groups[shard]->master_confirmed) return true;
  }
  return false;
}

}  // namespace

// One refresh round: the nodes to ask, in order, and when it started.
struct ClusterProvider::Round {
  std::vector<NodeAddress> candidates;
  size_t next = 0;
  common::TimePoint started{};
  std::string last_failure;
  // The answer being completed: the shards a node sent, and what their masters say of their
  // replicas (INFO replication), awaited from `outstanding` masters.
  std::vector<ClusterShard> shards;
  MasterReplication replication;
  size_t outstanding = 0;
};

ClusterProviderOptions clusterProviderOptionsFor(const config::PoolConfig& pool) {
  ClusterProviderOptions options;
  options.pool = pool.name;
  for (const config::ServerConfig& server : pool.servers) {
    options.seeds.push_back({server.address.host, server.address.port});
  }
  options.node_password = pool.redis_auth;
  options.refresh_interval = common::Millis(pool.cluster_refresh_interval_ms);
  options.replica_max_lag_seconds = pool.replica_max_lag_s;
  return options;
}

ClusterProvider::ClusterProvider(asio::io_context& io, ClusterProviderOptions options,
                                 ClusterListener listener)
    : PollingProvider(io,
                      {"", options.node_password, options.connect_timeout, options.request_timeout},
                      options.refresh_interval),
      io_(io),
      options_(std::move(options)),
      listener_(std::move(listener)),
      failover_timer_(io) {}

// stop() runs onStop(), which ~PollingProvider can no longer call.
ClusterProvider::~ClusterProvider() { stop(); }

void ClusterProvider::onStart() { trigger(); }

void ClusterProvider::onStop() {
  round_running_ = false;
  again_ = false;
  failover_timer_.cancel();
}

void ClusterProvider::onPoll() { trigger(); }

void ClusterProvider::rediscover(const std::string& /*name*/) { trigger(); }

void ClusterProvider::trigger() {
  if (!running()) return;
  if (round_running_) {
    again_ = true;
    return;
  }
  startRound();
}

// The last node that answered, then every node of the last view, then the seeds; each once.
std::vector<NodeAddress> ClusterProvider::candidates() const {
  std::vector<NodeAddress> order;
  std::set<NodeAddress> seen;
  auto add = [&](const NodeAddress& node) {
    if (seen.insert(node).second) order.push_back(node);
  };
  if (last_source_) add(*last_source_);
  if (published_ != nullptr) {
    for (const ClusterShard& shard : published_->shards) {
      for (const ClusterNode& node : shard.nodes) {
        if (node.health == ClusterNodeHealth::kOnline) add(node.address);
      }
    }
  }
  for (const NodeAddress& seed : options_.seeds) add(seed);
  return order;
}

void ClusterProvider::startRound() {
  round_running_ = true;
  again_ = false;
  auto round = std::make_shared<Round>();
  round->candidates = candidates();
  round->started = common::now();
  askNext(round);
}

void ClusterProvider::askNext(const std::shared_ptr<Round>& round) {
  if (round->next >= round->candidates.size()) {
    finishRound(round, false);
    return;
  }
  const NodeAddress node = round->candidates[round->next++];
  std::weak_ptr<int> life = this->life();
  nodes_.to(node).request(
      {"CLUSTER", "SHARDS"}, [this, life, round, node](common::Result<std::string> reply) {
        if (life.expired()) return;
        if (reply.ok() && resp::isErrorReply(*reply) &&
            resp::lineReplyText(*reply).find("unknown subcommand") != std::string_view::npos) {
          askSlots(round, node);  // a server older than 7.0
          return;
        }
        onAnswer(round, node, reply.ok() ? parseClusterShards(*reply) : reply.error());
      });
}

void ClusterProvider::askSlots(const std::shared_ptr<Round>& round, const NodeAddress& node) {
  std::weak_ptr<int> life = this->life();
  nodes_.to(node).request(
      {"CLUSTER", "SLOTS"}, [this, life, round, node](common::Result<std::string> reply) {
        if (life.expired()) return;
        onAnswer(round, node, reply.ok() ? parseClusterSlots(*reply) : reply.error());
      });
}

void ClusterProvider::onAnswer(const std::shared_ptr<Round>& round, const NodeAddress& node,
                               common::Result<std::vector<ClusterShard>> shards) {
  if (!shards.ok()) {
    ++refresh_failures_;
    round->last_failure = node.toString() + ": " + shards.error().message;
    askNext(round);
    return;
  }
  std::vector<NodeAddress> masters;
  for (ClusterShard& shard : *shards) {
    for (ClusterNode& member : shard.nodes) {
      if (member.address.host.empty()) member.address.host = node.host;  // itself
    }
    const ClusterNode* master = shard.master();
    const bool replicated = shard.nodes.size() > 1;
    if (master != nullptr && replicated && master->health == ClusterNodeHealth::kOnline) {
      masters.push_back(master->address);
    }
  }
  round->shards = std::move(*shards);
  if (masters.empty()) {
    assemble(round, node);
    return;
  }
  // Each master's INFO replication says how long ago each replica acknowledged (its lag).
  round->outstanding = masters.size();
  std::weak_ptr<int> life = this->life();
  for (const NodeAddress& master : masters) {
    nodes_.to(master).request({"INFO", "replication"},
                              [this, life, round, node, master](common::Result<std::string> reply) {
                                if (life.expired()) return;
                                if (reply.ok()) {
                                  if (auto info = parseInfoReplication(*reply); info.ok()) {
                                    round->replication[master] = std::move(info.value());
                                  }
                                }
                                if (--round->outstanding == 0) assemble(round, node);
                              });
  }
}

void ClusterProvider::assemble(const std::shared_ptr<Round>& round, const NodeAddress& node) {
  common::Result<ClusterView> view = assembleClusterView(
      std::move(round->shards), round->replication, options_.replica_max_lag_seconds);
  if (!view.ok()) {
    ++refresh_failures_;
    round->last_failure = node.toString() + ": " + view.error().message;
    askNext(round);
    return;
  }
  last_source_ = node;
  ++refreshes_;
  view->source = node;
  view->refresh_usec = static_cast<int64_t>(common::elapsedMicros(round->started, common::now()));
  view->refreshes = refreshes_;
  view->refresh_failures = refresh_failures_;
  if (published_ == nullptr || !sameClusterState(*published_, *view)) {
    view->generation = published_ != nullptr ? published_->generation + 1 : 1;
    for (auto& group : view->groups) {  // a shard's group changes with its cluster
      auto numbered = std::make_shared<GroupView>(*group);
      numbered->generation = view->generation;
      group = std::move(numbered);
    }
    auto next = std::make_shared<const ClusterView>(std::move(*view));
    spdlog::info("{}", describeClusterChange(options_.pool, published_.get(), *next));
    published_ = next;
    std::set<NodeAddress> kept(options_.seeds.begin(), options_.seeds.end());
    for (const ClusterShard& shard : next->shards) {
      for (const ClusterNode& member : shard.nodes) kept.insert(member.address);
    }
    nodes_.closeAllBut(kept);
    listener_(published_);
  }
  finishRound(round, true);
}

void ClusterProvider::finishRound(const std::shared_ptr<Round>& round, bool answered) {
  if (!answered) {
    uint64_t suppressed = 0;
    if (failure_log_.allow(suppressed)) {
      spdlog::warn(
          "cluster of pool '{}': no node answered CLUSTER SHARDS ({} asked; last: {}); the last "
          "slot table is kept ({} messages suppressed)",
          options_.pool, round->candidates.size(), round->last_failure, suppressed);
    }
  }
  round_running_ = false;
  if (!running()) return;
  if (again_) {
    startRound();
    return;
  }
  if (answered && published_ != nullptr && awaitsFailover(*published_)) {
    // The cluster is failing a master over: its replica's promotion is read within
    // kFailoverRefresh, not at the next interval.
    std::weak_ptr<int> life = this->life();
    failover_timer_.expires_after(std::min(kFailoverRefresh, options_.refresh_interval));
    failover_timer_.async_wait([this, life](const std::error_code& error) {
      if (!error && !life.expired()) trigger();
    });
  }
}

}  // namespace sy::topology
