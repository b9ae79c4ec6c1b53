#include "topology/cluster_provider.h"

#include <spdlog/spdlog.h>

#include <set>
#include <utility>

#include "resp/reply_inspect.h"

namespace sy::topology {

// One refresh round: the nodes to ask, in order, and when it started.
struct ClusterProvider::Round {
  std::vector<NodeAddress> candidates;
  size_t next = 0;
  common::TimePoint started{};
  std::string last_failure;
};

ClusterProviderOptions clusterProviderOptionsFor(const config::PoolConfig& pool) {
  ClusterProviderOptions options;
  options.pool = pool.name;
  for (const config::ServerConfig& server : pool.servers) {
    options.seeds.push_back({server.address.host, server.address.port});
  }
  options.node_password = pool.redis_auth;
  options.refresh_interval = common::Millis(pool.cluster_refresh_interval_ms);
  return options;
}

ClusterProvider::ClusterProvider(asio::io_context& io, ClusterProviderOptions options,
                                 ClusterListener listener)
    : PollingProvider(io,
                      {"", options.node_password, options.connect_timeout, options.request_timeout},
                      options.refresh_interval),
      io_(io),
      options_(std::move(options)),
      listener_(std::move(listener)) {}

// stop() runs onStop(), which ~PollingProvider can no longer call.
ClusterProvider::~ClusterProvider() { stop(); }

void ClusterProvider::onStart() { trigger(); }

void ClusterProvider::onStop() {
  round_running_ = false;
  again_ = false;
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
  if (shards.ok()) {
    for (ClusterShard& shard : *shards) {
      for (ClusterNode& member : shard.nodes) {
        if (member.address.host.empty()) member.address.host = node.host;  // itself
      }
    }
  }
  common::Result<ClusterView> view =
      shards.ok() ? assembleClusterView(std::move(*shards)) : shards.error();
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
  if (again_ && running()) startRound();
}

}  // namespace sy::topology
