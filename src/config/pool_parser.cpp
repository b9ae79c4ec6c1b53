#include "config/pool_parser.h"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "config/address_parser.h"
#include "hash/ring_identity.h"

namespace sy::config {
namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();

struct ReadFromName {
  std::string_view name;
  ReadFrom value;
};
constexpr ReadFromName kReadFromNames[] = {
    {"master", ReadFrom::kMaster},   {"prefer_master", ReadFrom::kPreferMaster},
    {"replica", ReadFrom::kReplica}, {"prefer_replica", ReadFrom::kPreferReplica},
    {"nearest", ReadFrom::kNearest},
};

std::string nodeKind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return "a value";
  }
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
    }
  }
  return row[b.size()];
}

std::string hashFunctionList() {
  std::string list;
  for (hash::HashFunction function : hash::kAllHashFunctions) {
    list += (list.empty() ? "" : ", ") + std::string(hash::hashFunctionName(function));
  }
  return list;
}

std::string distributionList() {
  std::string list;
  for (hash::Distribution distribution :
       {hash::Distribution::kKetama, hash::Distribution::kModula, hash::Distribution::kRandom}) {
    list += (list.empty() ? "" : ", ") + std::string(hash::distributionName(distribution));
  }
  return list;
}

}  // namespace

int lineOf(const YAML::Node& node) {
  int line = node.Mark().line;
  return line >= 0 ? line + 1 : 0;
}

const PoolParser::KeyHandler PoolParser::kKeyHandlers[] = {
    {"listen", &PoolParser::setListen},
    {"hash", &PoolParser::setHash},
    {"hash_tag", &PoolParser::setHashTag},
    {"distribution", &PoolParser::setDistribution},
    {"timeout", &PoolParser::setTimeout},
    {"backlog", &PoolParser::setBacklog},
    {"client_connections", &PoolParser::setClientConnections},
    {"redis", &PoolParser::setRedis},
    {"tcpkeepalive", &PoolParser::setTcpKeepalive},
    {"reuseport", &PoolParser::setReusePort},
    {"redis_auth", &PoolParser::setRedisAuth},
    {"client_auth", &PoolParser::setClientAuth},
    {"redis_db", &PoolParser::setRedisDb},
    {"preconnect", &PoolParser::setPreconnect},
    {"auto_eject_hosts", &PoolParser::setAutoEjectHosts},
    {"server_connections", &PoolParser::setServerConnections},
    {"private_connections", &PoolParser::setPrivateConnections},
    {"databases", &PoolParser::setDatabases},
    {"max_request_args", &PoolParser::setMaxRequestArgs},
    {"max_argument_bytes", &PoolParser::setMaxArgumentBytes},
    {"max_request_bytes", &PoolParser::setMaxRequestBytes},
    {"client_idle_timeout", &PoolParser::setClientIdleTimeout},
    {"server_retry_timeout", &PoolParser::setServerRetryTimeout},
    {"server_failure_limit", &PoolParser::setServerFailureLimit},
    {"servers", &PoolParser::setServers},
    {"sentinels", &PoolParser::setSentinels},
    {"sentinel_auth", &PoolParser::setSentinelAuth},
    {"read_from", &PoolParser::setReadFrom},
    {"replica_max_lag", &PoolParser::setReplicaMaxLag},
    {"failover_wait", &PoolParser::setFailoverWait},
    {"role_probe_interval", &PoolParser::setRoleProbeInterval},
    {"cluster", &PoolParser::setCluster},
    {"cluster_refresh_interval", &PoolParser::setClusterRefreshInterval},
};

PoolParser::PoolParser(const std::string& file, const YAML::Node& name_node) : file_(file) {
  pool_.line = lineOf(name_node);
  if (!name_node.IsScalar() || name_node.Scalar().empty()) {
    fail(pool_.line, "", "a pool name must be a non-empty plain name, not " + nodeKind(name_node));
  }
  pool_.name = name_node.Scalar();
}

void PoolParser::fail(int line, std::string_view key, std::string reason) const {
  throw ConfigError(file_, line, pool_.name, std::string(key), std::move(reason));
}

PoolConfig PoolParser::parse(const YAML::Node& body) {
  if (!body.IsMap()) {
    fail(pool_.line, "",
         "a pool must be a mapping of keys (listen, servers, ...), found " + nodeKind(body));
  }
  for (auto it = body.begin(); it != body.end(); ++it) {
    applyKey(it->first, it->second);
  }
  finish();
  return std::move(pool_);
}

