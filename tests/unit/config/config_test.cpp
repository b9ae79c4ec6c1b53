// Valid configurations: defaults, every key, server forms, and nutcracker's own example.
#include "config/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace sy::config {
namespace {

const PoolConfig& onlyPool(const Config& config) {
  EXPECT_EQ(config.pools.size(), 1u);
  return config.pools.front();
}

TEST(ParseConfig, MinimalPoolGetsNutcrackerDefaults) {
  Config config = parseConfig(
      "alpha:\n"
      "  listen: 127.0.0.1:22121\n"
      "  servers:\n"
      "    - 127.0.0.1:6379:1\n",
      "min.yml");
  EXPECT_EQ(config.path, "min.yml");
  const PoolConfig& pool = onlyPool(config);
  EXPECT_EQ(pool.name, "alpha");
  EXPECT_EQ(pool.line, 1);
  EXPECT_EQ(pool.listen.toString(), "127.0.0.1:22121");
  EXPECT_EQ(pool.hash, hash::HashFunction::kFnv1a_64);
  EXPECT_EQ(pool.hash_tag, "");
  EXPECT_EQ(pool.distribution, hash::Distribution::kKetama);
  EXPECT_EQ(pool.timeout_ms, -1);
  EXPECT_EQ(pool.backlog, 512);
  EXPECT_EQ(pool.client_connections, 0u);
  EXPECT_TRUE(pool.redis);  // absent: Redis (nutcracker would assume memcached)
  EXPECT_FALSE(pool.tcpkeepalive);
  EXPECT_FALSE(pool.reuseport);
  EXPECT_EQ(pool.redis_auth, "");
  EXPECT_EQ(pool.client_auth, "");
  EXPECT_EQ(pool.clientPassword(), "");
  EXPECT_EQ(pool.redis_db, 0);
  EXPECT_FALSE(pool.preconnect);
  EXPECT_FALSE(pool.auto_eject_hosts);
  EXPECT_EQ(pool.server_connections, 1u);
  EXPECT_EQ(pool.private_connections, 256u);
  EXPECT_EQ(pool.max_request_args, 1048576);
  EXPECT_EQ(pool.max_argument_bytes, 536870912);
  EXPECT_EQ(pool.max_request_bytes, 1073741824);
  EXPECT_EQ(pool.client_idle_timeout_ms, 0);
  EXPECT_EQ(pool.server_retry_timeout_ms, 30000);
  EXPECT_EQ(pool.server_failure_limit, 2u);
  ASSERT_EQ(pool.servers.size(), 1u);
  EXPECT_EQ(pool.servers[0].address.toString(), "127.0.0.1:6379");
  EXPECT_EQ(pool.servers[0].weight, 1u);
  EXPECT_EQ(pool.servers[0].name, "");
  EXPECT_EQ(pool.servers[0].stats_name, "127.0.0.1:6379");
  EXPECT_EQ(pool.servers[0].line, 4);
}

TEST(ParseConfig, EveryKeySet) {
  Config config = parseConfig(
      "# a comment first\n"
      "cache:\n"
      "  listen: 0.0.0.0:7000\n"
      "  hash: murmur\n"
      "  hash_tag: \"{}\"\n"
      "  distribution: modula\n"
      "  timeout: 400\n"
      "  backlog: 1024\n"
      "  client_connections: 5000\n"
      "  redis: true\n"
      "  tcpkeepalive: true\n"
      "  reuseport: true\n"
      "  redis_auth: s3cret pass\n"
      "  client_auth: for clients\n"
      "  redis_db: 3\n"
      "  preconnect: true\n"
      "  auto_eject_hosts: true\n"
      "  server_connections: 4\n"
      "  private_connections: 8\n"
      "  max_request_args: 64\n"
      "  max_argument_bytes: 4096\n"
      "  max_request_bytes: 65536\n"
      "  client_idle_timeout: 30000\n"
      "  server_retry_timeout: 2000\n"
      "  server_failure_limit: 5\n"
      "  servers:\n"
      "   - 10.0.0.1:6379:1 one\n"
      "   - 10.0.0.2:6379:2 two\n",
      "all.yml");
  const PoolConfig& pool = onlyPool(config);
  EXPECT_EQ(pool.name, "cache");
  EXPECT_EQ(pool.line, 2);
  EXPECT_EQ(pool.listen.host, "0.0.0.0");
  EXPECT_EQ(pool.listen.port, 7000);
  EXPECT_EQ(pool.hash, hash::HashFunction::kMurmur);
  EXPECT_EQ(pool.hash_tag, "{}");
  EXPECT_EQ(pool.distribution, hash::Distribution::kModula);
  EXPECT_EQ(pool.timeout_ms, 400);
  EXPECT_EQ(pool.backlog, 1024);
  EXPECT_EQ(pool.client_connections, 5000u);
  EXPECT_TRUE(pool.redis);
  EXPECT_TRUE(pool.tcpkeepalive);
  EXPECT_TRUE(pool.reuseport);
  EXPECT_EQ(pool.redis_auth, "s3cret pass");
  EXPECT_EQ(pool.client_auth, "for clients");
  EXPECT_EQ(pool.clientPassword(), "for clients");
  EXPECT_EQ(pool.redis_db, 3);
  EXPECT_TRUE(pool.preconnect);
  EXPECT_TRUE(pool.auto_eject_hosts);
  EXPECT_EQ(pool.server_connections, 4u);
  EXPECT_EQ(pool.private_connections, 8u);
  EXPECT_EQ(pool.max_request_args, 64);
  EXPECT_EQ(pool.max_argument_bytes, 4096);
  EXPECT_EQ(pool.max_request_bytes, 65536);
  EXPECT_EQ(pool.client_idle_timeout_ms, 30000);
  EXPECT_EQ(pool.server_retry_timeout_ms, 2000);
  EXPECT_EQ(pool.server_failure_limit, 5u);
  ASSERT_EQ(pool.servers.size(), 2u);
  EXPECT_EQ(pool.servers[0].name, "one");
  EXPECT_EQ(pool.servers[0].stats_name, "one");
  EXPECT_EQ(pool.servers[0].line, 27);
  EXPECT_EQ(pool.servers[1].name, "two");
  EXPECT_EQ(pool.servers[1].weight, 2u);
  EXPECT_EQ(pool.servers[1].line, 28);
}

TEST(ParseConfig, FalseBooleansAndZeroes) {
  Config config = parseConfig(
      "p:\n"
      "  listen: 127.0.0.1:7001\n"
      "  tcpkeepalive: false\n"
      "  reuseport: false\n"
      "  preconnect: false\n"
      "  auto_eject_hosts: false\n"
      "  backlog: 0\n"
      "  client_connections: 0\n"
      "  redis_db: 0\n"
      "  server_retry_timeout: 0\n"
      "  server_failure_limit: 0\n"
      "  servers: [127.0.0.1:6379:1]\n",
      "f.yml");
  const PoolConfig& pool = onlyPool(config);
  EXPECT_FALSE(pool.tcpkeepalive);
  EXPECT_FALSE(pool.reuseport);
  EXPECT_FALSE(pool.preconnect);
  EXPECT_FALSE(pool.auto_eject_hosts);
  EXPECT_EQ(pool.backlog, 0);
  EXPECT_EQ(pool.client_connections, 0u);
  EXPECT_EQ(pool.redis_db, 0);
  EXPECT_EQ(pool.server_retry_timeout_ms, 0);
  EXPECT_EQ(pool.server_failure_limit, 0u);
}

TEST(ParseConfig, ClientsUseRedisAuthUnlessClientAuthIsSet) {
  auto pool = [](const std::string& keys) {
    return parseConfig("alpha:\n  listen: 127.0.0.1:22121\n" + keys +
                           "  servers:\n    - 127.0.0.1:6379:1\n",
                       "auth.yml")
        .pools.at(0);
  };
  EXPECT_EQ(pool("  redis_auth: backend\n").clientPassword(), "backend");
  EXPECT_EQ(pool("  client_auth: front\n").clientPassword(), "front");
  PoolConfig both = pool("  redis_auth: backend\n  client_auth: front\n");
  EXPECT_EQ(both.clientPassword(), "front");
  EXPECT_EQ(both.redis_auth, "backend");
}

TEST(ParseConfig, TimeoutZeroMeansForeverAsInNutcracker) {
  Config config = parseConfig(
      "p:\n  listen: 127.0.0.1:7001\n  timeout: 0\n  servers:\n    - 127.0.0.1:6379:1\n", "t.yml");
  EXPECT_EQ(onlyPool(config).timeout_ms, -1);
}

TEST(ParseConfig, EveryHashFunctionAndDistributionByName) {
  for (hash::HashFunction function : hash::kAllHashFunctions) {
    for (hash::Distribution distribution :
         {hash::Distribution::kKetama, hash::Distribution::kModula, hash::Distribution::kRandom}) {
      std::string text =
          "p:\n  listen: 127.0.0.1:7001\n  hash: " + std::string(hash::hashFunctionName(function)) +
          "\n  distribution: " + std::string(hash::distributionName(distribution)) +
          "\n  servers:\n    - 127.0.0.1:6379:1\n";
      Config config = parseConfig(text, "h.yml");
      EXPECT_EQ(onlyPool(config).hash, function) << text;
      EXPECT_EQ(onlyPool(config).distribution, distribution) << text;
    }
  }
}

TEST(ParseConfig, QuotedScalarsReadLikePlainOnes) {
  Config config = parseConfig(
      "p:\n"
      "  listen: \"127.0.0.1:7001\"\n"
      "  timeout: '250'\n"
      "  preconnect: \"true\"\n"
      "  hash_tag: '$$'\n"
      "  servers:\n"
      "    - '127.0.0.1:6379:1'\n",
      "q.yml");
  const PoolConfig& pool = onlyPool(config);
  EXPECT_EQ(pool.timeout_ms, 250);
  EXPECT_TRUE(pool.preconnect);
  EXPECT_EQ(pool.hash_tag, "$$");
}

TEST(ParseConfig, PoolsKeepFileOrder) {
  Config config = parseConfig(
      "zeta:\n  listen: 127.0.0.1:7003\n  servers:\n    - 127.0.0.1:6379:1\n"
      "alpha:\n  listen: 127.0.0.1:7001\n  servers:\n    - 127.0.0.1:6380:1\n"
      "mid:\n  listen: /tmp/mid.sock\n  servers:\n    - 127.0.0.1:6381:1\n",
      "order.yml");
  ASSERT_EQ(config.pools.size(), 3u);
  EXPECT_EQ(config.pools[0].name, "zeta");
  EXPECT_EQ(config.pools[0].line, 1);
  EXPECT_EQ(config.pools[1].name, "alpha");
  EXPECT_EQ(config.pools[1].line, 5);
  EXPECT_EQ(config.pools[2].name, "mid");
  EXPECT_EQ(config.pools[2].line, 9);
}

TEST(ParseConfig, UnixSocketsAndIpv6) {
  Config config = parseConfig(
      "local:\n"
      "  listen: /var/run/sy.sock 0660\n"
      "  servers:\n"
      "    - /var/run/redis/a.sock:1\n"
      "    - /var/run/redis/b.sock:1 b\n"
      "v6:\n"
      "  listen: \"[::1]:22121\"\n"
      "  servers:\n"
      "    - \"[::1]:6379:1\"\n"
      "    - \"[2001:db8::1]:6379:2 far\"\n",
      "u.yml");
  ASSERT_EQ(config.pools.size(), 2u);
  const PoolConfig& local = config.pools[0];
  EXPECT_TRUE(local.listen.isUnix());
  EXPECT_EQ(local.listen.unix_path, "/var/run/sy.sock");
  EXPECT_EQ(local.listen.unix_mode, 0660u);
  EXPECT_EQ(local.servers[0].address.unix_path, "/var/run/redis/a.sock");
  EXPECT_EQ(local.servers[0].stats_name, "/var/run/redis/a.sock:");
  EXPECT_EQ(local.servers[1].stats_name, "b");
  const PoolConfig& v6 = config.pools[1];
  EXPECT_EQ(v6.listen.host, "::1");
  EXPECT_EQ(v6.listen.port, 22121);
  EXPECT_EQ(v6.servers[0].address.host, "::1");
  EXPECT_EQ(v6.servers[0].stats_name, "[::1]:6379");
  EXPECT_EQ(v6.servers[1].address.host, "2001:db8::1");
  EXPECT_EQ(v6.servers[1].weight, 2u);
  EXPECT_EQ(v6.servers[1].name, "far");
}

TEST(ParseConfig, SameAddressTwiceWithDistinctNamesIsAllowed) {
  Config config = parseConfig(
      "p:\n  listen: 127.0.0.1:7001\n  servers:\n"
      "    - 127.0.0.1:6379:1 a\n    - 127.0.0.1:6379:1 b\n",
      "n.yml");
  EXPECT_EQ(onlyPool(config).servers.size(), 2u);
}

TEST(ParseConfig, AnchorsAndAliasesAreResolved) {
  Config config = parseConfig(
      "a:\n  listen: 127.0.0.1:7001\n  servers: &shared\n    - 127.0.0.1:6379:1\n"
      "b:\n  listen: 127.0.0.1:7002\n  servers: *shared\n",
      "anchor.yml");
  ASSERT_EQ(config.pools.size(), 2u);
  EXPECT_EQ(config.pools[1].servers[0].address.toString(), "127.0.0.1:6379");
}

// The same shape as the example nutcracker ships (conf/nutcracker.yml upstream).
constexpr const char* kNutcrackerStyle =
    "alpha:\n"
    "  listen: 127.0.0.1:22121\n"
    "  hash: fnv1a_64\n"
    "  distribution: ketama\n"
    "  auto_eject_hosts: true\n"
    "  redis: true\n"
    "  server_retry_timeout: 2000\n"
    "  server_failure_limit: 1\n"
    "  servers:\n"
    "   - 127.0.0.1:6379:1\n"
    "\n"
    "beta:\n"
    "  listen: 127.0.0.1:22122\n"
    "  hash: fnv1a_64\n"
    "  hash_tag: \"{}\"\n"
    "  distribution: ketama\n"
    "  auto_eject_hosts: false\n"
    "  timeout: 400\n"
    "  redis: true\n"
    "  servers:\n"
    "   - 127.0.0.1:6380:1 server1\n"
    "   - 127.0.0.1:6381:1 server2\n"
    "   - 127.0.0.1:6382:1 server3\n"
    "   - 127.0.0.1:6383:1 server4\n"
    "\n"
    "omega:\n"
    "  listen: /tmp/gamma\n"
    "  hash: hsieh\n"
    "  distribution: ketama\n"
    "  auto_eject_hosts: false\n"
    "  servers:\n"
    "   - 127.0.0.1:11214:100000\n"
    "   - 127.0.0.1:11215:1\n";

TEST(ParseConfig, NutcrackerStyleExample) {
  Config config = parseConfig(kNutcrackerStyle, "nutcracker.yml");
  ASSERT_EQ(config.pools.size(), 3u);
  const PoolConfig& alpha = config.pools[0];
  EXPECT_TRUE(alpha.auto_eject_hosts);
  EXPECT_EQ(alpha.server_retry_timeout_ms, 2000);
  EXPECT_EQ(alpha.server_failure_limit, 1u);
  const PoolConfig& beta = config.pools[1];
  EXPECT_EQ(beta.hash_tag, "{}");
  EXPECT_EQ(beta.timeout_ms, 400);
  ASSERT_EQ(beta.servers.size(), 4u);
  EXPECT_EQ(beta.servers[3].name, "server4");
  EXPECT_EQ(beta.servers[3].address.port, 6383);
  EXPECT_EQ(beta.servers[3].line, 24);
  const PoolConfig& omega = config.pools[2];
  EXPECT_EQ(omega.listen.unix_path, "/tmp/gamma");
  EXPECT_EQ(omega.hash, hash::HashFunction::kHsieh);
  EXPECT_TRUE(omega.redis);  // no `redis:` key: switchyard assumes Redis
  EXPECT_EQ(omega.servers[0].weight, 100000u);
}

TEST(ParseConfig, NutcrackerStyleExampleWithMemcachedPoolIsRejected) {
  std::string text = kNutcrackerStyle;
  text.replace(text.find("  hash: hsieh\n"), 0, "  redis: false\n");
  try {
    parseConfig(text, "nutcracker.yml");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.line(), 28);
    EXPECT_EQ(e.pool(), "omega");
    EXPECT_EQ(e.key(), "redis");
    EXPECT_STREQ(e.what(),
                 "nutcracker.yml:28: pool 'omega': redis: memcached pools are not supported; "
                 "switchyard speaks only Redis (set redis: true)");
  }
}

