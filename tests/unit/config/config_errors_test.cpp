// Invalid configurations: every error names the file, the line, the pool and the key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "config/config.h"

namespace sy::config {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A valid pool body after `listen` (lines 3-4 of a pool that starts on line 1).
constexpr const char* kServers = "  servers:\n    - 127.0.0.1:6379:1\n";

ConfigError errorOf(const std::string& text) {
  try {
    parseConfig(text, "conf/sy.yml");
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "no ConfigError for:\n" << text;
  return ConfigError("", 0, "", "", "");
}

// `extra` lines are inserted at line 3 of pool 'alpha' (after its listen line).
ConfigError errorWithKeys(const std::string& extra) {
  return errorOf("alpha:\n  listen: 127.0.0.1:22121\n" + extra + kServers);
}

void expectKeyError(const std::string& extra, const std::string& key, const std::string& reason) {
  ConfigError e = errorWithKeys(extra);
  EXPECT_EQ(e.file(), "conf/sy.yml") << extra;
  EXPECT_EQ(e.line(), 3) << extra;
  EXPECT_EQ(e.pool(), "alpha") << extra;
  EXPECT_EQ(e.key(), key) << extra;
  EXPECT_THAT(e.reason(), HasSubstr(reason)) << extra;
  EXPECT_THAT(e.what(), StartsWith("conf/sy.yml:3: pool 'alpha': " + key + ": ")) << extra;
}

TEST(ConfigErrors, MessageFormat) {
  ConfigError e = errorWithKeys("  hash: fnv2\n");
  EXPECT_STREQ(e.what(),
               "conf/sy.yml:3: pool 'alpha': hash: unknown hash function 'fnv2' (expected one "
               "of: one_at_a_time, md5, crc16, crc32, crc32a, fnv1_64, fnv1a_64, fnv1_32, "
               "fnv1a_32, hsieh, murmur, jenkins)");
  EXPECT_STREQ(ConfigError("f.yml", 0, "", "", "bad").what(), "f.yml: bad");
  EXPECT_STREQ(ConfigError("f.yml", 2, "", "", "bad").what(), "f.yml:2: bad");
  EXPECT_STREQ(ConfigError("f.yml", 2, "p", "", "bad").what(), "f.yml:2: pool 'p': bad");
}

TEST(ConfigErrors, UnknownKeys) {
  expectKeyError("  hash_tags: \"{}\"\n", "hash_tags", "unknown key (did you mean 'hash_tag'?)");
  expectKeyError("  time_out: 10\n", "time_out", "unknown key (did you mean 'timeout'?)");
  expectKeyError("  listen_backlog: 10\n", "listen_backlog", "unknown key");
  ConfigError far = errorWithKeys("  colour: blue\n");
  EXPECT_EQ(far.reason(), "unknown key");
}

// A cluster pool places keys by CRC16 slot and learns its nodes from the cluster: the keys that
// would place keys or name nodes otherwise are refused, each with the reason.
TEST(ConfigErrors, ClusterPoolsRefuseKeysThatDoNotApply) {
  for (const char* key : {"hash: crc16", "hash_tag: \"{}\"", "distribution: modula"}) {
    std::string line = std::string("  ") + key + "\n";
    std::string name(key, std::string_view(key).find(':'));
    ConfigError e = errorWithKeys(line + "  cluster: true\n");
    EXPECT_EQ(e.line(), 3) << key;
    EXPECT_EQ(e.key(), name) << key;
    EXPECT_THAT(e.reason(), HasSubstr("does not apply to a cluster pool: keys go to Redis "
                                      "Cluster's CRC16 hash slots"))
        << key;
  }
  for (const char* key : {"auto_eject_hosts: true", "role_probe_interval: 100"}) {
    std::string line = std::string("  ") + key + "\n";
    ConfigError e = errorWithKeys(line + "  cluster: true\n");
    EXPECT_THAT(e.reason(), HasSubstr("the cluster names its masters and replicas")) << key;
  }
  ConfigError db = errorWithKeys("  redis_db: 2\n  cluster: true\n");
  EXPECT_EQ(db.key(), "redis_db");
  EXPECT_THAT(db.reason(), HasSubstr("Redis Cluster has database 0 only"));
  expectKeyError("  cluster_refresh_interval: 500\n", "cluster_refresh_interval",
                 "is set but the pool is not 'cluster: true'");
  expectKeyError("  cluster_refresh_interval: 5\n  cluster: true\n", "cluster_refresh_interval",
                 "100");
  expectKeyError("  cluster: maybe\n", "cluster", "");
}

TEST(ConfigErrors, ClusterSeedsAreTcpNodesEachOnce) {
  ConfigError unix_seed = errorOf(
      "alpha:\n  listen: 127.0.0.1:22121\n  cluster: true\n  servers:\n"
      "    - /tmp/redis.sock:1\n");
  EXPECT_EQ(unix_seed.line(), 5);
  EXPECT_THAT(unix_seed.reason(), HasSubstr("cluster nodes are reached over TCP"));
  ConfigError named_twice = errorOf(
      "alpha:\n  listen: 127.0.0.1:22121\n  cluster: true\n  servers:\n"
      "    - 127.0.0.1:7000:1 seed\n    - 127.0.0.1:7001:1 seed\n");
  EXPECT_EQ(named_twice.line(), 6);
  EXPECT_THAT(named_twice.reason(), HasSubstr("in a cluster pool each line is one seed node"));
}

TEST(ConfigErrors, AClusterPoolParses) {
  Config config = parseConfig(
      "alpha:\n  listen: 127.0.0.1:22121\n  cluster: true\n  cluster_refresh_interval: 250\n"
      "  servers:\n    - 127.0.0.1:7000:1\n    - 127.0.0.1:7001:1\n",
      "conf/sy.yml");
  ASSERT_EQ(config.pools.size(), 1u);
  EXPECT_TRUE(config.pools[0].cluster);
  EXPECT_TRUE(config.pools[0].hasGroups());
  EXPECT_EQ(config.pools[0].cluster_refresh_interval_ms, 250);
  EXPECT_EQ(config.pools[0].databases, 1);
  EXPECT_EQ(config.pools[0].servers.size(), 2u);
}

TEST(ConfigErrors, ReplicationKeysNeedGroups) {
  expectKeyError("  read_from: replica\n", "read_from", "the pool has no replication groups");
  expectKeyError("  replica_max_lag: 10\n", "replica_max_lag",
                 "the pool has no replication groups");
}

TEST(ConfigErrors, ClientAuth) {
  expectKeyError("  client_auth: \"\"\n", "client_auth", "must not be empty");
  expectKeyError("  client_auth:\n", "client_auth", "expected a single value, found nothing");
  expectKeyError("  client_auth: [a, b]\n", "client_auth", "expected a single value, found a list");
  expectKeyError("  client_authx: pw\n", "client_authx", "did you mean 'client_auth'?");
}

TEST(ConfigErrors, WrongTypes) {
  expectKeyError("  hash: [fnv1a_64]\n", "hash", "expected a single value, found a list");
  expectKeyError("  timeout:\n    ms: 5\n", "timeout", "expected a single value, found a mapping");
  expectKeyError("  redis_auth:\n", "redis_auth", "expected a single value, found nothing");
  expectKeyError("  servers2: 1\n", "servers2", "did you mean 'servers'?");
  ConfigError e = errorOf("alpha:\n  listen: 127.0.0.1:22121\n  servers: 127.0.0.1:6379:1\n");
  EXPECT_EQ(e.line(), 3);
  EXPECT_EQ(e.key(), "servers");
  EXPECT_THAT(e.reason(), HasSubstr("expected a list of 'host:port:weight [name]' entries"));
}

TEST(ConfigErrors, BadIntegers) {
  expectKeyError("  timeout: 1s\n", "timeout", "'1s' is not a whole number");
  expectKeyError("  timeout: -1\n", "timeout", "must not be negative");
  expectKeyError("  backlog: 1.5\n", "backlog", "is not a whole number");
  expectKeyError("  backlog: -4\n", "backlog", "must not be negative");
  expectKeyError("  client_connections: lots\n", "client_connections", "not a whole number");
  expectKeyError("  redis_db: -1\n", "redis_db", "must not be negative");
  expectKeyError("  server_connections: 0\n", "server_connections", "must be at least 1");
  expectKeyError("  server_connections: -3\n", "server_connections", "must not be negative");
  expectKeyError("  private_connections: -1\n", "private_connections", "must not be negative");
  expectKeyError("  private_connections: many\n", "private_connections", "not a whole number");
  expectKeyError("  max_request_args: 0\n", "max_request_args", "out of range (1..2147483647)");
  expectKeyError("  max_argument_bytes: 1k\n", "max_argument_bytes", "not a whole number");
  expectKeyError("  max_request_bytes: 0\n", "max_request_bytes", "out of range (1..2147483647)");
  expectKeyError("  client_idle_timeout: -5\n", "client_idle_timeout", "must not be negative");
  expectKeyError("  server_retry_timeout: 0x10\n", "server_retry_timeout", "not a whole number");
  expectKeyError("  server_failure_limit: -2\n", "server_failure_limit", "must not be negative");
  expectKeyError("  timeout: 2147483648\n", "timeout", "out of range (0..2147483647)");
  expectKeyError("  backlog: 99999999999999999999\n", "backlog", "not a whole number");
}

TEST(ConfigErrors, BooleansAreOnlyTrueOrFalse) {
  for (const char* key : {"tcpkeepalive", "reuseport", "preconnect", "auto_eject_hosts", "redis"}) {
    for (const char* value : {"yes", "no", "on", "1", "True"}) {
      expectKeyError(std::string("  ") + key + ": " + value + "\n", key,
                     std::string("'") + value + "' is not a boolean; write true or false");
    }
  }
  expectKeyError("  preconnect: [true]\n", "preconnect", "expected a single value");
}

TEST(ConfigErrors, MemcachedPoolIsRejected) {
  expectKeyError("  redis: false\n", "redis",
                 "memcached pools are not supported; switchyard speaks only Redis "
                 "(set redis: true)");
}

TEST(ConfigErrors, HashTagMustBeTwoCharacters) {
  expectKeyError("  hash_tag: \"{\"\n", "hash_tag", "'{' is not exactly two characters");
  expectKeyError("  hash_tag: \"{{}\"\n", "hash_tag", "not exactly two characters");
  expectKeyError("  hash_tag: \"\"\n", "hash_tag", "not exactly two characters");
  expectKeyError("  hash_tag: {}\n", "hash_tag", "quote them, as in hash_tag: \"{}\"");
}

TEST(ConfigErrors, UnknownDistribution) {
  expectKeyError("  distribution: consistent\n", "distribution",
                 "unknown distribution 'consistent' (expected one of: ketama, modula, random)");
}

TEST(ConfigErrors, DuplicateKeyInPool) {
  ConfigError e = errorOf("alpha:\n  listen: 127.0.0.1:22121\n  timeout: 10\n" +
                          std::string(kServers) + "  timeout: 20\n");
  EXPECT_EQ(e.line(), 6);
  EXPECT_EQ(e.key(), "timeout");
  EXPECT_EQ(e.reason(), "duplicate key (already set on line 3)");
}

TEST(ConfigErrors, BadListen) {
  ConfigError e = errorOf("alpha:\n  listen: 127.0.0.1\n" + std::string(kServers));
  EXPECT_EQ(e.line(), 2);
  EXPECT_EQ(e.key(), "listen");
  EXPECT_THAT(e.reason(), HasSubstr("'127.0.0.1' has no port"));
  e = errorOf("alpha:\n  listen: 127.0.0.1:99999\n" + std::string(kServers));
  EXPECT_THAT(e.reason(), HasSubstr("invalid port '99999'"));
  e = errorOf("alpha:\n  listen: /tmp/sy.sock 0888\n" + std::string(kServers));
  EXPECT_THAT(e.reason(), HasSubstr("invalid socket permissions '0888'"));
}

TEST(ConfigErrors, MissingListen) {
  ConfigError e = errorOf("alpha:\n  hash: md5\n" + std::string(kServers));
  EXPECT_EQ(e.line(), 1);
  EXPECT_EQ(e.pool(), "alpha");
  EXPECT_EQ(e.key(), "listen");
  EXPECT_STREQ(e.what(),
               "conf/sy.yml:1: pool 'alpha': listen: missing; every pool needs a listen address");
}

TEST(ConfigErrors, MissingOrEmptyServers) {
  ConfigError missing = errorOf("alpha:\n  listen: 127.0.0.1:22121\n");
  EXPECT_EQ(missing.line(), 1);
  EXPECT_EQ(missing.key(), "servers");
  EXPECT_THAT(missing.reason(), HasSubstr("missing"));
  ConfigError empty = errorOf("alpha:\n  listen: 127.0.0.1:22121\n  servers: []\n");
  EXPECT_EQ(empty.line(), 3);
  EXPECT_EQ(empty.key(), "servers");
  EXPECT_THAT(empty.reason(), HasSubstr("the list is empty"));
  ConfigError null = errorOf("alpha:\n  listen: 127.0.0.1:22121\n  servers:\n");
  EXPECT_EQ(null.key(), "servers");
  EXPECT_THAT(null.reason(), HasSubstr("found nothing"));
}

TEST(ConfigErrors, BadServerLinesNameTheirOwnLine) {
  const std::string head = "alpha:\n  listen: 127.0.0.1:22121\n  servers:\n    - 10.0.0.1:6379:1\n";
  struct Case {
    const char* line;
    const char* reason;
  };
  const Case cases[] = {
      {"10.0.0.2:6379", "lacks a port or a weight"},
      {"10.0.0.2:6379:0", "invalid weight '0'"},
      {"10.0.0.2:6379:-1", "invalid weight '-1'"},
      {"10.0.0.2:0:1", "invalid port '0'"},
      {"10.0.0.2:65536:1", "invalid port '65536'"},
      {"10.0.0.2:6379:1 a b", "stray spaces"},
      {"[10.0.0.2]:6379:1", "not a bracketed IPv6 address"},
  };
  for (const Case& c : cases) {
    ConfigError e = errorOf(head + "    - \"" + c.line + "\"\n");
    EXPECT_EQ(e.line(), 5) << c.line;
    EXPECT_EQ(e.key(), "servers") << c.line;
    EXPECT_THAT(e.reason(), HasSubstr(c.reason)) << c.line;
  }
  ConfigError nested = errorOf(head + "    - [10.0.0.2:6379:1]\n");
  EXPECT_EQ(nested.line(), 5);
  EXPECT_THAT(nested.reason(), HasSubstr("expected a single value, found a list"));
}

// Unlike nutcracker, two named lines with one name are not an error: they form a role-probed
// group (sentinel_config_test.cpp). An unnamed server's name is its address, and the same
// address twice is still an error.
TEST(ConfigErrors, DuplicateServerNames) {
  ConfigError unnamed = errorOf(
      "alpha:\n  listen: 127.0.0.1:22121\n  servers:\n"
      "    - 10.0.0.1:6379:1\n    - 10.0.0.1:6379:2\n");
  EXPECT_EQ(unnamed.line(), 5);
  EXPECT_EQ(unnamed.reason(), "duplicate server address '10.0.0.1:6379' (also on line 4)");
}

TEST(ConfigErrors, DuplicatePoolNames) {
  ConfigError e = errorOf("alpha:\n  listen: 127.0.0.1:22121\n" + std::string(kServers) +
                          "alpha:\n  listen: 127.0.0.1:22122\n" + kServers);
  EXPECT_EQ(e.line(), 5);
  EXPECT_EQ(e.pool(), "alpha");
  EXPECT_STREQ(e.what(),
               "conf/sy.yml:5: pool 'alpha': duplicate pool name (first defined on line 1)");
}

TEST(ConfigErrors, TwoPoolsOnOneListenAddress) {
  ConfigError e = errorOf("alpha:\n  listen: 127.0.0.1:22121\n" + std::string(kServers) +
                          "beta:\n  listen: 127.0.0.1:22121\n" + kServers);
  EXPECT_EQ(e.line(), 5);
  EXPECT_EQ(e.pool(), "beta");
  EXPECT_EQ(e.key(), "listen");
  EXPECT_EQ(e.reason(), "'127.0.0.1:22121' is already the listen address of pool 'alpha' (line 1)");
  ConfigError unix_socket = errorOf("a:\n  listen: /tmp/s.sock\n" + std::string(kServers) +
                                    "b:\n  listen: /tmp/s.sock 0600\n" + kServers);
  EXPECT_EQ(unix_socket.pool(), "b");
  EXPECT_EQ(unix_socket.key(), "listen");
}

TEST(ConfigErrors, YamlSyntaxErrorHasYamlLine) {
  ConfigError e = errorOf("alpha:\n  listen: 127.0.0.1:22121\n  servers: [a:1:1,\n  hash: md5\n");
  EXPECT_GT(e.line(), 2);
  EXPECT_EQ(e.pool(), "");
  EXPECT_THAT(e.what(),
              StartsWith("conf/sy.yml:" + std::to_string(e.line()) + ": YAML syntax error: "));
  ConfigError tab = errorOf("alpha:\n\tlisten: 127.0.0.1:22121\n");
  EXPECT_THAT(tab.reason(), StartsWith("YAML syntax error: "));
  EXPECT_EQ(tab.line(), 2);
}

TEST(ConfigErrors, EmptyFile) {
  for (const char* text : {"", "\n\n", "# nothing but a comment\n", "---\n"}) {
    ConfigError e = errorOf(text);
    EXPECT_EQ(e.line(), 0) << text;
    EXPECT_STREQ(e.what(), "conf/sy.yml: the file is empty; it must define at least one pool");
  }
  ConfigError no_pools = errorOf("{}\n");
  EXPECT_EQ(no_pools.reason(), "no pools are defined");
}

TEST(ConfigErrors, TopLevelMustBeAMapping) {
  ConfigError list = errorOf("- alpha\n- beta\n");
  EXPECT_EQ(list.line(), 1);
  EXPECT_EQ(list.reason(), "the top level must be a mapping of pool names to pools");
  ConfigError scalar = errorOf("just words\n");
  EXPECT_EQ(scalar.reason(), "the top level must be a mapping of pool names to pools");
}

TEST(ConfigErrors, OnlyOneDocument) {
  ConfigError e = errorOf("alpha:\n  listen: 127.0.0.1:22121\n" + std::string(kServers) +
                          "---\nbeta:\n  listen: 127.0.0.1:22122\n" + kServers);
  EXPECT_EQ(e.line(), 6);
  EXPECT_EQ(e.reason(), "only one YAML document is allowed, found 2");
}

TEST(ConfigErrors, PoolMustBeAMapping) {
  ConfigError scalar = errorOf("alpha: 127.0.0.1:22121\n");
  EXPECT_EQ(scalar.line(), 1);
  EXPECT_EQ(scalar.pool(), "alpha");
  EXPECT_THAT(scalar.reason(), HasSubstr("a pool must be a mapping of keys"));
  ConfigError empty = errorOf("alpha:\nbeta:\n  listen: 127.0.0.1:1\n" + std::string(kServers));
  EXPECT_EQ(empty.pool(), "alpha");
  EXPECT_THAT(empty.reason(), HasSubstr("found nothing"));
  ConfigError list = errorOf("alpha:\n  - listen: 127.0.0.1:1\n");
  EXPECT_THAT(list.reason(), HasSubstr("found a list"));
}

TEST(ConfigErrors, PoolNameMustBeAPlainName) {
  ConfigError e = errorOf("? [a, b]\n: {listen: 127.0.0.1:1}\n");
  EXPECT_EQ(e.line(), 1);
  EXPECT_THAT(e.reason(), HasSubstr("a pool name must be a non-empty plain name"));
  ConfigError empty_name = errorOf("\"\":\n  listen: 127.0.0.1:1\n" + std::string(kServers));
  EXPECT_THAT(empty_name.reason(), HasSubstr("a pool name must be a non-empty plain name"));
}

TEST(ConfigErrors, KeyMustBeAPlainName) {
  ConfigError e = errorWithKeys("  ? [x]\n  : 1\n");
  EXPECT_EQ(e.line(), 3);
  EXPECT_EQ(e.pool(), "alpha");
  EXPECT_THAT(e.reason(), HasSubstr("a key must be a plain name"));
}

}  // namespace
}  // namespace sy::config