void PoolParser::applyKey(const YAML::Node& key_node, const YAML::Node& value) {
  int line = lineOf(key_node);
  if (!key_node.IsScalar()) {
    fail(line, "", "a key must be a plain name, not " + nodeKind(key_node));
  }
  key_ = key_node.Scalar();
  for (const KeyHandler& handler : kKeyHandlers) {
    if (handler.key != key_) {
      continue;
    }
    auto [first, inserted] = seen_.emplace(key_, line);
    if (!inserted) {
      fail(line, key_, "duplicate key (already set on line " + std::to_string(first->second) + ")");
    }
    (this->*handler.apply)(value, line);
    return;
  }
  const KeyHandler* nearest = nullptr;
  size_t best = 3;  // suggest only keys within two edits
  for (const KeyHandler& handler : kKeyHandlers) {
    size_t distance = editDistance(key_, handler.key);
    if (distance < best) {
      best = distance;
      nearest = &handler;
    }
  }
  std::string hint =
      nearest != nullptr ? " (did you mean '" + std::string(nearest->key) + "'?)" : "";
  fail(line, key_, "unknown key" + hint);
}

void PoolParser::finish() {
  if (!seen_.contains("listen")) {
    fail(pool_.line, "listen", "missing; every pool needs a listen address");
  }
  if (!seen_.contains("servers")) {
    fail(pool_.line, "servers", "missing; every pool needs at least one server");
  }
  checkSentinelGroups();
  checkClusterKeys();
  checkReplicationKeys();
}

void PoolParser::setCluster(const YAML::Node& value, int line) {
  pool_.cluster = boolean(value, line);
}

void PoolParser::setClusterRefreshInterval(const YAML::Node& value, int line) {
  pool_.cluster_refresh_interval_ms = integer(value, line, 100, 3600000);
}

// A cluster pool places keys by Redis Cluster's CRC16 slots and learns its nodes from the
// cluster itself: the keys that place keys or name nodes otherwise do not apply.
void PoolParser::checkClusterKeys() {
  if (!pool_.cluster) {
    auto interval = seen_.find("cluster_refresh_interval");
    if (interval != seen_.end()) {
      fail(interval->second, "cluster_refresh_interval",
           "is set but the pool is not 'cluster: true'");
    }
    return;
  }
  constexpr std::string_view kSlotKeys[] = {"hash", "hash_tag", "distribution"};
  for (std::string_view key : kSlotKeys) {
    auto set = seen_.find(std::string(key));
    if (set != seen_.end()) {
      fail(set->second, key,
           "does not apply to a cluster pool: keys go to Redis Cluster's CRC16 hash slots, "
           "with its {...} hash tags");
    }
  }
  constexpr std::string_view kNodeKeys[] = {"sentinels", "sentinel_auth", "auto_eject_hosts",
                                            "role_probe_interval"};
  for (std::string_view key : kNodeKeys) {
    auto set = seen_.find(std::string(key));
    if (set != seen_.end()) {
      fail(set->second, key,
           "does not apply to a cluster pool: the cluster names its masters and replicas, and "
           "its own failover replaces a failed master");
    }
  }
  auto db = seen_.find("redis_db");
  if (db != seen_.end() && pool_.redis_db != 0) {
    fail(db->second, "redis_db", "must be 0 in a cluster pool: Redis Cluster has database 0 only");
  }
  pool_.databases = 1;
  for (const ServerConfig& server : pool_.servers) {
    if (server.isRoleProbedGroup()) {
      fail(server.group_lines[1], "servers",
           "duplicate server name '" + server.name + "' (also on line " +
               std::to_string(server.line) + "); in a cluster pool each line is one seed node");
    }
    if (server.address.isUnix()) {
      fail(server.line, "servers",
           "'" + server.stats_name +
               "' is a unix socket; cluster nodes are reached over TCP, "
               "at the addresses the cluster announces");
    }
  }
}

void PoolParser::checkReplicationKeys() {
  if (pool_.hasGroups()) {
    return;
  }
  for (std::string_view key : {"read_from", "replica_max_lag", "failover_wait"}) {
    auto set = seen_.find(std::string(key));
    if (set != seen_.end()) {
      fail(set->second, key,
           "is set but the pool has no replication groups (add 'sentinels', or list the nodes "
           "of a group as several 'servers' lines with the same name)");
    }
  }
  auto probe = seen_.find("role_probe_interval");
  if (probe != seen_.end()) {
    fail(probe->second, "role_probe_interval",
         "is set but the pool has no role-probed group (several 'servers' lines with the same "
         "name)");
  }
}

