// Topology: what the data path needs to know about the backends, as one immutable snapshot.
//
//   Config (file) --buildTopology()--> Topology --shared_ptr<const>--> every Worker
//                                        |- PoolTopology (one per pool, config order)
//                                             |- ServerInfo (one per server line)
//                                             |- KeyPlacer (hash + distribution)
//
// A new snapshot replaces the old one as a whole; nothing in it changes after it is built,
// so workers read it without locks. Built on the control thread.
#pragma once

#include <asio/generic/stream_protocol.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "hash/distribution.h"
#include "hash/key_tag.h"
#include "topology/cluster_view.h"
#include "topology/sentinel_view.h"

namespace sy::topology {

using Endpoint = asio::generic::stream_protocol::endpoint;

// A replica of a replication group that may serve reads in this snapshot (healthy).
struct ReadNode {
  std::string address_text;  // host:port
  Endpoint endpoint;
  int64_t rtt_usec = -1;  // measured round trip; -1 when unknown
};

// Whether a replication group takes writes in this snapshot.
enum class WriteState {
  kOpen,     // to the confirmed master
  kWait,     // its master is being switched or is unconfirmed: writes wait (failover_wait)
  kRefused,  // several nodes claim master: writes get an error (no split brain)
};

struct ServerInfo {
  uint32_t index = 0;        // position in the pool's server list (and the placer's id)
  std::string stats_name;    // name if configured, else host:port
  std::string address_text;  // host:port or socket path, for errors and logs
  Endpoint endpoint;         // resolved when the snapshot was built
  const config::ServerConfig* config = nullptr;  // owned by the snapshot's Config
  // auto_eject_hosts: out of the distribution in this snapshot (its keys go elsewhere).
  bool ejected = false;
  int64_t ejected_at_usec = 0;  // last ejection, microseconds since the epoch; 0: never

  // Replication groups (the pool hasGroups()): this server is the group named stats_name;
  // endpoint/address_text are its master (confirmed, or the last known one, or the first
  // guess), and `view` is what the control plane last published about it (null before).
  bool is_group = false;
  WriteState writes = WriteState::kOpen;
  std::string write_refusal;       // kRefused: the error reply text
  bool master_readable = true;     // the master answered ROLE master: it may serve reads
  int64_t master_rtt_usec = -1;    // measured round trip to the master; -1 when unknown
  std::vector<ReadNode> replicas;  // the healthy replicas, sorted by address
  std::shared_ptr<const GroupView> view;
};

struct PoolTopology {
  uint32_t index = 0;
  const config::PoolConfig* config = nullptr;  // owned by the snapshot's Config
  std::vector<ServerInfo> servers;
  hash::KeyPlacer placer;      // over the servers not ejected
  uint64_t server_ejects = 0;  // ejections in this pool since start-up (stats)
  // A cluster pool once its cluster has answered: the view, and its slot table (slot ->
  // server index, the servers being the view's shards in order). Null before, and for every
  // other pool.
  std::shared_ptr<const ClusterView> cluster;
  std::shared_ptr<const SlotTable> slots;

  // A cluster pool with a slot table: the server of the key's slot (server 0 for a slot no
  // shard serves: that node answers CLUSTERDOWN). Otherwise the key placer's server (in a
  // cluster pool before its first view, a seed, which redirects).
  uint32_t serverForKey(std::string_view key) const {
    if (slots != nullptr) return serverForSlot(hash::clusterSlot(key));
    return placer.serverForKey(key);
  }
  // A cluster pool: the server serving `slot` (0 when none does, or before the first view:
  // that node redirects).
  uint32_t serverForSlot(uint16_t slot) const {
    if (slots == nullptr) return 0;
    const uint16_t owner = slots->owner[slot];
    return owner == SlotTable::kUnowned ? 0 : owner;
  }
};

class Topology {
 public:
  Topology(std::shared_ptr<const config::Config> config, std::vector<PoolTopology> pools)
      : config_(std::move(config)), pools_(std::move(pools)) {}

  const config::Config& config() const { return *config_; }
  const std::shared_ptr<const config::Config>& configPtr() const { return config_; }
  const std::vector<PoolTopology>& pools() const { return pools_; }

 private:
  std::shared_ptr<const config::Config> config_;
  std::vector<PoolTopology> pools_;
};

// Resolves every server address (blocking DNS: control thread or start-up only) and builds
// each pool's key placer. Fails with a message naming the server when an address cannot be
// resolved.
common::Result<std::shared_ptr<const Topology>> buildTopology(
    std::shared_ptr<const config::Config> config);

// Replication groups' views, by (pool name, group name).
using GroupViews = std::map<std::pair<std::string, std::string>, std::shared_ptr<const GroupView>>;

// `base` (with its groups as configured: writes wait, no replicas) with each group's latest
// view applied: its master, write state and healthy replicas. Addresses are resolved
// (blocking; control thread); one that cannot be resolved leaves that node out, logged.
std::shared_ptr<const Topology> withGroupViews(const Topology& base, const GroupViews& views);

// Cluster pools' latest views, by pool name.
using ClusterViews = std::map<std::string, std::shared_ptr<const ClusterView>>;

// `base` with each cluster pool that has a view serving that view's shards: one replication
// group per shard (named by shardName, in the view's order), with its master, write state
// and healthy replicas, and the view's slot table. Addresses are resolved (blocking; control
// thread); a master that cannot be resolved leaves its shard's writes waiting, logged.
std::shared_ptr<const Topology> withClusterViews(const Topology& base, const ClusterViews& views);

// Resolves "host:port" or a unix path to an endpoint (blocking; control thread only).
common::Result<Endpoint> resolveAddress(const config::Address& address);

}  // namespace sy::topology
