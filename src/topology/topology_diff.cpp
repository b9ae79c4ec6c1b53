#include "topology/topology_diff.h"

#include <algorithm>
#include <tuple>

namespace sy::topology {
namespace {

bool sameAddress(const config::Address& a, const config::Address& b) {
  return a.toString() == b.toString() && a.unix_mode == b.unix_mode;
}

// The names of the pool settings that differ, in configuration-key spelling. The server list
// is compared server by server, and line numbers do not count.
std::vector<std::string> changedSettings(const config::PoolConfig& a, const config::PoolConfig& b) {
  std::vector<std::string> keys;
  auto check = [&keys](bool same, const char* key) {
    if (!same) keys.emplace_back(key);
  };
  check(sameAddress(a.listen, b.listen), "listen");
  check(a.hash == b.hash, "hash");
  check(a.hash_tag == b.hash_tag, "hash_tag");
  check(a.distribution == b.distribution, "distribution");
  check(a.timeout_ms == b.timeout_ms, "timeout");
  check(a.backlog == b.backlog, "backlog");
  check(a.client_connections == b.client_connections, "client_connections");
  check(a.redis == b.redis, "redis");
  check(a.tcpkeepalive == b.tcpkeepalive, "tcpkeepalive");
  check(a.reuseport == b.reuseport, "reuseport");
  check(a.redis_auth == b.redis_auth, "redis_auth");
  check(a.redis_db == b.redis_db, "redis_db");
  check(a.preconnect == b.preconnect, "preconnect");
  check(a.auto_eject_hosts == b.auto_eject_hosts, "auto_eject_hosts");
  check(a.server_connections == b.server_connections, "server_connections");
  check(a.server_retry_timeout_ms == b.server_retry_timeout_ms, "server_retry_timeout");
  check(a.server_failure_limit == b.server_failure_limit, "server_failure_limit");
  check(a.sentinels.size() == b.sentinels.size() &&
            std::equal(a.sentinels.begin(), a.sentinels.end(), b.sentinels.begin(), sameAddress),
        "sentinels");
  check(a.sentinel_auth_user == b.sentinel_auth_user &&
            a.sentinel_auth_password == b.sentinel_auth_password,
        "sentinel_auth");
  check(a.read_from == b.read_from, "read_from");
  check(a.replica_max_lag_s == b.replica_max_lag_s, "replica_max_lag");
  check(a.failover_wait_ms == b.failover_wait_ms, "failover_wait");
  check(a.role_probe_interval_ms == b.role_probe_interval_ms, "role_probe_interval");
  check(a.max_request_args == b.max_request_args, "max_request_args");
  check(a.max_argument_bytes == b.max_argument_bytes, "max_argument_bytes");
  check(a.max_request_bytes == b.max_request_bytes, "max_request_bytes");
  check(a.client_idle_timeout_ms == b.client_idle_timeout_ms, "client_idle_timeout");
  return keys;
}

const ServerInfo* findServer(const PoolTopology& pool, const std::string& name) {
  for (const ServerInfo& server : pool.servers) {
    if (server.stats_name == name) return &server;
  }
  return nullptr;
}

bool sameServer(const ServerInfo& a, const ServerInfo& b) {
  if (a.config == nullptr || b.config == nullptr) {  // a cluster's shard: no config line
    return a.address_text == b.address_text && a.endpoint == b.endpoint && a.config == b.config;
  }
  return a.address_text == b.address_text && a.endpoint == b.endpoint &&
         a.config->weight == b.config->weight &&
         a.config->group_nodes.size() == b.config->group_nodes.size() &&
         std::equal(a.config->group_nodes.begin(), a.config->group_nodes.end(),
                    b.config->group_nodes.begin(), sameAddress);
}

// Compares the servers of two versions of one pool; true when they differ in any way,
// including their order (which modula and ketama do not depend on, but the stats do).
bool diffServers(const PoolTopology& before, const PoolTopology& after, TopologyDiff& diff) {
  const std::string prefix = after.config->name + "/";
  bool changed = before.servers.size() != after.servers.size();
  for (const ServerInfo& server : after.servers) {
    const ServerInfo* old = findServer(before, server.stats_name);
    if (old == nullptr) {
      diff.servers_added.push_back(prefix + server.stats_name);
      changed = true;
    } else if (!sameServer(*old, server)) {
      diff.servers_changed.push_back(prefix + server.stats_name);
      changed = true;
    } else if (old->index != server.index) {
      changed = true;
    }
  }
  for (const ServerInfo& server : before.servers) {
    if (findServer(after, server.stats_name) == nullptr) {
      diff.servers_removed.push_back(prefix + server.stats_name);
      changed = true;
    }
  }
  return changed;
}

void appendList(std::string& out, const char* what, const std::vector<std::string>& names) {
  if (names.empty()) return;
  if (!out.empty()) out += "; ";
  out += what;
  out += " [";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  out += "]";
}

}  // namespace

ConnectionKey connectionKey(const PoolTopology& pool, const ServerInfo& server) {
  const config::PoolConfig& config = *pool.config;
  return ConnectionKey{config.name,
                       server.stats_name,
                       server.address_text,
                       server.endpoint,
                       config.redis_auth,
                       config.redis_db,
                       std::max<uint32_t>(1, config.server_connections)};
}

ConnectionKey replicaConnectionKey(const PoolTopology& pool, const ServerInfo& group,
                                   const ReadNode& replica) {
  ConnectionKey key = connectionKey(pool, group);
  key.server += "@" + replica.address_text;
  key.address = replica.address_text;
  key.endpoint = replica.endpoint;
  return key;
}

const PoolTopology* findPool(const Topology& topology, std::string_view name) {
  for (const PoolTopology& pool : topology.pools()) {
    if (pool.config->name == name) return &pool;
  }
  return nullptr;
}

TopologyDiff diffTopologies(const Topology& before, const Topology& after) {
  TopologyDiff diff;
  for (const PoolTopology& pool : after.pools()) {
    const PoolTopology* old = findPool(before, pool.config->name);
    if (old == nullptr) {
      diff.pools_added.push_back(pool.config->name);
      continue;
    }
    std::vector<std::string> settings = changedSettings(*old->config, *pool.config);
    for (const std::string& key : settings) {
      diff.settings_changed.push_back(pool.config->name + "." + key);
    }
    bool changed = diffServers(*old, pool, diff) || !settings.empty();
    if (changed) diff.pools_changed.push_back(pool.config->name);
  }
  for (const PoolTopology& pool : before.pools()) {
    if (findPool(after, pool.config->name) == nullptr) {
      diff.pools_removed.push_back(pool.config->name);
    }
  }
  return diff;
}

std::string TopologyDiff::summary() const {
  std::string out;
  appendList(out, "pools added", pools_added);
  appendList(out, "pools removed", pools_removed);
  appendList(out, "pools changed", pools_changed);
  appendList(out, "servers added", servers_added);
  appendList(out, "servers removed", servers_removed);
  appendList(out, "servers changed", servers_changed);
  appendList(out, "settings changed", settings_changed);
  return out.empty() ? "no change" : out;
}

}  // namespace sy::topology