void PoolParser::setReadFrom(const YAML::Node& value, int line) {
  std::string text = scalar(value, line);
  std::string expected;
  for (const ReadFromName& entry : kReadFromNames) {
    if (entry.name == text) {
      pool_.read_from = entry.value;
      return;
    }
    expected += (expected.empty() ? "" : ", ") + std::string(entry.name);
  }
  fail(line, key_, "unknown read_from '" + text + "' (expected one of: " + expected + ")");
}

void PoolParser::setReplicaMaxLag(const YAML::Node& value, int line) {
  pool_.replica_max_lag_s = integer(value, line, 0, kMaxInt);
}

void PoolParser::setFailoverWait(const YAML::Node& value, int line) {
  pool_.failover_wait_ms = integer(value, line, 0, 600000);
}

void PoolParser::setRoleProbeInterval(const YAML::Node& value, int line) {
  pool_.role_probe_interval_ms = integer(value, line, 10, 3600000);
}

void PoolParser::checkSentinelGroups() {
  auto auth = seen_.find("sentinel_auth");
  if (auth != seen_.end() && !pool_.isSentinelManaged()) {
    fail(auth->second, "sentinel_auth", "is set but the pool has no 'sentinels' to use it for");
  }
  if (!pool_.isSentinelManaged()) {
    return;
  }
  for (const ServerConfig& server : pool_.servers) {
    if (server.isRoleProbedGroup()) {
      fail(server.group_lines[1], "servers",
           "duplicate server name '" + server.name + "' (also on line " +
               std::to_string(server.line) + "); with 'sentinels' each name is one " +
               "Sentinel-managed group, and Sentinel finds its nodes");
    }
    if (server.name.empty()) {
      fail(server.line, "servers",
           "'" + server.stats_name + "' has no name; with 'sentinels' each server is a " +
               "Sentinel-managed group named by its Sentinel master name, as in " +
               "'host:port:weight name'");
    }
    if (server.address.isUnix()) {
      fail(server.line, "servers",
           "'" + server.name + "' is a unix socket; Sentinel-managed groups are reached over TCP");
    }
  }
}

std::string PoolParser::scalar(const YAML::Node& value, int line) const {
  if (!value.IsScalar()) {
    fail(line, key_, "expected a single value, found " + nodeKind(value));
  }
  return value.Scalar();
}

int64_t PoolParser::integer(const YAML::Node& value, int line, int64_t min, int64_t max) const {
  std::string text = scalar(value, line);
  std::optional<int64_t> number = parseInteger(text);
  if (!number) {
    fail(line, key_, "'" + text + "' is not a whole number");
  }
  if (*number < 0 && min >= 0) {
    fail(line, key_, "must not be negative, got " + text);
  }
  if (*number < min || *number > max) {
    fail(line, key_,
         text + " is out of range (" + std::to_string(min) + ".." + std::to_string(max) + ")");
  }
  return *number;
}

bool PoolParser::boolean(const YAML::Node& value, int line) const {
  std::string text = scalar(value, line);
  if (text == "true") {
    return true;
  }
  if (text == "false") {
    return false;
  }
  fail(line, key_,
       "'" + text + "' is not a boolean; write true or false (as in nutcracker, forms such as " +
           "yes/no, on/off or 1/0 are not accepted)");
}

void PoolParser::setListen(const YAML::Node& value, int line) {
  common::Result<Address> address = parseListenAddress(scalar(value, line));
  if (!address) {
    fail(line, key_, address.error().message);
  }
  pool_.listen = std::move(address.value());
}

void PoolParser::setHash(const YAML::Node& value, int line) {
  std::string text = scalar(value, line);
  std::optional<hash::HashFunction> function = hash::parseHashFunction(text);
  if (!function) {
    fail(line, key_,
         "unknown hash function '" + text + "' (expected one of: " + hashFunctionList() + ")");
  }
  pool_.hash = *function;
}

void PoolParser::setHashTag(const YAML::Node& value, int line) {
  if (value.IsMap() && value.size() == 0) {
    fail(line, key_, "expected two characters; quote them, as in hash_tag: \"{}\"");
  }
  std::string text = scalar(value, line);
  if (text.size() != 2) {
    fail(line, key_, "'" + text + "' is not exactly two characters (e.g. \"{}\")");
  }
  pool_.hash_tag = std::move(text);
}

