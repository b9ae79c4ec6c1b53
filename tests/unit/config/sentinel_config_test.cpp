// The replication-group keys: `sentinels` and `sentinel_auth`, role-probed groups (several
// `servers` lines with one name), `read_from`, `replica_max_lag`, `failover_wait` and
// `role_probe_interval`, parsed and checked.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <string>

#include "config/address_parser.h"
#include "config/config.h"
#include "config/pool_parser.h"

namespace sy::config {
namespace {

using ::testing::HasSubstr;

constexpr const char* kNamedServers =
    "  servers:\n    - 127.0.0.1:6379:1 shard0\n    - 127.0.0.1:6380:1 shard1\n";

// Parses one pool's YAML (starting with "alpha:") with PoolParser.
PoolConfig parsePool(const std::string& text) {
  YAML::Node root = YAML::Load(text);
  static const std::string kFile = "s.yml";
  auto it = root.begin();
  PoolParser parser(kFile, it->first);
  return parser.parse(it->second);
}

ConfigError errorOf(const std::string& text) {
  try {
    parseConfig(text, "s.yml");
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "no ConfigError for:\n" << text;
  return ConfigError("", 0, "", "", "");
}

TEST(SentinelConfig, ParsesSentinelsAndPasswordAuth) {
  PoolConfig pool = parsePool(
      "alpha:\n  listen: 127.0.0.1:22121\n  sentinels:\n    - 127.0.0.1:26379\n"
      "    - '[::1]:26380'\n    - sentinel-3.example:26381\n  sentinel_auth: pw\n" +
      std::string(kNamedServers));
  ASSERT_TRUE(pool.isSentinelManaged());
  ASSERT_EQ(pool.sentinels.size(), 3u);
  EXPECT_EQ(pool.sentinels[0].toString(), "127.0.0.1:26379");
  EXPECT_EQ(pool.sentinels[1].host, "::1");
  EXPECT_EQ(pool.sentinels[1].port, 26380);
  EXPECT_EQ(pool.sentinels[2].host, "sentinel-3.example");
  EXPECT_EQ(pool.sentinels_line, 3);
  EXPECT_EQ(pool.sentinel_auth_user, "");
  EXPECT_EQ(pool.sentinel_auth_password, "pw");
  EXPECT_EQ(pool.servers[1].name, "shard1");
}

TEST(SentinelConfig, ParsesUserAndPassword) {
  PoolConfig pool = parsePool(
      "alpha:\n  listen: 127.0.0.1:22121\n  sentinels: [127.0.0.1:26379]\n"
      "  sentinel_auth: watcher pass word\n" +
      std::string(kNamedServers));
  EXPECT_EQ(pool.sentinel_auth_user, "watcher");
  EXPECT_EQ(pool.sentinel_auth_password, "pass word");
}

TEST(SentinelConfig, PlainPoolIsNotSentinelManaged) {
  PoolConfig pool = parsePool("alpha:\n  listen: 127.0.0.1:22121\n" + std::string(kNamedServers));
  EXPECT_FALSE(pool.isSentinelManaged());
  EXPECT_EQ(pool.sentinels_line, 0);
}

TEST(SentinelConfig, ValidSentinelPoolLoads) {
  Config config = parseConfig(
      "alpha:\n  listen: 127.0.0.1:22121\n  sentinels:\n"
      "    - 127.0.0.1:26379\n  read_from: replica\n  replica_max_lag: 3\n"
      "  failover_wait: 1500\n" +
          std::string(kNamedServers),
      "s.yml");
  const PoolConfig& pool = config.pools[0];
  EXPECT_TRUE(pool.hasGroups());
  EXPECT_EQ(pool.read_from, ReadFrom::kReplica);
  EXPECT_EQ(pool.replica_max_lag_s, 3);
  EXPECT_EQ(pool.failover_wait_ms, 1500);
}

TEST(SentinelConfig, ReplicationDefaults) {
  PoolConfig pool = parsePool("alpha:\n  listen: 127.0.0.1:22121\n  sentinels: [127.0.0.1:1]\n" +
                              std::string(kNamedServers));
  EXPECT_EQ(pool.read_from, ReadFrom::kMaster);
  EXPECT_EQ(pool.replica_max_lag_s, 10);
  EXPECT_EQ(pool.failover_wait_ms, 5000);
  EXPECT_EQ(pool.role_probe_interval_ms, 1000);
}

TEST(SentinelConfig, EveryReadFromName) {
  const std::pair<const char*, ReadFrom> names[] = {
      {"master", ReadFrom::kMaster},   {"prefer_master", ReadFrom::kPreferMaster},
      {"replica", ReadFrom::kReplica}, {"prefer_replica", ReadFrom::kPreferReplica},
      {"nearest", ReadFrom::kNearest},
  };
  for (const auto& [name, value] : names) {
    PoolConfig pool = parsePool(
        "alpha:\n  listen: 127.0.0.1:22121\n  sentinels: [127.0.0.1:1]\n"
        "  read_from: " +
        std::string(name) + "\n" + std::string(kNamedServers));
    EXPECT_EQ(pool.read_from, value) << name;
    EXPECT_STREQ(readFromName(value), name);
  }
}

TEST(RoleProbedGroups, LinesWithOneNameFormAGroup) {
  PoolConfig pool = parsePool(
      "alpha:\n  listen: 127.0.0.1:22121\n  read_from: nearest\n  role_probe_interval: 200\n"
      "  servers:\n    - 127.0.0.1:6379:1 g0\n    - 127.0.0.1:6380:1 g0\n"
      "    - 127.0.0.1:6381:1 g1\n    - 127.0.0.1:6382:1 g0\n");
  ASSERT_EQ(pool.servers.size(), 2u);
  EXPECT_TRUE(pool.hasGroups());
  const ServerConfig& g0 = pool.servers[0];
  EXPECT_EQ(g0.name, "g0");
  ASSERT_EQ(g0.group_nodes.size(), 3u);
  EXPECT_EQ(g0.group_nodes[0].toString(), "127.0.0.1:6379");
  EXPECT_EQ(g0.group_nodes[2].toString(), "127.0.0.1:6382");
  EXPECT_EQ(g0.group_lines, (std::vector<int>{6, 7, 9}));
  EXPECT_FALSE(pool.servers[1].isRoleProbedGroup());
  EXPECT_EQ(pool.role_probe_interval_ms, 200);
  EXPECT_EQ(pool.read_from, ReadFrom::kNearest);
}

struct BadCase {
  std::string extra;  // inserted after listen (line 3)
  std::string servers;
  int line;
  std::string key;
  std::string reason;
};

TEST(SentinelConfig, BadValuesNameLineAndKey) {
  const std::string named = kNamedServers;
  const BadCase cases[] = {
      {"  sentinels: 127.0.0.1:26379\n", named, 3, "sentinels", "expected a list of 'host:port'"},
      {"  sentinels: []\n", named, 3, "sentinels", "the list is empty"},
      {"  sentinels:\n    - 127.0.0.1\n", named, 4, "sentinels", "has no port"},
      {"  sentinels:\n    - 127.0.0.1:0\n", named, 4, "sentinels", "invalid port '0'"},
      {"  sentinels:\n    - /tmp/s.sock\n", named, 4, "sentinels", "is a unix socket path"},
      {"  sentinels:\n    - [a, b]\n", named, 4, "sentinels", "expected a single value"},
      {"  sentinels:\n    - 127.0.0.1:26379\n    - 127.0.0.1:26379\n", named, 5, "sentinels",
       "duplicate Sentinel '127.0.0.1:26379' (also on line 4)"},
      {"  sentinel_auth: pw\n", named, 3, "sentinel_auth", "no 'sentinels' to use it for"},
      {"  sentinels: [127.0.0.1:26379]\n  sentinel_auth: ''\n", named, 4, "sentinel_auth",
       "expected a password"},
      {"  sentinels: [127.0.0.1:26379]\n  sentinel_auth: ' pw'\n", named, 4, "sentinel_auth",
       "expected a password"},
      {"  sentinels: [127.0.0.1:26379]\n  sentinel_auth: 'user '\n", named, 4, "sentinel_auth",
       "expected a password"},
      {"  sentinels: [127.0.0.1:26379]\n", "  servers:\n    - 127.0.0.1:6379:1\n", 5, "servers",
       "'127.0.0.1:6379' has no name; with 'sentinels' each server is a Sentinel-managed group"},
      {"  sentinels: [127.0.0.1:26379]\n", "  servers:\n    - /tmp/r.sock:1 shard0\n", 5, "servers",
       "is a unix socket"},
      {"  sentinels: [127.0.0.1:26379]\n",
       "  servers:\n    - 127.0.0.1:6379:1 g0\n    - 127.0.0.1:6380:1 g0\n", 6, "servers",
       "duplicate server name 'g0' (also on line 5)"},
      {"  read_from: replica\n", named, 3, "read_from", "no replication groups"},
      {"  replica_max_lag: 3\n", named, 3, "replica_max_lag", "no replication groups"},
      {"  failover_wait: 3\n", named, 3, "failover_wait", "no replication groups"},
      {"  role_probe_interval: 300\n", named, 3, "role_probe_interval", "no role-probed group"},
      {"  sentinels: [127.0.0.1:26379]\n  read_from: bogus\n", named, 4, "read_from",
       "unknown read_from 'bogus' (expected one of: master, prefer_master, replica, "
       "prefer_replica, nearest)"},
      {"  sentinels: [127.0.0.1:26379]\n  failover_wait: -1\n", named, 4, "failover_wait",
       "must not be negative"},
      {"  sentinels: [127.0.0.1:26379]\n  replica_max_lag: x\n", named, 4, "replica_max_lag",
       "not a whole number"},
      {"", "  servers:\n    - 127.0.0.1:6379:1 g0\n    - 127.0.0.1:6380:2 g0\n", 5, "servers",
       "has weight 2 here but 1 on line 4"},
      {"", "  servers:\n    - 127.0.0.1:6379:1 g0\n    - 127.0.0.1:6379:1 g0\n", 5, "servers",
       "duplicate node 127.0.0.1:6379 in group 'g0' (also on line 4)"},
      {"", "  servers:\n    - 127.0.0.1:6379:1\n    - 127.0.0.1:6379:1\n", 5, "servers",
       "duplicate server address '127.0.0.1:6379'"},
  };
  for (const BadCase& c : cases) {
    ConfigError e = errorOf("alpha:\n  listen: 127.0.0.1:22121\n" + c.extra + c.servers);
    EXPECT_EQ(e.line(), c.line) << c.extra;
    EXPECT_EQ(e.key(), c.key) << c.extra;
    EXPECT_THAT(e.reason(), HasSubstr(c.reason)) << c.extra;
  }
}

TEST(SentinelConfig, SentinelAddressForms) {
  EXPECT_TRUE(parseSentinelAddress("127.0.0.1:26379").ok());
  EXPECT_TRUE(parseSentinelAddress("[::1]:26379").ok());
  EXPECT_FALSE(parseSentinelAddress("").ok());
  EXPECT_FALSE(parseSentinelAddress("host:port").ok());
  EXPECT_FALSE(parseSentinelAddress("127.0.0.1:26379:1").ok());
}

}  // namespace
}  // namespace sy::config
