// GroupView: what the control plane knows about one replication group, as an immutable value
// (master, replicas with health, Sentinels with reachability, generation). SentinelWatcher
// builds one per discovery round of a Sentinel-managed group, RoleProber one per probe round
// of a group without Sentinel; each publishes it when it differs from the last published one
// (sameState); describeChange() is the one log line for that change.
// Pure values and functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "topology/sentinel_replies.h"

namespace sy::topology {

// Whether a replica may serve reads, and if not, why.
enum class ReplicaHealth {
  kHealthy,       // ROLE slave of the current master, link up, not lagging
  kLagging,       // link up but its last ack is older than the allowed lag
  kLinkDown,      // ROLE slave but its link to the master is not "connected"
  kNotFollowing,  // ROLE slave of another node than the current master
  kFlaggedDown,   // Sentinel flags it s_down, o_down or disconnected (not probed)
  kUnreachable,   // did not answer ROLE
  kNotReplica,    // ROLE says it is not a replica (a master or a Sentinel)
};
const char* replicaHealthName(ReplicaHealth health);

struct ReplicaView {
  NodeAddress address;
  ReplicaHealth health = ReplicaHealth::kUnreachable;
  bool link_up = false;        // ROLE link state "connected"
  int64_t lag_bytes = -1;      // master offset minus the replica's; -1 when unknown
  int64_t lag_seconds = -1;    // since its last ack, as the master reports; -1 when unknown
  std::string sentinel_flags;  // as the answering Sentinel reported them; empty if unknown
  int64_t rtt_usec = -1;       // round trip of its ROLE request in this round; -1 when unknown

  bool healthy() const { return health == ReplicaHealth::kHealthy; }
};

struct SentinelView {
  NodeAddress address;
  bool reachable = false;  // its latest request succeeded
  uint64_t failures = 0;   // failed requests to it since start (a counter)
};

struct GroupView {
  std::string name;                   // the server's name in the config (Sentinel's master name)
  uint64_t generation = 0;            // 1 for the first published view, +1 for every change
  std::optional<NodeAddress> master;  // the first guess from the config until a round tells
  bool master_confirmed = false;      // the master answered ROLE "master" in this round
  int64_t master_rtt_usec = -1;       // round trip of the master's ROLE request; -1 when unknown
  // Role-probed groups: the nodes answering ROLE "master" when two or more do (sorted; then
  // master_confirmed is false and writes are refused). Empty otherwise, and for Sentinel.
  std::vector<NodeAddress> claimed_masters;
  std::vector<ReplicaView> replicas;    // sorted by address
  std::vector<SentinelView> sentinels;  // sorted by address
  // False when no Sentinel answered this round: master and replicas are the last known
  // ones (re-probed with ROLE), not fresh from Sentinel.
  bool from_sentinel = false;
  // A Sentinel announced a failover of this group (+try-failover, +selected-slave,
  // +promoted-slave ...) that has not ended yet: writes wait for the new master.
  bool failover_in_progress = false;
  // In the view that follows a failover: microseconds from the first failover event to this
  // view's confirmed new master; -1 in every other view.
  int64_t failover_follow_usec = -1;

  size_t healthyReplicas() const;
  size_t reachableSentinels() const;
};

// True when the two views say the same thing: everything but the generation, lag and
// round-trip figures and failure counters, which change on every poll without changing where
// traffic may go.
bool sameState(const GroupView& a, const GroupView& b);

// One line saying what changed from `before` (null for the first view) to `after`, e.g.
//   "group 'g0' generation 3: master 127.0.0.1:7001 confirmed (was 127.0.0.1:7000);
//    replica 127.0.0.1:7000 unreachable (was healthy); Sentinels 3/3 reachable"
// (a view without Sentinels, from RoleProber, says nothing about Sentinels).
std::string describeChange(const GroupView* before, const GroupView& after);

// True when `named` (a node as another node or a Sentinel wrote it: a replica's master, a
// master's replica line) may be `known`: same port, and the same host or a host name on
// either side (only two IP literals can be compared without DNS; a name is taken at its word).
bool mayBeSameNode(const NodeAddress& named, const NodeAddress& known);

// Judges one replica from what Sentinel and the nodes said. `sentinel` is Sentinel's entry
// for it (null when unknown); `role` its ROLE reply (null when it was not asked or did not
// answer); `master_role` / `master_info` the master's ROLE and INFO replication (null when
// unavailable); replicas whose last ack is older than `max_lag_seconds` are kLagging.
ReplicaView assessReplica(const NodeAddress& address, const SentinelInstance* sentinel,
                          const RoleReply* role, bool role_answered, const NodeAddress& master,
                          const RoleReply* master_role, const InfoReplication* master_info,
                          int64_t max_lag_seconds);

}  // namespace sy::topology
