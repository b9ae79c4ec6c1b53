// StatsSnapshot: every worker's counters summed at one moment, and its renderings.
//
//   common/stats_registry.h (the one list) --> per-worker counters (single writer)
//   per-worker counters --collectStats()--> StatsSnapshot
//   StatsSnapshot --renderTwemproxyJson()--> the stats port's document (and GET /stats)
//                 --renderPrometheus()----> GET /metrics              (prometheus.h)
//                 --renderInfo()----------> the INFO command          (info_renderer.h)
//
// Thread: the control thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/stats_registry.h"
#include "server/proxy.h"

namespace sy::admin {

using common::CommandStat;
using common::kCommandStatFields;
using common::kPoolStatFields;
using common::kServerStatFields;
using common::PoolStat;
using common::ServerStat;
using common::StatField;
using common::StatKind;

struct ServerStats {
  std::string name;
  std::string address;  // host:port or socket path
  std::array<uint64_t, common::kStatCount<ServerStat>> values{};
  common::HistogramValues latency;  // receipt by the proxy to the backend's reply

  uint64_t& operator[](ServerStat stat) { return values[static_cast<size_t>(stat)]; }
  uint64_t operator[](ServerStat stat) const { return values[static_cast<size_t>(stat)]; }
};

// One command's counters in one pool; only commands with a non-zero counter are kept.
struct CommandStats {
  uint16_t id = 0;   // command::commandId()
  std::string name;  // Redis's name: "get", "client|id"
  std::array<uint64_t, common::kStatCount<CommandStat>> values{};

  uint64_t& operator[](CommandStat stat) { return values[static_cast<size_t>(stat)]; }
  uint64_t operator[](CommandStat stat) const { return values[static_cast<size_t>(stat)]; }
};

struct PoolStats {
  std::string name;
  std::string listen;  // host:port or socket path
  uint16_t port = 0;   // the listen port; 0 for a unix socket
  std::array<uint64_t, common::kStatCount<PoolStat>> values{};
  common::HistogramValues latency;     // every request of the pool: receipt to reply
  uint64_t clients_idle_closed = 0;    // closed by client_idle_timeout
  uint64_t requests_over_limit = 0;    // refused by max_request_args/_bytes, max_argument_bytes
  std::vector<CommandStats> commands;  // in command id order
  std::vector<ServerStats> servers;

