#include "topology/cluster_replies.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "resp/reply_inspect.h"

namespace sy::topology {
namespace {

using common::makeError;
using common::Result;

common::Error replyError(std::string_view what, std::string_view framed) {
  if (resp::isErrorReply(framed)) {
    return makeError(std::string(what) + ": " + std::string(resp::lineReplyText(framed)));
  }
  return makeError(std::string(what) + ": unexpected reply");
}

common::Error prefixed(std::string_view what, const common::Error& error) {
  return makeError(std::string(what) + ": " + error.message);
}

// Two integer elements -> a range within 0..16383.
Result<SlotRange> makeSlotRange(std::string_view first, std::string_view last) {
  std::optional<int64_t> from = resp::integerOrDecimalReply(first);
  std::optional<int64_t> to = resp::integerOrDecimalReply(last);
  if (!from || !to) {
    return makeError("malformed slot range");
  }
  if (*from < 0 || *to >= kClusterSlotCount || *from > *to) {
    return makeError("invalid slot range " + std::to_string(*from) + "-" + std::to_string(*to));
  }
  return SlotRange{static_cast<uint16_t>(*from), static_cast<uint16_t>(*to)};
}

// "?" is what a node reports for an endpoint it does not know. An empty host is kept: a node
// that has never met another (a lone node) does not know its own address.
Result<NodeAddress> makeClusterAddress(std::string_view host, int64_t port) {
  if (host == "?" || port < 1 || port > 65535) {
    return makeError("invalid address '" + std::string(host) + ":" + std::to_string(port) + "'");
  }
  return NodeAddress{std::string(host), static_cast<uint16_t>(port)};
}

ClusterNodeHealth healthOf(std::string_view text) {
  if (text == "online") return ClusterNodeHealth::kOnline;
  if (text == "loading") return ClusterNodeHealth::kLoading;
  return ClusterNodeHealth::kFailed;
}

// Slots sorted by first; masters first, then the rest by address.
void putInOrder(ClusterShard& shard) {
  std::ranges::sort(shard.slots, {}, &SlotRange::first);
  std::ranges::stable_sort(shard.nodes, [](const ClusterNode& a, const ClusterNode& b) {
    if (a.master != b.master) return a.master;
    return a.address < b.address;
  });
}

// CLUSTER SHARDS "slots": a flat array of integers, start and end of each range.
Result<std::vector<SlotRange>> parseSlotPairs(std::string_view element) {
  std::vector<std::string_view> bounds;
  if (!resp::splitArray(element, bounds) || bounds.size() % 2 != 0) {
    return makeError("malformed slots");
  }
  std::vector<SlotRange> ranges;
  for (size_t i = 0; i + 1 < bounds.size(); i += 2) {
    Result<SlotRange> range = makeSlotRange(bounds[i], bounds[i + 1]);
    if (!range) return range.error();
    ranges.push_back(*range);
  }
  return ranges;
}

// One entry of CLUSTER SHARDS "nodes": a flat list of field names and values.
Result<ClusterNode> parseShardNode(std::string_view element) {
  std::vector<std::string_view> fields;
  if (!resp::splitArray(element, fields) || fields.size() % 2 != 0) {
    return makeError("malformed node");
  }
  std::optional<std::string_view> id, ip, endpoint, role, health;
  std::optional<int64_t> port, offset;
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    std::optional<std::string_view> key = resp::textReply(fields[i]);
    std::string_view value = fields[i + 1];
    bool well_formed = key.has_value();
    auto readText = [&](std::optional<std::string_view>& out) {
      out = resp::textReply(value);
      well_formed = out.has_value();
    };
    auto readInteger = [&](std::optional<int64_t>& out) {
      out = resp::integerOrDecimalReply(value);
      well_formed = out.has_value();
    };
    if (key == "id") readText(id);
    if (key == "ip") readText(ip);
    if (key == "endpoint") readText(endpoint);
    if (key == "role") readText(role);
    if (key == "health") readText(health);
    if (key == "port") readInteger(port);
    if (key == "replication-offset") readInteger(offset);
    if (!well_formed) {
      return makeError("malformed node field '" + std::string(key.value_or("?")) + "'");
    }
  }
  if (!port) {
    return makeError("node without a port");
  }
  std::string_view host = ip.value_or("").empty() ? endpoint.value_or("") : *ip;
  Result<NodeAddress> address = makeClusterAddress(host, *port);
  if (!address) return address.error();
  ClusterNode node;
  node.id = std::string(id.value_or(""));
  node.address = std::move(address.value());
  node.master = role == "master";
  node.health = health ? healthOf(*health) : ClusterNodeHealth::kOnline;
  node.replication_offset = offset.value_or(-1);
  return node;
}

Result<ClusterShard> parseShard(std::string_view element) {
  std::vector<std::string_view> fields;
  if (!resp::splitArray(element, fields) || fields.size() % 2 != 0) {
    return makeError("malformed shard");
  }
  ClusterShard shard;
  std::vector<std::string_view> nodes;
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    std::optional<std::string_view> key = resp::textReply(fields[i]);
    if (!key) {
      return makeError("malformed shard field");
    }
    if (*key == "slots") {
      Result<std::vector<SlotRange>> slots = parseSlotPairs(fields[i + 1]);
      if (!slots) return slots.error();
      shard.slots = std::move(slots.value());
    } else if (*key == "nodes") {
      if (!resp::splitArray(fields[i + 1], nodes)) {
        return makeError("malformed nodes");
      }
    }
  }
  for (std::string_view entry : nodes) {
    Result<ClusterNode> node = parseShardNode(entry);
    if (!node) return node.error();
    shard.nodes.push_back(std::move(node.value()));
  }
  if (shard.nodes.empty()) {
    return makeError("shard without nodes");
  }
  putInOrder(shard);
  return shard;
}