// Debian's nutcracker package ships the upstream example; when it is installed, every pool
// in it must load (the pools without `redis:` are memcached to nutcracker, Redis to us).
TEST(LoadConfigFile, InstalledNutcrackerExample) {
  const std::string path = "/usr/share/doc/nutcracker/examples/nutcracker.yml";
  if (!std::filesystem::exists(path)) {
    GTEST_SKIP() << path << " is not installed";
  }
  Config config = loadConfigFile(path);
  EXPECT_EQ(config.path, path);
  ASSERT_GE(config.pools.size(), 2u);
  EXPECT_EQ(config.pools[0].name, "alpha");
  EXPECT_EQ(config.pools[1].name, "beta");
  EXPECT_EQ(config.pools[1].servers.size(), 4u);
  for (const PoolConfig& pool : config.pools) {
    EXPECT_TRUE(pool.redis) << pool.name;
    EXPECT_FALSE(pool.servers.empty()) << pool.name;
  }
}

class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    path_ = (std::filesystem::temp_directory_path() /
             ("sy_config_test_" + std::to_string(::getpid()) + ".yml"))
                .string();
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(LoadConfigFile, ReadsTheFile) {
  TempFile file(kNutcrackerStyle);
  Config config = loadConfigFile(file.path());
  EXPECT_EQ(config.path, file.path());
  EXPECT_EQ(config.pools.size(), 3u);
}

TEST(LoadConfigFile, ErrorsNameTheFile) {
  TempFile file("p:\n  listen: 127.0.0.1:7001\n  hash: fnv2\n  servers:\n    - a:1:1\n");
  try {
    loadConfigFile(file.path());
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), file.path());
    EXPECT_EQ(std::string(e.what()).rfind(file.path() + ":3: pool 'p': hash: ", 0), 0u) << e.what();
  }
}

TEST(LoadConfigFile, MissingFile) {
  try {
    loadConfigFile("/nonexistent/sy.yml");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.line(), 0);
    EXPECT_STREQ(e.what(), "/nonexistent/sy.yml: cannot open the file: No such file or directory");
  }
}

TEST(LoadConfigFile, DirectoryIsUnreadable) {
  try {
    loadConfigFile("/tmp");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), "/tmp");
    EXPECT_NE(std::string(e.what()).find("Is a directory"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sy::config
