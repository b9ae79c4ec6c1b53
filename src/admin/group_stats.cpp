// collectGroups and collectClusters: the replication groups and cluster pools of the running
// snapshot, for INFO, Prometheus and the stats JSON.
#include "admin/stats_snapshot.h"

namespace sy::admin {
namespace {

const char* writesName(topology::WriteState writes) {
  switch (writes) {
    case topology::WriteState::kOpen:
      return "open";
    case topology::WriteState::kWait:
      return "wait";
    case topology::WriteState::kRefused:
      return "refused";
  }
  return "wait";
}

// Adds every worker's requests and latency to the node counted under `name` in `pool`.
void addTraffic(GroupNodeStats& node, const server::Proxy& proxy, const std::string& pool,
                const std::string& name) {
  for (const auto& worker : proxy.workers()) {
    const backend::BackendCounters* counters = worker->counters().findServer(pool, name);
    if (counters == nullptr) continue;
    node.requests += (*counters)[ServerStat::requests].get();
    node.latency.add(counters->latency);
  }
}

// Whether read_from may send reads to the group's master in this snapshot (worker_groups.cpp
// decides per request; this is the same rule without connection state).
bool masterServesReads(config::ReadFrom read_from, const topology::ServerInfo& server) {
  switch (read_from) {
    case config::ReadFrom::kMaster:
      return true;
    case config::ReadFrom::kPreferMaster:
    case config::ReadFrom::kNearest:
      return server.master_readable || server.replicas.empty();
    case config::ReadFrom::kPreferReplica:
      return server.replicas.empty();
    case config::ReadFrom::kReplica:
      return false;
  }
  return false;
}

bool readsFromReplicas(config::ReadFrom read_from) {
  return read_from != config::ReadFrom::kMaster;
}

}  // namespace

std::vector<GroupStats> collectGroups(const server::Proxy& proxy,
                                      const topology::Topology& topology) {
  std::vector<GroupStats> groups;
  const auto& failovers = proxy.groups().failoverStats();
  for (const auto& pool : topology.pools()) {
    const config::PoolConfig& config = *pool.config;
    for (const auto& server : pool.servers) {
      if (!server.is_group) continue;
      GroupStats group;
      group.pool = config.name;
      group.name = server.stats_name;
      group.master = server.address_text;
      group.master_confirmed = server.master_readable;
      group.writes = writesName(server.writes);
      group.read_from = config::readFromName(config.read_from);
      if (pool.cluster != nullptr && server.index < pool.cluster->slot_counts.size()) {
        group.slots = pool.cluster->slot_counts[server.index];
      }
      auto failover = failovers.find({config.name, server.stats_name});
      if (failover != failovers.end()) {
        group.failovers = failover->second.failovers;
        if (failover->second.last_follow_usec >= 0) {
          group.last_failover_follow_ms = failover->second.last_follow_usec / 1000;
        }
      }
      GroupNodeStats master;
      master.address = server.address_text;
      master.role = "master";
      master.health = server.master_readable ? "healthy" : "unconfirmed";
      master.rtt_usec = server.master_rtt_usec;
      master.serves_reads = masterServesReads(config.read_from, server);
      addTraffic(master, proxy, config.name, server.stats_name);
      group.nodes.push_back(std::move(master));
      if (const topology::GroupView* view = server.view.get()) {
        group.generation = view->generation;
        group.sentinels = view->sentinels.size();
        group.reachable_sentinels = view->reachableSentinels();
        group.replicas = view->replicas.size();
        group.healthy_replicas = view->healthyReplicas();
        for (const topology::ReplicaView& replica : view->replicas) {
          GroupNodeStats node;
          node.address = replica.address.toString();
          node.role = "replica";
          node.health = topology::replicaHealthName(replica.health);
          node.lag_seconds = replica.lag_seconds;
          node.rtt_usec = replica.rtt_usec;
          node.serves_reads = replica.healthy() && readsFromReplicas(config.read_from);
          addTraffic(node, proxy, config.name, server.stats_name + "@" + node.address);
          group.nodes.push_back(std::move(node));
        }
      }
      groups.push_back(std::move(group));
    }
  }
  return groups;
}

std::vector<ClusterStats> collectClusters(const server::Proxy& proxy,
                                          const topology::Topology& topology) {
  std::vector<ClusterStats> clusters;
  for (const auto& pool : topology.pools()) {
    if (!pool.config->cluster) continue;
    ClusterStats cluster;
    cluster.pool = pool.config->name;
    if (const topology::ClusterView* view = pool.cluster.get()) {
      cluster.generation = view->generation;
      cluster.shards = view->shards.size();
      for (const topology::ClusterShard& shard : view->shards) cluster.nodes += shard.nodes.size();
      cluster.slots_served = view->slots_served;
      cluster.refreshes = view->refreshes;
      cluster.refresh_failures = view->refresh_failures;
      cluster.last_refresh_usec = view->refresh_usec;
      cluster.source = view->source.toString();
    }
    for (const auto& worker : proxy.workers()) {
      const server::PoolCounters* counters = worker->counters().findPool(cluster.pool);
      if (counters == nullptr) continue;
      cluster.moved += counters->cluster_moved.get();
      cluster.ask += counters->cluster_ask.get();
      cluster.retries += counters->cluster_retries.get();
    }
    clusters.push_back(std::move(cluster));
  }
  return clusters;
}

const ClusterStats* findCluster(const StatsSnapshot& snapshot, std::string_view pool) {
  for (const ClusterStats& cluster : snapshot.clusters) {
    if (cluster.pool == pool) return &cluster;
  }
  return nullptr;
}

}  // namespace sy::admin
