#include "server/replication_groups.h"

#include <spdlog/spdlog.h>
#include <asio/post.hpp>

#include "topology/cluster_provider.h"

namespace sy::server {
namespace {

bool writesOpen(const topology::GroupView& view) {
  return view.master_confirmed && !view.failover_in_progress && view.claimed_masters.size() < 2;
}

}  // namespace

ReplicationGroups::ReplicationGroups(asio::io_context& control_io, std::function<void()> publish,
                                     ProviderFactory make_provider)
    : io_(control_io), publish_(std::move(publish)), make_provider_(std::move(make_provider)) {}

ReplicationGroups::~ReplicationGroups() { stop(); }

void ReplicationGroups::setBase(const topology::Topology& base) {
  retireProviders();
  topology::GroupViews kept;
  topology::ClusterViews kept_clusters;
  for (const topology::PoolTopology& pool : base.pools()) {
    const config::PoolConfig& config = *pool.config;
    if (config.cluster) {
      auto last = cluster_views_.find(config.name);
      if (last != cluster_views_.end()) kept_clusters.insert(*last);
      auto listener = [this, pool_name = config.name](
                          const std::shared_ptr<const topology::ClusterView>& view) {
        onClusterView(pool_name, view);
      };
      providers_.push_back({config.name, std::make_unique<topology::ClusterProvider>(
                                             io_, topology::clusterProviderOptionsFor(config),
                                             std::move(listener))});
      continue;
    }
    if (!config.hasGroups()) continue;
    for (const topology::ServerInfo& server : pool.servers) {
      auto view = views_.find({config.name, server.stats_name});
      if (view != views_.end()) kept.insert(*view);
    }
    auto listener =
        [this, pool_name = config.name](const std::shared_ptr<const topology::GroupView>& view) {
          onView(pool_name, view);
        };
    providers_.push_back({config.name, make_provider_(io_, config, std::move(listener))});
  }
  views_ = std::move(kept);
  cluster_views_ = std::move(kept_clusters);
  for (Provider& provider : providers_) provider.provider->start();
}

void ReplicationGroups::stop() { retireProviders(); }

// Stops the providers; they are destroyed from a fresh handler, once the handlers their stop
// cancelled have run.
void ReplicationGroups::retireProviders() {
  if (providers_.empty()) return;
  for (Provider& provider : providers_) provider.provider->stop();
  auto doomed = std::make_shared<std::vector<Provider>>(std::move(providers_));
  providers_.clear();
  asio::post(io_, [doomed] {});
}

void ReplicationGroups::rediscover(const std::string& pool, const std::string& group) {
  for (Provider& provider : providers_) {
    if (provider.pool != pool) continue;
    uint64_t suppressed = 0;
    if (!group.empty() && readonly_log_.allow(suppressed)) {
      spdlog::warn(
          "group '{}' of pool '{}': a node answered READONLY; re-discovering ({} similar "
          "messages suppressed)",
          group, pool, suppressed);
    }
    provider.provider->rediscover(group);
  }
}

void ReplicationGroups::onView(const std::string& pool,
                               const std::shared_ptr<const topology::GroupView>& view) {
  Key key{pool, view->name};
  countFailover(key, *view);
  views_[key] = view;
  publish_();
}

void ReplicationGroups::onClusterView(const std::string& pool,
                                      const std::shared_ptr<const topology::ClusterView>& view) {
  for (const auto& group : view->groups) countFailover({pool, group->name}, *group);
  cluster_views_[pool] = view;
  publish_();
}

void ReplicationGroups::countFailover(const Key& key, const topology::GroupView& after) {
  common::TimePoint now = common::now();
  if (!writesOpen(after)) {
    unwritable_since_.try_emplace(key, now);
    return;
  }
  auto since = unwritable_since_.find(key);
  // A confirmed master other than the last confirmed one: a failover followed.
  auto last = confirmed_master_.find(key);
  bool new_master =
      last != confirmed_master_.end() && after.master && last->second != *after.master;
  if (after.master) confirmed_master_[key] = *after.master;
  if (new_master) {
    GroupFailoverStats& stats = failovers_[key];
    ++stats.failovers;
    if (after.failover_follow_usec >= 0) {
      stats.last_follow_usec = after.failover_follow_usec;
    } else if (since != unwritable_since_.end()) {
      stats.last_follow_usec = static_cast<int64_t>(common::elapsedMicros(since->second, now));
    } else {
      stats.last_follow_usec = 0;
    }
    spdlog::info("group '{}' of pool '{}': failover {} followed in {} ms, master now {}",
                 key.second, key.first, stats.failovers, stats.last_follow_usec / 1000,
                 after.master->toString());
  }
  if (since != unwritable_since_.end()) unwritable_since_.erase(since);
}

}  // namespace sy::server
