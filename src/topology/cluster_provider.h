// ClusterProvider: reads a Redis Cluster's topology from its nodes and publishes it as one
// immutable ClusterView per change; the third GroupProvider (group_provider.h), beside
// SentinelWatcher and RoleProber, whose shards are the pool's replication groups. A
// PollingProvider (polling_provider.h): the poll is the refresh_interval trigger.
//
//   round:  candidates in turn (the last node that answered, the nodes of the last view,
//           then the configured seeds), each with a deadline:
//             CLUSTER SHARDS  (an "unknown subcommand" error: CLUSTER SLOTS instead)
//           then INFO replication of every online master with replicas (each replica's lag;
//           a master that does not answer leaves its replicas' lag unknown)
//           -> assembleClusterView -> published (listener + one log line) if it routes
//              differently from the last one (sameClusterState)
//           no candidate answers: the last view is kept, the failure logged (rate-limited)
//   triggers: start, every refresh_interval, rediscover() (a node redirected a request or a
//           connection to a node failed), and every 100 ms while a shard that serves slots
//           has no confirmed master (a failover under way). A trigger during a round runs one
//           more round right after it; rounds never overlap.
//
// One ControlConnection per node, kept open between rounds; those to nodes that left the
// cluster are closed after a round that no longer names them.
//
// Thread: the control thread running `io`; every method and the listener run there.
// Lifetime: the owner keeps it alive while `io` runs its handlers, and calls stop() (or
// destroys it) to close every connection; no callback follows stop().
#pragma once
#include <asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "config/config.h"
#include "topology/cluster_view.h"
#include "topology/control_connection.h"
#include "topology/group_provider.h"
#include "topology/polling_provider.h"

namespace sy::topology {

struct ClusterProviderOptions {
  std::string pool;                // for logs
  std::vector<NodeAddress> seeds;  // the configured servers; at least one
  std::string node_password;       // redis_auth; empty: none
  common::Millis connect_timeout{1000};
  common::Millis request_timeout{1000};
  common::Millis refresh_interval{1000};
  int64_t replica_max_lag_seconds = -1;  // a replica further behind gets no reads; -1: no limit
};

// The options for a `cluster: true` pool: its servers as seeds, redis_auth and
// cluster_refresh_interval_ms.
ClusterProviderOptions clusterProviderOptionsFor(const config::PoolConfig& pool);

class ClusterProvider final : public PollingProvider {
 public:
  using ClusterListener = std::function<void(const std::shared_ptr<const ClusterView>&)>;

  ClusterProvider(asio::io_context& io, ClusterProviderOptions options, ClusterListener listener);
  ~ClusterProvider() override;
  ClusterProvider(const ClusterProvider&) = delete;
  ClusterProvider& operator=(const ClusterProvider&) = delete;

  // Reads the slot table again now, whatever `name` (a shard or empty).
  void rediscover(const std::string& name) override;

  // The last published view; null before the first.
  std::shared_ptr<const ClusterView> current() const { return published_; }

 private:
  struct Round;
  void onStart() override;
  void onStop() override;
  void onPoll() override;
  void trigger();
  void startRound();
  void askNext(const std::shared_ptr<Round>& round);
  void askSlots(const std::shared_ptr<Round>& round, const NodeAddress& node);
  void onAnswer(const std::shared_ptr<Round>& round, const NodeAddress& node,
                common::Result<std::vector<ClusterShard>> shards);
  // The round's shards (and their masters' replication) made a view: published if it changed.
  void assemble(const std::shared_ptr<Round>& round, const NodeAddress& node);
  void finishRound(const std::shared_ptr<Round>& round, bool answered);
  std::vector<NodeAddress> candidates() const;

  asio::io_context& io_;
  ClusterProviderOptions options_;
  ClusterListener listener_;
  asio::steady_timer failover_timer_;  // a quicker read while a shard awaits its new master
  std::shared_ptr<const ClusterView> published_;
  std::optional<NodeAddress> last_source_;
  bool round_running_ = false;
  bool again_ = false;
  uint64_t refreshes_ = 0;
  uint64_t refresh_failures_ = 0;
  common::RateLimitedLog failure_log_{common::Millis(5000)};
};

}  // namespace sy::topology
