// What Sentinel and Redis nodes answer to the control plane's questions, parsed from framed
// RESP2 replies into plain values: SENTINEL get-master-addr-by-name / replicas / sentinels,
// ROLE, INFO replication, and the event messages Sentinel publishes. Pure functions on bytes
// (any thread); malformed input gives an error value, never a crash or an exception.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace sy::topology {

// A TCP node as Sentinel and ROLE name it: an IP (or host name) and a port.
struct NodeAddress {
  std::string host;
  uint16_t port = 0;

  std::string toString() const;  // "host:port", "[v6]:port" for an IPv6 literal
  auto operator<=>(const NodeAddress&) const = default;
};

// "host" and "port" texts -> NodeAddress; the port must be 1..65535.
common::Result<NodeAddress> makeNodeAddress(std::string_view host, std::string_view port);

// SENTINEL get-master-addr-by-name <name>: the master's address, or nullopt when this Sentinel
// does not monitor a master of that name (null reply). An error reply is an error.
common::Result<std::optional<NodeAddress>> parseMasterAddrReply(std::string_view framed);

// One entry of SENTINEL replicas / SENTINEL sentinels (a flat list of field names and values).
struct SentinelInstance {
  NodeAddress address;
  std::string flags;                     // e.g. "slave", "s_down,slave", "disconnected,slave"
  std::string master_link_status;        // replicas: "ok" or "err"
  int64_t master_link_down_time_ms = 0;  // replicas
  int64_t repl_offset = -1;              // replicas: slave-repl-offset, -1 when absent

  bool hasFlag(std::string_view flag) const;
  // Flagged by Sentinel as unusable: s_down, o_down or disconnected.
  bool flaggedDown() const;
};

common::Result<std::vector<SentinelInstance>> parseInstanceList(std::string_view framed);

// ROLE.
struct ReplicaOffset {
  NodeAddress address;
  int64_t offset = 0;
};
struct RoleReply {
  enum class Kind { kMaster, kReplica, kSentinel };
  Kind kind = Kind::kMaster;
  int64_t offset = 0;                   // master: its offset; replica: offset processed
  std::vector<ReplicaOffset> replicas;  // master: its connected replicas
  NodeAddress master;                   // replica: the master it replicates from
  std::string link_state;               // replica: "connected", "connect", "connecting", "sync"
};
common::Result<RoleReply> parseRoleReply(std::string_view framed);

// INFO replication (the bulk reply's text, "key:value" lines).
struct ReplicaLine {
  NodeAddress address;
  std::string state;  // "online", "wait_bgsave", "send_bulk", ...
  int64_t offset = 0;
  int64_t lag_seconds = -1;  // seconds since the replica's last ack
};
struct InfoReplication {
  std::string role;  // "master" or "slave"
  int64_t master_repl_offset = -1;
  std::vector<ReplicaLine> replicas;  // role master: the slaveN lines
  std::string master_link_status;     // role slave: "up" or "down"
};
common::Result<InfoReplication> parseInfoReplication(std::string_view framed);

// An event Sentinel published on one of its channels.
struct SentinelEvent {
  std::string channel;      // "+switch-master", "+sdown", ...
  std::string payload;      // the message text
  std::string master_name;  // the master group it concerns; empty when it names none
  // +switch-master: where the master now is; +promoted-slave: the replica just promoted.
  std::optional<NodeAddress> new_master;
};

// The channels the watcher subscribes to on every Sentinel.
const std::vector<std::string>& sentinelEventChannels();

// A pub/sub push ("message", channel, payload) -> the event; nullopt for anything else
// (subscribe confirmations, other pushes, malformed input).
std::optional<SentinelEvent> parseEventMessage(std::string_view framed);

// Reads the master name (and, for +switch-master, the new address) from an event payload:
//   "<type> <name> <ip> <port> @ <master-name> <master-ip> <master-port>"  (instance events)
//   "master <name> <ip> <port>"                                             (master events)
//   "<name> <old-ip> <old-port> <new-ip> <new-port>"                        (+switch-master)
SentinelEvent describeEvent(std::string channel, std::string payload);

}  // namespace sy::topology