namespace sy::config {
namespace {

TEST(ConfigErrors, ServerNamesLongerThanNutcrackerCanHashAreRejected) {
  std::string yaml = "alpha:\n  listen: 127.0.0.1:22121\n  servers:\n    - 127.0.0.1:6379:1 " +
                     std::string(81, 'n') + "\n";
  try {
    parseConfig(yaml, "long.yml");
    FAIL() << "a server name of 81 bytes was accepted";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.line(), 4);
    EXPECT_NE(std::string(error.what()).find("longer than 80 bytes"), std::string::npos)
        << error.what();
  }
  std::string fits = "alpha:\n  listen: 127.0.0.1:22121\n  servers:\n    - 127.0.0.1:6379:1 " +
                     std::string(80, 'n') + "\n";
  EXPECT_EQ(parseConfig(fits, "fits.yml").pools[0].servers[0].name.size(), 80u);
}

TEST(ConfigErrors, WeightsThatOverflowTheRingTotalAreRejected) {
  std::string yaml =
      "alpha:\n  listen: 127.0.0.1:22121\n  servers:\n    - 127.0.0.1:6379:2147483647 a\n"
      "    - 127.0.0.1:6380:2147483647 b\n    - 127.0.0.1:6381:2 c\n";
  try {
    parseConfig(yaml, "weights.yml");
    FAIL() << "weights adding up past 2^32 were accepted";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("more than 4294967295"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace sy::config