// One node of a CLUSTER SLOTS range: [ip, port, id, metadata...]; old servers omit the id.
Result<ClusterNode> parseSlotsNode(std::string_view element, bool master) {
  std::vector<std::string_view> fields;
  if (!resp::splitArray(element, fields) || fields.size() < 2) {
    return makeError("malformed node");
  }
  std::optional<std::string_view> host = resp::textReply(fields[0]);
  std::optional<int64_t> port = resp::integerOrDecimalReply(fields[1]);
  std::optional<std::string_view> id = fields.size() > 2 ? resp::textReply(fields[2]) : "";
  if (!host || !port || !id) {
    return makeError("malformed node");
  }
  Result<NodeAddress> address = makeClusterAddress(*host, *port);
  if (!address) return address.error();
  ClusterNode node;
  node.id = std::string(*id);
  node.address = std::move(address.value());
  node.master = master;
  return node;
}

// The shard whose master is at `master`'s address, added at the end when there is none.
ClusterShard& shardOf(std::vector<ClusterShard>& shards, ClusterNode&& master) {
  for (ClusterShard& shard : shards) {
    if (shard.nodes.front().address == master.address) return shard;
  }
  shards.emplace_back().nodes.push_back(std::move(master));
  return shards.back();
}

// Adds a CLUSTER SLOTS range entry [start, end, master, replicas...] to `shards`.
Result<void> addSlotsEntry(std::string_view entry, std::vector<ClusterShard>& shards) {
  std::vector<std::string_view> items;
  if (!resp::splitArray(entry, items) || items.size() < 3) {
    return makeError("malformed range entry");
  }
  Result<SlotRange> range = makeSlotRange(items[0], items[1]);
  if (!range) return range.error();
  Result<ClusterNode> master = parseSlotsNode(items[2], true);
  if (!master) return master.error();
  ClusterShard& shard = shardOf(shards, std::move(master.value()));
  shard.slots.push_back(*range);
  for (size_t i = 3; i < items.size(); ++i) {
    Result<ClusterNode> replica = parseSlotsNode(items[i], false);
    if (!replica) return replica.error();
    bool known = std::ranges::any_of(
        shard.nodes, [&](const ClusterNode& node) { return node.address == replica->address; });
    if (!known) shard.nodes.push_back(std::move(replica.value()));
  }
  return {};
}

}  // namespace

const ClusterNode* ClusterShard::master() const {
  auto found = std::ranges::find_if(nodes, &ClusterNode::master);
  return found == nodes.end() ? nullptr : &*found;
}

Result<std::vector<ClusterShard>> parseClusterShards(std::string_view framed) {
  std::vector<std::string_view> entries;
  if (!resp::splitArray(framed, entries)) {
    return replyError("CLUSTER SHARDS", framed);
  }
  std::vector<ClusterShard> shards;
  for (std::string_view entry : entries) {
    Result<ClusterShard> shard = parseShard(entry);
    if (!shard) return prefixed("CLUSTER SHARDS", shard.error());
    shards.push_back(std::move(shard.value()));
  }
  return shards;
}

Result<std::vector<ClusterShard>> parseClusterSlots(std::string_view framed) {
  std::vector<std::string_view> entries;
  if (!resp::splitArray(framed, entries)) {
    return replyError("CLUSTER SLOTS", framed);
  }
  std::vector<ClusterShard> shards;
  for (std::string_view entry : entries) {
    Result<void> added = addSlotsEntry(entry, shards);
    if (!added) return prefixed("CLUSTER SLOTS", added.error());
  }
  for (ClusterShard& shard : shards) putInOrder(shard);
  return shards;
}

Result<SlotTable> buildSlotTable(const std::vector<ClusterShard>& shards) {
  if (shards.size() >= SlotTable::kUnowned) {
    return makeError("slot table: " + std::to_string(shards.size()) + " shards, too many");
  }
  SlotTable table;
  table.owner.fill(SlotTable::kUnowned);
  for (size_t index = 0; index < shards.size(); ++index) {
    for (const SlotRange& range : shards[index].slots) {
      if (range.first > range.last || range.last >= kClusterSlotCount) {
        return makeError("slot table: invalid slot range " + std::to_string(range.first) + "-" +
                         std::to_string(range.last));
      }
      for (size_t slot = range.first; slot <= range.last; ++slot) {
        if (table.owner[slot] != SlotTable::kUnowned) {
          return makeError("slot table: slot " + std::to_string(slot) + " claimed by shards " +
                           std::to_string(table.owner[slot]) + " and " + std::to_string(index));
        }
        table.owner[slot] = static_cast<uint16_t>(index);
      }
    }
  }
  return table;
}

}  // namespace sy::topology
