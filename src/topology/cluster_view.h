// ClusterView: what the control plane knows about one Redis Cluster, as an immutable value:
// its shards (a master, replicas, slot ranges), the slot table, and one GroupView per shard so
// that a shard is served, reported and failed over as any other replication group.
//
//   CLUSTER SHARDS (or SLOTS) --parse--> shards --assembleClusterView--> ClusterView
//
// A shard's group is named by the first slot it serves ("slots-0", "slots-5461"): the name
// outlives a failover (the master changes, the slots do not), so writes parked during one
// find their shard again. A shard with no slot is named by its master ("node-host:port").
// Pure values and functions; any thread.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "topology/cluster_replies.h"
#include "topology/sentinel_view.h"

namespace sy::topology {

struct ClusterView {
  uint64_t generation = 0;           // 1 for the first published view, +1 for every change
  std::vector<ClusterShard> shards;  // in slot order; the slot table's shard indexes
  std::shared_ptr<const SlotTable> slots;
  std::vector<std::shared_ptr<const GroupView>> groups;  // one per shard, same order
  std::vector<uint32_t> slot_counts;                     // slots each shard serves, same order
  uint32_t slots_served = 0;                             // slots some shard serves
  NodeAddress source;                                    // the node whose answer this is
  int64_t refresh_usec = -1;                             // how long reading it took
  uint64_t refreshes = 0;         // reads of the slot table since start-up (a counter)
  uint64_t refresh_failures = 0;  // nodes that failed to answer (a counter)
};

// The group name of a shard (see above).
std::string shardName(const ClusterShard& shard);

// What shards' masters said of their replicas (INFO replication), by master address.
using MasterReplication = std::map<NodeAddress, InfoReplication>;

// A view of `shards` (less those with no slot and no online node: a failed master replaced by
// its replica), sorted by their first slot (shards without slots last), with the slot
// table over that order, and a GroupView per shard: its master confirmed when the master's
// health is online, replicas healthy when online, every other one flagged down. A replica
// whose master's line in `replication` says its last ack is older than `max_lag_seconds`
// (when >= 0) is kLagging instead of healthy. An error when the shards do not make a slot
// table (two claim one slot). Generation and counters are 0.
common::Result<ClusterView> assembleClusterView(std::vector<ClusterShard> shards,
                                                const MasterReplication& replication = {},
                                                int64_t max_lag_seconds = -1);

// True when the two views route the same way: same shards, slots, masters and health.
bool sameClusterState(const ClusterView& a, const ClusterView& b);

// One line saying what changed, e.g. "cluster of pool 'alpha' generation 4: 3 shards,
// 16384 slots served; slots-0 master 127.0.0.1:7003 (was 127.0.0.1:7000)".
std::string describeClusterChange(const std::string& pool, const ClusterView* before,
                                  const ClusterView& after);

}  // namespace sy::topology
