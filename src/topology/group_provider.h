// GroupProvider: a source of replication-group views, the seam between the control plane that
// consumes views (server::ReplicationGroups) and the ways groups are discovered:
//
//   SentinelWatcher   Sentinel-managed groups (a pool with `sentinels`)
//   RoleProber        plain nodes asked their ROLE (several `servers` lines with one name)
//   ClusterProvider   the shards of a Redis Cluster (a `cluster: true` pool; built by
//                     server::ReplicationGroups, not by makeGroupProvider)
//
// All three poll: they share start(), stop() and the poll timer through PollingProvider
// (polling_provider.h).
//
// What a provider is told:
//   at construction (makeGroupProvider): the pool's groups and their nodes, its passwords,
//                                        intervals and limits, and the listener
//   start()                              begin discovering every group
//   stop()                               close every connection and timer
//   rediscover(group)                    check `group` again now (a node answered READONLY)
// What it reports: each new GroupView of a group, through the listener, whenever what it
// knows about the group changes (generation 1, 2, ... per group).
//
// Thread: the control thread running the io_context it was built with; every method and the
// listener run there.
// Lifetime: the owner keeps the provider alive while that io_context runs its handlers, and
// calls stop() (or destroys it) to close every connection; no listener call follows stop().
#pragma once

#include <asio/io_context.hpp>

#include <functional>
#include <memory>
#include <string>

#include "config/config.h"
#include "topology/sentinel_view.h"

namespace sy::topology {

class GroupProvider {
 public:
  using Listener = std::function<void(const std::shared_ptr<const GroupView>&)>;

  virtual ~GroupProvider() = default;

  // Starts discovering every group (at once, then as the provider's triggers say).
  virtual void start() = 0;
  // Closes every connection and timer; no listener call follows.
  virtual void stop() = 0;
  // Re-discovers group `name` now (after its running round, if one is). Unknown names and
  // calls while stopped are ignored.
  virtual void rediscover(const std::string& name) = 0;
};

// The provider of every replication group of `pool` (which hasGroups()), not yet started: a
// SentinelWatcher for a Sentinel-managed pool, else a RoleProber.
std::unique_ptr<GroupProvider> makeGroupProvider(asio::io_context& io,
                                                 const config::PoolConfig& pool,
                                                 GroupProvider::Listener listener);

}  // namespace sy::topology