  uint64_t& operator[](PoolStat stat) { return values[static_cast<size_t>(stat)]; }
  uint64_t operator[](PoolStat stat) const { return values[static_cast<size_t>(stat)]; }
};

// What the operating system says about this process at collection time.
struct ProcessUsage {
  double cpu_user_seconds = 0;
  double cpu_system_seconds = 0;
  uint64_t resident_bytes = 0;
  uint64_t open_fds = 0;
  uint64_t max_fds = 0;  // the RLIMIT_NOFILE soft limit
};

// Reads ProcessUsage for this process (getrusage, /proc/self); fields it cannot read stay 0.
ProcessUsage readProcessUsage();

// One node of a replication group as the running snapshot sees it.
struct GroupNodeStats {
  std::string address;        // host:port
  std::string role;           // "master" or "replica"
  std::string health;         // "healthy", "unconfirmed", or a replica's reason (lagging, ...)
  int64_t lag_seconds = -1;   // replicas: since its last ack, as the master reports; -1 unknown
  int64_t rtt_usec = -1;      // round trip of the last probe; -1 unknown
  bool serves_reads = false;  // read_from may send reads to it in this snapshot
  uint64_t requests = 0;      // requests the proxy sent to it (replicas: reads only)
  common::HistogramValues latency;  // of those requests: receipt by the proxy to the reply
};

// A cluster pool's view of its cluster, and the redirections its requests followed.
struct ClusterStats {
  std::string pool;
  uint64_t generation = 0;  // of the latest view; 0: no node has answered yet
  uint64_t shards = 0;
  uint64_t slots_served = 0;  // slots some shard serves (16384 in a healthy cluster)
  uint64_t nodes = 0;
  uint64_t refreshes = 0;          // slot table readings, as of the latest view
  uint64_t refresh_failures = 0;   // nodes that failed to answer one, as of the latest view
  int64_t last_refresh_usec = -1;  // how long the latest view took to read
  std::string source;              // the node that answered it
  uint64_t moved = 0;              // MOVED followed
  uint64_t ask = 0;                // ASK followed
  uint64_t retries = 0;            // TRYAGAIN and CLUSTERDOWN waited out
};

// One replication group (Sentinel-managed, role-probed, or a cluster's shard).
struct GroupStats {
  std::string pool;
  std::string name;
  int64_t slots = -1;  // a cluster's shard: the slots it serves; -1 for other groups
  std::string master;  // its master's address (confirmed, last known, or the first guess)
  bool master_confirmed = false;
  std::string writes;     // "open", "wait" or "refused"
  std::string read_from;  // the pool's policy
  uint64_t replicas = 0;
  uint64_t healthy_replicas = 0;
  uint64_t sentinels = 0;  // 0 for a role-probed group
  uint64_t reachable_sentinels = 0;
  uint64_t failovers = 0;                // new masters followed since start-up
  int64_t last_failover_follow_ms = -1;  // how long following the last one took; -1: none
  uint64_t generation = 0;               // of the group's latest view; 0: none yet
  std::vector<GroupNodeStats> nodes;     // the master first, then the replicas by address
};

// The InfluxDB pusher's own counters (influx_push.h), copied in by whoever renders; they stay
// zero and `enabled` false when --influxdb-url is not set.
struct InfluxPushStats {
  bool enabled = false;
  uint64_t batches_sent = 0;     // accepted by InfluxDB (HTTP 204), or handed to UDP
  uint64_t batches_failed = 0;   // attempts that failed: refused, timed out, not 204
  uint64_t batches_dropped = 0;  // discarded unsent: the queue was full, or InfluxDB said 4xx
  uint64_t queued_batches = 0;   // waiting to be sent now
  uint64_t last_batch_bytes = 0;
};

struct StatsSnapshot {
  int64_t uptime_seconds = 0;
  int64_t timestamp = 0;  // unix seconds
  uint64_t total_connections = 0;
  uint64_t curr_connections = 0;
  uint64_t rejected_connections = 0;
  uint64_t pubsub_resubscribes = 0;  // subscriptions made again after a failover or a loss
  uint64_t blocked_resends = 0;      // blocking commands sent again to a new master
  // Scripts carried onto backend connections (backend/script_registry.h).
  uint64_t scripts_carried = 0;        // scripts registered
  uint64_t scripts_carried_bytes = 0;  // their bodies' size
  uint64_t scripts_reloaded = 0;       // SCRIPT LOADs the proxy sent on its own
  uint64_t scripts_reload_errors = 0;  // of those, refused by the backend
  uint64_t scripts_not_carried = 0;    // requests whose script was past the registry's bounds
  uint64_t threads = 0;                // worker threads
  ProcessUsage usage;
  std::vector<PoolStats> pools;        // in config order
  std::vector<GroupStats> groups;      // in server order
  std::vector<ClusterStats> clusters;  // cluster pools, in config order
  InfluxPushStats influx_push;
};

// What the process tells about itself besides counters (INFO server, Prometheus info).
struct ProcessInfo {
  std::string version;      // switchyard's
  std::string config_file;  // absolute path when known
  std::string executable;
  int64_t pid = 0;
  int64_t start_time = 0;  // unix seconds
};

StatsSnapshot collectStats(const server::Proxy& proxy, const topology::Topology& topology);
// The replication groups of `topology` (group_stats.cpp; collectStats calls it).
std::vector<GroupStats> collectGroups(const server::Proxy& proxy,
                                      const topology::Topology& topology);
// The cluster pools of `topology` (group_stats.cpp; collectStats calls it).
std::vector<ClusterStats> collectClusters(const server::Proxy& proxy,
                                          const topology::Topology& topology);
// The entry of `pool` in snapshot.clusters; null when it is not a cluster pool.
const ClusterStats* findCluster(const StatsSnapshot& snapshot, std::string_view pool);

// nutcracker 0.5.0's document: one line, keys in its order, ", " between members.
std::string renderTwemproxyJson(const StatsSnapshot& snapshot, const std::string& source,
                                const std::string& version);

// The -D text: every field with its kind and meaning.
std::string describeStats();

}  // namespace sy::admin
