// The switchyard configuration: a nutcracker.yml read into typed, validated values.
//
//   file text --yaml-cpp--> YAML tree --PoolParser (one per pool)--> PoolConfig
//                                     \--cross-pool checks (names, listen addresses)--> Config
//
// Keys, meanings and defaults follow twemproxy 0.5.0 (src/nc_conf.c); docs/configuration.md
// lists every key and every place where switchyard deliberately differs.
//
// Loading happens at start-up (and on reload) on the thread that calls it, never on a
// worker's data path, so errors are thrown as ConfigError (STYLE.md rule 3) and app/ reports
// them and exits non-zero. A loaded Config is a plain value: copy it or share it read-only.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "hash/distribution.h"
#include "hash/hash_function.h"

namespace sy::config {

// A listen or server address: a TCP host and port, or a unix-domain socket path.
struct Address {
  std::string host;  // empty for a unix socket; an IPv6 literal is stored without brackets
  uint16_t port = 0;
  std::string unix_path;              // non-empty for a unix socket
  std::optional<uint32_t> unix_mode;  // listen only: octal permissions after the path
  bool isUnix() const { return !unix_path.empty(); }
  // "host:port", "[v6]:port" when the host holds a ':', or the socket path.
  std::string toString() const;
};

struct ServerConfig {
  Address address;
  uint32_t weight = 1;
  std::string name;  // configured name, or empty
  // The server's name exactly as nutcracker derives it, which is both its key in the stats
  // JSON and its identity on the ketama ring: the configured name; else "host:port" as
  // written in the file; else just "host" when the port is 11211 (libmemcached
  // compatibility); for an unnamed unix socket, the path followed by ':'.
  std::string stats_name;
  int line = 0;  // line in the config file
  // A role-probed group (several lines with this name in a pool without `sentinels`): every
  // node's address, in file order, this line's first. Empty for a plain server.
  std::vector<Address> group_nodes;
  std::vector<int> group_lines;  // the line of each group node
  bool isRoleProbedGroup() const { return !group_nodes.empty(); }
};

// Where read-only commands of a replication group go (`read_from`). Writes, and every command
// not flagged read-only, always go to the master.
enum class ReadFrom {
  kMaster,         // the master only (the default)
  kPreferMaster,   // the master; healthy replicas while the master is unavailable
  kReplica,        // healthy replicas only; an error when there is none
  kPreferReplica,  // healthy replicas; the master when there is none
  kNearest,        // the node with the lowest measured round-trip time (master or replica)
};
const char* readFromName(ReadFrom read_from);

struct PoolConfig {
  std::string name;
  int line = 0;  // line of the pool's name
  Address listen;
  hash::HashFunction hash = hash::HashFunction::kFnv1a_64;
  std::string hash_tag;  // "" or exactly two chars
  hash::Distribution distribution = hash::Distribution::kKetama;
  int64_t timeout_ms = -1;  // -1: wait forever (a configured 0 also means forever)
  int backlog = 512;
  uint32_t client_connections = 0;  // 0: unlimited
  bool redis = true;
  bool tcpkeepalive = false;
  bool reuseport = false;
  std::string redis_auth;   // the proxy AUTHs every server connection with it
  std::string client_auth;  // what clients must AUTH with; empty: redis_auth decides

  // The password clients must AUTH with: client_auth when set, else redis_auth (as in
  // nutcracker); empty when clients need no password.
  const std::string& clientPassword() const {
    return client_auth.empty() ? redis_auth : client_auth;
  }
  int redis_db = 0;
  // The backends' `databases` setting: SELECT accepts 0 .. databases - 1.
  int databases = 16;
  bool preconnect = false;
  bool auto_eject_hosts = false;
  uint32_t server_connections = 1;
  // The most private connections (transactions, blocking commands) the proxy opens to one
  // server (a group's master), across its workers.
  uint32_t private_connections = 256;
  int64_t server_retry_timeout_ms = 30000;
  uint32_t server_failure_limit = 2;
  // Client limits: past the first three a request is a protocol error (answered, then the
  // connection closes); a client idle (nothing read, nothing pending, not blocked, not
  // subscribed) for client_idle_timeout_ms is closed (0: never).
  int64_t max_request_args = 1024 * 1024;
  int64_t max_argument_bytes = 512 * 1024 * 1024;
  int64_t max_request_bytes = 1024 * 1024 * 1024;
  int64_t client_idle_timeout_ms = 0;
  std::vector<ServerConfig> servers;  // in file order, never empty
  // Sentinel-managed groups: when `sentinels` is not empty, each server is one replication
  // group whose name is its Sentinel master name (always set) and whose address is only a
  // first guess at its master.
  std::vector<Address> sentinels;      // host:port of each Sentinel, in file order, no duplicates
  int sentinels_line = 0;              // line of the `sentinels` key, 0 when absent
  std::string sentinel_auth_user;      // `sentinel_auth: user password`; empty for password only
  std::string sentinel_auth_password;  // empty: the Sentinels need no AUTH
  bool isSentinelManaged() const { return !sentinels.empty(); }

  // Replication groups (Sentinel-managed or role-probed).
  ReadFrom read_from = ReadFrom::kMaster;
  int64_t replica_max_lag_s = 10;  // a replica further behind (seconds) gets no reads
  // While a group's master is being switched, writes wait this long for a confirmed master,
  // then get a TRYAGAIN error; 0 answers the error at once.
  int64_t failover_wait_ms = 5000;
  int64_t role_probe_interval_ms = 1000;  // role-probed groups: how often each node is probed
  // `cluster: true`: `servers` are seed nodes of a Redis Cluster; the cluster's shards are the
  // pool's replication groups, keys go by CRC16 slot, and the slot table is read again every
  // cluster_refresh_interval (and at once after a redirection or a lost node).
  bool cluster = false;
  int64_t cluster_refresh_interval_ms = 1000;
  // True when the pool serves replication groups: `sentinels`, role-probed groups, or the
  // shards of a cluster.
  bool hasGroups() const {
    if (cluster || isSentinelManaged()) return true;
    for (const ServerConfig& server : servers) {
      if (server.isRoleProbedGroup()) return true;
    }
    return false;
  }
};

struct Config {
  std::string path;
  std::vector<PoolConfig> pools;  // in file order, never empty
};

// A configuration that cannot be used. what() reads
//   "<file>:<line>: pool '<pool>': <key>: <reason>"
// where the line, pool and key parts are left out when they do not apply, e.g.
//   "conf/sy.yml:7: pool 'alpha': hash: unknown hash function 'fnv2' (expected one of: ...)".
class ConfigError : public std::runtime_error {
 public:
  // line is 1-based; 0 when the error has no line (unreadable or empty file).
  ConfigError(std::string file, int line, std::string pool, std::string key, std::string reason);

  const std::string& file() const { return file_; }
  int line() const { return line_; }
  const std::string& pool() const { return pool_; }
  const std::string& key() const { return key_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string file_;
  int line_;
  std::string pool_;
  std::string key_;
  std::string reason_;
};

// Reads and validates the file at `path`. Throws ConfigError, also when the file cannot be
// read. Config::path is `path`.
Config loadConfigFile(const std::string& path);

// Validates `yaml_text` as if it were the contents of `file_name`, which is used only in
// error messages and as Config::path. Throws ConfigError.
Config parseConfig(std::string_view yaml_text, const std::string& file_name);

}  // namespace sy::config
