// RoleProber: finds the master of replication groups of plain Redis nodes (no Sentinel) by
// asking every node its ROLE, as HAProxy's health checks do, and publishes one immutable
// GroupView per group whenever what it knows changes. The Sentinel-less sibling of
// SentinelWatcher; both are GroupProviders (group_provider.h) that poll (PollingProvider,
// polling_provider.h: the poll is the probe_interval trigger).
//
//   round(group):  every node, in parallel:  ROLE   (deadline; round trip measured)
//                    answered "master"  ->   INFO replication   (lag of its replicas)
//                  -> assembleProbedView:  one master: confirmed
//                                          none: the last known one, unconfirmed
//                                          two or more: claimed_masters, unconfirmed
//                                          every other node: a replica judged by assessReplica
//                  -> published (listener + one log line) if !sameState(last)
//
//   triggers:      start, a poll every probe_interval, rediscover(name) (e.g. after a READONLY
//                  reply). A trigger during a round for the same group runs one more round
//                  right after it; rounds of one group never overlap.
//
// One ControlConnection per node, kept open between rounds (it reconnects on the next
// request after a failure) and closed by stop().
//
// Thread: the control thread running `io`; every method and the listener run there.
// Lifetime: the owner keeps the prober alive while `io` runs its handlers, and calls stop()
// (or destroys it) to close every connection; no callback follows stop().
#pragma once

#include <asio/io_context.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "config/config.h"
#include "topology/control_connection.h"
#include "topology/group_provider.h"
#include "topology/polling_provider.h"
#include "topology/sentinel_view.h"

namespace sy::topology {

struct RoleProbedGroupSeed {
  std::string name;                // the servers' name in the config
  std::vector<NodeAddress> nodes;  // in config order; at least one
};

struct RoleProberOptions {
  std::vector<RoleProbedGroupSeed> groups;
  std::string node_password;  // redis_auth: AUTH for ROLE/INFO on the nodes; empty: none
  common::Millis connect_timeout{1000};
  common::Millis request_timeout{1000};
  common::Millis probe_interval{1000};   // every node of every group is probed this often
  int64_t replica_max_lag_seconds = 10;  // -1: never judge replicas by lag
};

// The prober options for one pool of the config: a group per role-probed group (its nodes in
// file order) and per plain server with a TCP address (itself); redis_auth,
// role_probe_interval_ms and replica_max_lag_s.
RoleProberOptions roleProberOptionsFor(const config::PoolConfig& pool);

// Counters of the prober as a whole (control thread only).
struct RoleProberStats {
  uint64_t rounds = 0;         // probe rounds completed
  uint64_t node_failures = 0;  // failed or unparsable ROLE requests to nodes
  uint64_t published = 0;      // GroupViews published
};

// What one node answered in one probe round.
struct NodeProbe {
  NodeAddress address;
  std::optional<RoleReply> role;        // nullopt: no answer, or not a ROLE reply
  std::optional<InfoReplication> info;  // INFO replication, asked of nodes answering master
  int64_t rtt_usec = -1;                // round trip of its ROLE request; -1 without answer
};

// The view of group `name` from one round's answers (`nodes` in config order): the master is
// the one node answering ROLE master (confirmed); with none, `last_master` (the first node when
// null) unconfirmed; with several, `last_master` (or the first node) unconfirmed and every
// claimant in claimed_masters. Every other node is a replica judged by assessReplica against
// the master's ROLE and INFO (only when confirmed). Generation 0, no Sentinels. Pure.
GroupView assembleProbedView(const std::string& name, const std::vector<NodeProbe>& nodes,
                             const std::optional<NodeAddress>& last_master,
                             int64_t max_lag_seconds);

class RoleProber final : public PollingProvider {
 public:
  RoleProber(asio::io_context& io, RoleProberOptions options, Listener listener);
  ~RoleProber() override;
  RoleProber(const RoleProber&) = delete;
  RoleProber& operator=(const RoleProber&) = delete;

  // Re-probes group `name` at once (after the running round, if one is); unknown names and
  // calls while stopped are ignored.
  void rediscover(const std::string& name) override;

  // The last published view of `name`, or null before the first (or for an unknown name).
  std::shared_ptr<const GroupView> current(const std::string& name) const;
  const RoleProberStats& stats() const { return stats_; }

 private:
  struct Round;  // one probe round of one group (role_prober.cpp)
  struct GroupState {
    RoleProbedGroupSeed seed;
    std::shared_ptr<const GroupView> published;
    bool running = false;
    bool again = false;  // a trigger arrived during the round
  };

  // start(): a round for every group; stop(): forgets the running rounds; the poll (every
  // probe_interval): a round for every group.
  void onStart() override;
  void onStop() override;
  void onPoll() override;
  void trigger(GroupState& group);
  void startRound(GroupState& group);
  void probeNode(const std::shared_ptr<Round>& round, size_t index);
  void nodeFailed(const NodeAddress& address, const std::string& error);
  void finishRound(const std::shared_ptr<Round>& round);

  asio::io_context& io_;
  RoleProberOptions options_;
  Listener listener_;
  std::vector<GroupState> groups_;  // never grows after construction: Rounds point into it
  RoleProberStats stats_;
  common::RateLimitedLog node_log_{common::Millis(5000)};
};

}  // namespace sy::topology
