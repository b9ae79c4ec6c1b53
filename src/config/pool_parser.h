// PoolParser: one pool's YAML mapping -> a validated PoolConfig. Internal to the config
// module (config.cpp drives it); any thread, one parser per pool, used once.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <string_view>

#include "config/config.h"

namespace sy::config {

// The 1-based line of a node, or 0 when yaml-cpp has no position for it.
int lineOf(const YAML::Node& node);

class PoolParser {
 public:
  // `file` names the file in errors; `name_node` is the pool's key in the top-level mapping.
  PoolParser(const std::string& file, const YAML::Node& name_node);

  // Parses the pool's value (a mapping of keys) and fills in defaults. Throws ConfigError.
  PoolConfig parse(const YAML::Node& body);

  // One known key: its name and the member function that applies its value.
  struct KeyHandler {
    std::string_view key;
    void (PoolParser::*apply)(const YAML::Node& value, int line);
  };

 private:
  [[noreturn]] void fail(int line, std::string_view key, std::string reason) const;

  void applyKey(const YAML::Node& key_node, const YAML::Node& value);
  void finish();

  // Typed readers of a key's value; each throws ConfigError naming key_ on bad input.
  std::string scalar(const YAML::Node& value, int line) const;
  int64_t integer(const YAML::Node& value, int line, int64_t min, int64_t max) const;
  bool boolean(const YAML::Node& value, int line) const;

  void setListen(const YAML::Node& value, int line);
  void setHash(const YAML::Node& value, int line);
  void setHashTag(const YAML::Node& value, int line);
  void setDistribution(const YAML::Node& value, int line);
  void setTimeout(const YAML::Node& value, int line);
  void setBacklog(const YAML::Node& value, int line);
  void setClientConnections(const YAML::Node& value, int line);
  void setRedis(const YAML::Node& value, int line);
  void setTcpKeepalive(const YAML::Node& value, int line);
  void setReusePort(const YAML::Node& value, int line);
  void setRedisAuth(const YAML::Node& value, int line);
  void setClientAuth(const YAML::Node& value, int line);
  void setRedisDb(const YAML::Node& value, int line);
  void setPreconnect(const YAML::Node& value, int line);
  void setAutoEjectHosts(const YAML::Node& value, int line);
  void setServerConnections(const YAML::Node& value, int line);
  void setPrivateConnections(const YAML::Node& value, int line);
  void setDatabases(const YAML::Node& value, int line);
  void setMaxRequestArgs(const YAML::Node& value, int line);
  void setMaxArgumentBytes(const YAML::Node& value, int line);
  void setMaxRequestBytes(const YAML::Node& value, int line);
  void setClientIdleTimeout(const YAML::Node& value, int line);
  void setServerRetryTimeout(const YAML::Node& value, int line);
  void setServerFailureLimit(const YAML::Node& value, int line);
  void setServers(const YAML::Node& value, int line);
  void setSentinels(const YAML::Node& value, int line);
  void setSentinelAuth(const YAML::Node& value, int line);
  void setReadFrom(const YAML::Node& value, int line);
  void setReplicaMaxLag(const YAML::Node& value, int line);
  void setFailoverWait(const YAML::Node& value, int line);
  void setRoleProbeInterval(const YAML::Node& value, int line);
  void setCluster(const YAML::Node& value, int line);
  void setClusterRefreshInterval(const YAML::Node& value, int line);
  void checkSentinelGroups();
  void checkClusterKeys();
  void checkReplicationKeys();
  // Adds `node` to the role-probed group of the same name first listed on `first_line`.
  void joinGroup(const ServerConfig& node, int first_line);
  void addServer(const YAML::Node& item);

  static const KeyHandler kKeyHandlers[];

  const std::string& file_;
  PoolConfig pool_;
  std::string key_;                          // the key being applied, for error messages
  std::map<std::string, int> seen_;          // key -> line where it was set
  std::map<std::string, int> server_lines_;  // server stats_name -> its line
};

}  // namespace sy::config