void PoolParser::setDistribution(const YAML::Node& value, int line) {
  std::string text = scalar(value, line);
  std::optional<hash::Distribution> distribution = hash::parseDistribution(text);
  if (!distribution) {
    fail(line, key_,
         "unknown distribution '" + text + "' (expected one of: " + distributionList() + ")");
  }
  pool_.distribution = *distribution;
}

void PoolParser::setTimeout(const YAML::Node& value, int line) {
  // nutcracker arms no timer for a timeout <= 0: 0 waits forever, like an absent key.
  int64_t timeout = integer(value, line, 0, kMaxInt);
  pool_.timeout_ms = timeout == 0 ? -1 : timeout;
}

void PoolParser::setBacklog(const YAML::Node& value, int line) {
  pool_.backlog = static_cast<int>(integer(value, line, 0, kMaxInt));
}

void PoolParser::setClientConnections(const YAML::Node& value, int line) {
  pool_.client_connections = static_cast<uint32_t>(integer(value, line, 0, kMaxInt));
}

void PoolParser::setRedis(const YAML::Node& value, int line) {
  if (!boolean(value, line)) {
    fail(line, key_,
         "memcached pools are not supported; switchyard speaks only Redis (set redis: true)");
  }
  pool_.redis = true;
}

void PoolParser::setTcpKeepalive(const YAML::Node& value, int line) {
  pool_.tcpkeepalive = boolean(value, line);
}

void PoolParser::setReusePort(const YAML::Node& value, int line) {
  pool_.reuseport = boolean(value, line);
}

void PoolParser::setRedisAuth(const YAML::Node& value, int line) {
  pool_.redis_auth = scalar(value, line);
}

void PoolParser::setClientAuth(const YAML::Node& value, int line) {
  std::string password = scalar(value, line);
  if (password.empty()) {
    fail(line, key_,
         "must not be empty; leave the key out to let clients in with redis_auth (or without "
         "a password when redis_auth is not set either)");
  }
  pool_.client_auth = std::move(password);
}

void PoolParser::setRedisDb(const YAML::Node& value, int line) {
  pool_.redis_db = static_cast<int>(integer(value, line, 0, kMaxInt));
}

void PoolParser::setPreconnect(const YAML::Node& value, int line) {
  pool_.preconnect = boolean(value, line);
}

void PoolParser::setAutoEjectHosts(const YAML::Node& value, int line) {
  pool_.auto_eject_hosts = boolean(value, line);
}

void PoolParser::setServerConnections(const YAML::Node& value, int line) {
  if (value.IsScalar() && value.Scalar() == "0") {
    fail(line, key_, "must be at least 1");
  }
  pool_.server_connections = static_cast<uint32_t>(integer(value, line, 1, kMaxInt));
}

void PoolParser::setPrivateConnections(const YAML::Node& value, int line) {
  pool_.private_connections = static_cast<uint32_t>(integer(value, line, 0, kMaxInt));
}

void PoolParser::setDatabases(const YAML::Node& value, int line) {
  pool_.databases = static_cast<int>(integer(value, line, 1, kMaxInt));
}

void PoolParser::setMaxRequestArgs(const YAML::Node& value, int line) {
  pool_.max_request_args = integer(value, line, 1, kMaxInt);
}

void PoolParser::setMaxArgumentBytes(const YAML::Node& value, int line) {
  pool_.max_argument_bytes = integer(value, line, 1, kMaxInt);
}

void PoolParser::setMaxRequestBytes(const YAML::Node& value, int line) {
  pool_.max_request_bytes = integer(value, line, 1, kMaxInt);
}

void PoolParser::setClientIdleTimeout(const YAML::Node& value, int line) {
  pool_.client_idle_timeout_ms = integer(value, line, 0, kMaxInt);
}

void PoolParser::setServerRetryTimeout(const YAML::Node& value, int line) {
  pool_.server_retry_timeout_ms = integer(value, line, 0, kMaxInt);
}

void PoolParser::setServerFailureLimit(const YAML::Node& value, int line) {
  pool_.server_failure_limit = static_cast<uint32_t>(integer(value, line, 0, kMaxInt));
}

