// The Sentinel keys: `sentinels` and `sentinel_auth` parsed and checked, and a valid
// Sentinel-managed pool refused at load because the proxy does not serve one yet.
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

// Parses one pool's YAML (starting with "alpha:") with PoolParser, which applies every check
// except the final refusal of Sentinel-managed pools.
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

TEST(SentinelConfig, ValidSentinelPoolIsRefusedAsNotServedYet) {
  ConfigError e = errorOf(
      "alpha:\n  listen: 127.0.0.1:22121\n  sentinels:\n"
      "    - 127.0.0.1:26379\n" +
      std::string(kNamedServers));
  EXPECT_EQ(e.line(), 3);
  EXPECT_EQ(e.pool(), "alpha");
  EXPECT_EQ(e.key(), "sentinels");
  EXPECT_THAT(e.reason(), HasSubstr("Sentinel-managed pools are not served yet"));
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
