// What a Redis Cluster node answers about the cluster's layout, parsed from framed RESP2 replies
// into plain values: CLUSTER SHARDS (Redis 7.0+) and CLUSTER SLOTS, and the slot -> shard table
// built from either. Pure functions on bytes (any thread); malformed input gives an error value,
// never a crash or an exception.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "topology/sentinel_replies.h"

namespace sy::topology {

// The number of hash slots of a Redis Cluster; slots are 0..kClusterSlotCount-1.
inline constexpr uint16_t kClusterSlotCount = 16384;

// CLUSTER SHARDS "health": "online", "loading"; "fail" and any state this code does not know are
// kFailed, so an unknown state is never taken for a usable node. A node without the field (and
// every node of CLUSTER SLOTS) is kOnline.
enum class ClusterNodeHealth { kOnline, kFailed, kLoading };

struct ClusterNode {
  std::string id;  // node id (40 hex chars); empty when CLUSTER SLOTS of an old server omits it
  NodeAddress address;  // "ip" (or "endpoint" when ip is empty) and "port"
  bool master = false;  // role "master"
  ClusterNodeHealth health = ClusterNodeHealth::kOnline;
  int64_t replication_offset = -1;  // -1 when unknown
};

// Inclusive, within 0..kClusterSlotCount-1 once parsed.
struct SlotRange {
  uint16_t first = 0;
  uint16_t last = 0;

  auto operator<=>(const SlotRange&) const = default;
};

// A master and its replicas, with the slots the master serves (possibly none).
struct ClusterShard {
  std::vector<SlotRange> slots;    // sorted by first
  std::vector<ClusterNode> nodes;  // the master first (when the shard has one), then replicas
                                   // sorted by address

  const ClusterNode* master() const;  // null when no node of the shard is master
};

// CLUSTER SHARDS: one shard per entry, in the reply's order. Unknown fields are skipped; integer
// fields may come as integers or as bulk strings of digits. An error reply, a node without a
// usable address (port 1..65535; the endpoint "?") or a slot outside 0..16383 is an error. A
// node with an empty ip and endpoint keeps an empty host: it is the node that answered, which
// does not know its own address yet (the caller knows it).
common::Result<std::vector<ClusterShard>> parseClusterShards(std::string_view framed);

// CLUSTER SLOTS: the ranges of one master (same address) merged into one shard, shards in the
// order their master first appears. SLOTS lists only nodes not failed, so every node is kOnline;
// it gives no offsets, so replication_offset is -1.
common::Result<std::vector<ClusterShard>> parseClusterSlots(std::string_view framed);

// Which shard serves each slot: owner[slot] is an index into the shard vector the table was built
// from, or kUnowned.
struct SlotTable {
  static constexpr uint16_t kUnowned = 0xffff;
  std::array<uint16_t, kClusterSlotCount> owner;
};

// An error when two shards claim one slot, a range has first > last or lies outside 0..16383, or
// there are kUnowned shards or more.
common::Result<SlotTable> buildSlotTable(const std::vector<ClusterShard>& shards);

}  // namespace sy::topology
