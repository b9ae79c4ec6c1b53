// Test helper: cluster shards as CLUSTER SHARDS would describe them, built by hand.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "topology/cluster_replies.h"

namespace sy::topology {

inline ClusterNode clusterNode(uint16_t port, bool master,
                               ClusterNodeHealth health = ClusterNodeHealth::kOnline,
                               int64_t offset = 100) {
  return ClusterNode{"id" + std::to_string(port), {"127.0.0.1", port}, master, health, offset};
}

// A shard serving `ranges`, its master on `master_port`, one online replica on `replica_port`
// (none when 0).
inline ClusterShard clusterShard(std::vector<SlotRange> ranges, uint16_t master_port,
                                 uint16_t replica_port = 0) {
  ClusterShard shard;
  shard.slots = std::move(ranges);
  shard.nodes.push_back(clusterNode(master_port, true));
  if (replica_port != 0) shard.nodes.push_back(clusterNode(replica_port, false));
  return shard;
}

// The usual three-master layout of `redis-cli --cluster create`, given out of order.
inline std::vector<ClusterShard> threeShards() {
  return {clusterShard({{10923, 16383}}, 7002, 7005), clusterShard({{0, 5460}}, 7000, 7003),
          clusterShard({{5461, 10922}}, 7001, 7004)};
}

}  // namespace sy::topology
