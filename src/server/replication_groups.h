// ReplicationGroups: the control plane of every replication group, on the control thread.
//
//   each pool with groups      -> one topology::GroupProvider for all of them, made by the
//                                 ProviderFactory (topology::makeGroupProvider: a
//                                 SentinelWatcher with `sentinels`, else a RoleProber)
//   each cluster pool          -> a topology::ClusterProvider, whose ClusterViews (slot
//                                 table and shards) go to clusterViews()
//   each reported GroupView    --> views() --publish()--> the Proxy swaps in a snapshot with it
//   a worker saw READONLY      --> rediscover(pool, group) --> that provider re-checks at once
//
// It also counts, per group, the failovers it followed (a new confirmed master) and how long
// following the last one took, for INFO and the metrics.
//
// setBase() (start-up and every reload) rebuilds the providers from the configuration; views
// of groups that keep their name are kept until the new providers publish, so a reload does
// not pause writes.
// Thread: the control thread only (the providers' callbacks run there too).
// Lifetime: setBase() and stop() stop the providers at once and destroy them from a later
// handler of control_io, once the handlers their stop() cancelled have run.
#pragma once

#include <asio/io_context.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "config/config.h"
#include "topology/group_provider.h"
#include "topology/topology.h"

namespace sy::server {

struct GroupFailoverStats {
  uint64_t failovers = 0;         // new confirmed masters followed since start-up
  int64_t last_follow_usec = -1;  // how long following the last one took; -1: none yet
};

class ReplicationGroups {
 public:
  using Key = std::pair<std::string, std::string>;  // pool name, group name
  // The provider of every group of `pool` (not yet started, never null) that reports to
  // `listener`; tests pass one that makes fakes.
  using ProviderFactory = std::function<std::unique_ptr<topology::GroupProvider>(
      asio::io_context& control_io, const config::PoolConfig& pool,
      topology::GroupProvider::Listener listener)>;

  // `publish` is called whenever views() changed.
  ReplicationGroups(asio::io_context& control_io, std::function<void()> publish,
                    ProviderFactory make_provider = topology::makeGroupProvider);
  ~ReplicationGroups();
  ReplicationGroups(const ReplicationGroups&) = delete;
  ReplicationGroups& operator=(const ReplicationGroups&) = delete;

  // Starts the providers `base` needs (stopping the previous ones).
  void setBase(const topology::Topology& base);
  void stop();

  const topology::GroupViews& views() const { return views_; }
  // Cluster pools' latest views (their shards are groups too, but travel with the slot table).
  const topology::ClusterViews& clusterViews() const { return cluster_views_; }
  const std::map<Key, GroupFailoverStats>& failoverStats() const { return failovers_; }

  // A node of `group` answered READONLY: re-discover the group now. An empty `group` of a
  // cluster pool: a node redirected a request; read its slot table again.
  void rediscover(const std::string& pool, const std::string& group);

 private:
  struct Provider {
    std::string pool;
    std::unique_ptr<topology::GroupProvider> provider;
  };

  void onView(const std::string& pool, const std::shared_ptr<const topology::GroupView>& view);
  void onClusterView(const std::string& pool,
                     const std::shared_ptr<const topology::ClusterView>& view);
  void countFailover(const Key& key, const topology::GroupView& after);
  void retireProviders();

  asio::io_context& io_;
  std::function<void()> publish_;
  ProviderFactory make_provider_;
  std::vector<Provider> providers_;
  topology::GroupViews views_;
  topology::ClusterViews cluster_views_;
  std::map<Key, GroupFailoverStats> failovers_;
  std::map<Key, common::TimePoint> unwritable_since_;      // the group's writes stopped being open
  std::map<Key, topology::NodeAddress> confirmed_master_;  // the last confirmed master
  common::RateLimitedLog readonly_log_{common::Millis(5000)};
};

}  // namespace sy::server
