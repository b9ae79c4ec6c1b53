#include "topology/cluster_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace sy::topology {
namespace {

// Shards with slots first, by their first slot; then the slotless ones by master address.
bool servesEarlier(const ClusterShard& a, const ClusterShard& b) {
  if (a.slots.empty() != b.slots.empty()) return !a.slots.empty();
  if (!a.slots.empty()) return a.slots.front().first < b.slots.front().first;
  const ClusterNode* am = a.master();
  const ClusterNode* bm = b.master();
  if (am == nullptr || bm == nullptr) return am != nullptr;
  return am->address < bm->address;
}

// The seconds since `replica`'s last ack that its master reports; -1 when it reports none.
int64_t lagSeconds(const InfoReplication* master_info, const NodeAddress& replica) {
  if (master_info == nullptr) return -1;
  for (const ReplicaLine& line : master_info->replicas) {
    if (mayBeSameNode(line.address, replica)) return line.lag_seconds;
  }
  return -1;
}

std::shared_ptr<const GroupView> shardGroup(const ClusterShard& shard,
                                            const MasterReplication& replication,
                                            int64_t max_lag_seconds) {
  auto view = std::make_shared<GroupView>();
  view->name = shardName(shard);
  const ClusterNode* master = shard.master();
  if (master != nullptr) {
    view->master = master->address;
    view->master_confirmed = master->health == ClusterNodeHealth::kOnline;
  } else if (!shard.nodes.empty()) {
    view->master = shard.nodes.front().address;  // where the cluster will answer MOVED
  }
  const InfoReplication* master_info = nullptr;
  if (master != nullptr) {
    auto found = replication.find(master->address);
    if (found != replication.end()) master_info = &found->second;
  }
  for (const ClusterNode& node : shard.nodes) {
    if (&node == master) continue;
    ReplicaView replica;
    replica.address = node.address;
    const bool online = node.health == ClusterNodeHealth::kOnline;
    replica.health = online ? ReplicaHealth::kHealthy : ReplicaHealth::kFlaggedDown;
    replica.link_up = online;
    if (master != nullptr && master->replication_offset >= 0 && node.replication_offset >= 0) {
      replica.lag_bytes =
          std::max<int64_t>(0, master->replication_offset - node.replication_offset);
    }
    replica.lag_seconds = lagSeconds(master_info, node.address);
    if (online && max_lag_seconds >= 0 && replica.lag_seconds > max_lag_seconds) {
      replica.health = ReplicaHealth::kLagging;
    }
    view->replicas.push_back(std::move(replica));
  }
  std::sort(view->replicas.begin(), view->replicas.end(),
            [](const ReplicaView& a, const ReplicaView& b) { return a.address < b.address; });
  return view;
}

}  // namespace

std::string shardName(const ClusterShard& shard) {
  if (!shard.slots.empty()) return fmt::format("slots-{}", shard.slots.front().first);
  const ClusterNode* master = shard.master();
  if (master != nullptr) return "node-" + master->address.toString();
  return shard.nodes.empty() ? "node-none" : "node-" + shard.nodes.front().address.toString();
}

common::Result<ClusterView> assembleClusterView(std::vector<ClusterShard> shards,
                                                const MasterReplication& replication,
                                                int64_t max_lag_seconds) {
  // A failed master whose slots its replica took stays listed, alone and with no slot.
  std::erase_if(shards, [](const ClusterShard& shard) {
    return shard.slots.empty() &&
           std::none_of(shard.nodes.begin(), shard.nodes.end(), [](const ClusterNode& node) {
             return node.health == ClusterNodeHealth::kOnline;
           });
  });
  std::stable_sort(shards.begin(), shards.end(), servesEarlier);
  auto table = buildSlotTable(shards);
  if (!table.ok()) return common::makeError(table.error().message);
  ClusterView view;
  view.slots = std::make_shared<const SlotTable>(*table);
  view.slot_counts.assign(shards.size(), 0);
  for (uint16_t owner : view.slots->owner) {
    if (owner == SlotTable::kUnowned) continue;
    ++view.slot_counts[owner];
    ++view.slots_served;
  }
  for (const ClusterShard& shard : shards) {
    view.groups.push_back(shardGroup(shard, replication, max_lag_seconds));
  }
  view.shards = std::move(shards);
  return view;
}

bool sameClusterState(const ClusterView& a, const ClusterView& b) {
  if (a.groups.size() != b.groups.size()) return false;
  if ((a.slots == nullptr) != (b.slots == nullptr)) return false;
  if (a.slots != nullptr && a.slots->owner != b.slots->owner) return false;
  for (size_t i = 0; i < a.groups.size(); ++i) {
    if (a.groups[i]->name != b.groups[i]->name) return false;
    if (!sameState(*a.groups[i], *b.groups[i])) return false;
  }
  return true;
}

std::string describeClusterChange(const std::string& pool, const ClusterView* before,
                                  const ClusterView& after) {
  std::string line = fmt::format(
      "cluster of pool '{}' generation {}: {} shards, {} slots served (from {})", pool,
      after.generation, after.shards.size(), after.slots_served, after.source.toString());
  for (const auto& group : after.groups) {
    const GroupView* old = nullptr;
    if (before != nullptr) {
      for (const auto& candidate : before->groups) {
        if (candidate->name == group->name) old = candidate.get();
      }
    }
    if (old != nullptr && sameState(*old, *group)) continue;
    line += "; " + describeChange(old, *group);
  }
  return line;
}

}  // namespace sy::topology