void PoolParser::setServers(const YAML::Node& value, int line) {
  if (!value.IsSequence()) {
    fail(line, key_,
         "expected a list of 'host:port:weight [name]' entries, found " + nodeKind(value));
  }
  if (value.size() == 0) {
    fail(line, key_, "the list is empty; every pool needs at least one server");
  }
  uint64_t total_weight = 0;
  for (const YAML::Node& item : value) {
    addServer(item);
    total_weight += pool_.servers.back().weight;
  }
  if (total_weight > std::numeric_limits<uint32_t>::max()) {
    fail(lineOf(value), key_,
         "the weights add up to " + std::to_string(total_weight) + ", more than 4294967295");
  }
}

void PoolParser::setSentinels(const YAML::Node& value, int line) {
  if (!value.IsSequence()) {
    fail(line, key_, "expected a list of 'host:port' entries, found " + nodeKind(value));
  }
  if (value.size() == 0) {
    fail(line, key_, "the list is empty; name at least one Sentinel (three or more in production)");
  }
  std::map<std::string, int> lines;
  for (const YAML::Node& item : value) {
    int item_line = lineOf(item);
    common::Result<Address> address = parseSentinelAddress(scalar(item, item_line));
    if (!address) {
      fail(item_line, key_, address.error().message);
    }
    auto [first, inserted] = lines.emplace(address->toString(), item_line);
    if (!inserted) {
      fail(item_line, key_,
           "duplicate Sentinel '" + address->toString() + "' (also on line " +
               std::to_string(first->second) + ")");
    }
    pool_.sentinels.push_back(std::move(address.value()));
  }
  pool_.sentinels_line = line;
}

void PoolParser::setSentinelAuth(const YAML::Node& value, int line) {
  std::string text = scalar(value, line);
  size_t space = text.find(' ');
  std::string user = space == std::string::npos ? "" : text.substr(0, space);
  std::string password = space == std::string::npos ? text : text.substr(space + 1);
  if (password.empty() || (space != std::string::npos && user.empty())) {
    fail(line, key_, "expected a password, or a user and a password separated by one space");
  }
  pool_.sentinel_auth_user = std::move(user);
  pool_.sentinel_auth_password = std::move(password);
}

void PoolParser::addServer(const YAML::Node& item) {
  int line = lineOf(item);
  common::Result<ServerConfig> server = parseServerLine(scalar(item, line));
  if (!server) {
    fail(line, key_, server.error().message);
  }
  server->line = line;
  if (server->stats_name.size() > hash::kMaxRingIdentityLength) {
    fail(line, key_,
         "server name '" + server->stats_name.substr(0, 40) + "...' is longer than " +
             std::to_string(hash::kMaxRingIdentityLength) +
             " bytes (nutcracker cannot hash longer names onto its ring reliably)");
  }
  // nutcracker rejects two servers with the same name, where an unnamed server's name is
  // derived from its address; stats_name is exactly that derived name. Here several named
  // lines of a pool without `sentinels` form one role-probed group instead.
  auto [first, inserted] = server_lines_.emplace(server->stats_name, line);
  if (!inserted && !server->name.empty() && !seen_.contains("sentinels")) {
    joinGroup(server.value(), first->second);
    return;
  }
  if (!inserted) {
    std::string what = server->name.empty() ? "address" : "name";
    fail(line, key_,
         "duplicate server " + what + " '" + server->stats_name + "' (also on line " +
             std::to_string(first->second) + ")");
  }
  pool_.servers.push_back(std::move(server.value()));
}

void PoolParser::joinGroup(const ServerConfig& node, int first_line) {
  auto group = std::find_if(pool_.servers.begin(), pool_.servers.end(),
                            [&](const ServerConfig& s) { return s.stats_name == node.stats_name; });
  if (group->weight != node.weight) {
    fail(node.line, key_,
         "'" + node.name + "' has weight " + std::to_string(node.weight) + " here but " +
             std::to_string(group->weight) + " on line " + std::to_string(first_line) +
             "; every line of one group must give the same weight");
  }
  if (group->group_nodes.empty()) {
    group->group_nodes.push_back(group->address);
    group->group_lines.push_back(group->line);
  }
  std::string address = node.address.toString();
  for (size_t i = 0; i < group->group_nodes.size(); ++i) {
    if (group->group_nodes[i].toString() == address) {
      fail(node.line, key_,
           "duplicate node " + address + " in group '" + node.name + "' (also on line " +
               std::to_string(group->group_lines[i]) + ")");
    }
  }
  if (node.address.isUnix() || group->address.isUnix()) {
    fail(node.line, key_,
         "'" + node.name + "' is a role-probed group; its nodes are reached over TCP");
  }
  group->group_nodes.push_back(node.address);
  group->group_lines.push_back(node.line);
}

}  // namespace sy::config
