#include "config/address_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sy::config {
namespace {

using ::testing::HasSubstr;

TEST(ParseInteger, AcceptsOnlyPlainDecimals) {
  EXPECT_EQ(parseInteger("0"), 0);
  EXPECT_EQ(parseInteger("400"), 400);
  EXPECT_EQ(parseInteger("-1"), -1);
  EXPECT_EQ(parseInteger("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(parseInteger("9223372036854775808"), std::nullopt);
  EXPECT_EQ(parseInteger(""), std::nullopt);
  EXPECT_EQ(parseInteger("-"), std::nullopt);
  EXPECT_EQ(parseInteger("+5"), std::nullopt);
  EXPECT_EQ(parseInteger("0x10"), std::nullopt);
  EXPECT_EQ(parseInteger("1.5"), std::nullopt);
  EXPECT_EQ(parseInteger(" 5"), std::nullopt);
  EXPECT_EQ(parseInteger("5ms"), std::nullopt);
}

TEST(ParseListenAddress, HostAndPort) {
  auto address = parseListenAddress("127.0.0.1:22121");
  ASSERT_TRUE(address.ok()) << address.error().message;
  EXPECT_EQ(address->host, "127.0.0.1");
  EXPECT_EQ(address->port, 22121);
  EXPECT_FALSE(address->isUnix());
  EXPECT_FALSE(address->unix_mode.has_value());
  EXPECT_EQ(address->toString(), "127.0.0.1:22121");
}

TEST(ParseListenAddress, HostName) {
  auto address = parseListenAddress("proxy-1.example.com:6379");
  ASSERT_TRUE(address.ok()) << address.error().message;
  EXPECT_EQ(address->host, "proxy-1.example.com");
  EXPECT_EQ(address->port, 6379);
}

TEST(ParseListenAddress, BracketedIpv6) {
  auto address = parseListenAddress("[::1]:22121");
  ASSERT_TRUE(address.ok()) << address.error().message;
  EXPECT_EQ(address->host, "::1");
  EXPECT_EQ(address->port, 22121);
  EXPECT_EQ(address->toString(), "[::1]:22121");
}

TEST(ParseListenAddress, UnbracketedIpv6TakesPortAfterLastColon) {
  auto address = parseListenAddress("fe80::1:6379");
  ASSERT_TRUE(address.ok()) << address.error().message;
  EXPECT_EQ(address->host, "fe80::1");
  EXPECT_EQ(address->port, 6379);
  EXPECT_EQ(address->toString(), "[fe80::1]:6379");
}

TEST(ParseListenAddress, UnixSocket) {
  auto address = parseListenAddress("/var/run/switchyard.sock");
  ASSERT_TRUE(address.ok()) << address.error().message;
  EXPECT_TRUE(address->isUnix());
  EXPECT_EQ(address->unix_path, "/var/run/switchyard.sock");
  EXPECT_TRUE(address->host.empty());
  EXPECT_EQ(address->port, 0);
  EXPECT_FALSE(address->unix_mode.has_value());
  EXPECT_EQ(address->toString(), "/var/run/switchyard.sock");
}

TEST(ParseListenAddress, UnixSocketWithMode) {
  auto address = parseListenAddress("/tmp/sy.sock 0666");
  ASSERT_TRUE(address.ok()) << address.error().message;
  EXPECT_EQ(address->unix_path, "/tmp/sy.sock");
  ASSERT_TRUE(address->unix_mode.has_value());
  EXPECT_EQ(*address->unix_mode, 0666u);

  auto plain = parseListenAddress("/tmp/sy.sock 600");
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(*plain->unix_mode, 0600u);
}

TEST(ParseListenAddress, Errors) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"", "empty"},
      {"127.0.0.1", "has no port"},
      {"relative.sock", "has no port"},
      {":22121", "host is empty"},
      {"127.0.0.1:0", "invalid port '0'"},
      {"127.0.0.1:65536", "invalid port '65536'"},
      {"127.0.0.1:-1", "invalid port '-1'"},
      {"127.0.0.1:http", "invalid port 'http'"},
      {"127.0.0.1:", "invalid port ''"},
      {"[::1:22121", "not a bracketed IPv6 address"},
      {"[nothost]:22121", "not a bracketed IPv6 address"},
      {"a:b:22121", "not a valid host name or IP address"},
      {"bad host:22121", "not a valid host name or IP address"},
      {"/tmp/sy.sock 0999", "invalid socket permissions '0999'"},
      {"/tmp/sy.sock 01777", "at most 0777"},
      {"/tmp/sy.sock rw", "invalid socket permissions 'rw'"},
  };
  for (const Case& c : cases) {
    auto address = parseListenAddress(c.text);
    ASSERT_FALSE(address.ok()) << c.text;
    EXPECT_THAT(address.error().message, HasSubstr(c.message)) << c.text;
  }
}

TEST(ParseServerLine, HostPortWeight) {
  auto server = parseServerLine("127.0.0.1:6379:1");
  ASSERT_TRUE(server.ok()) << server.error().message;
  EXPECT_EQ(server->address.host, "127.0.0.1");
  EXPECT_EQ(server->address.port, 6379);
  EXPECT_EQ(server->weight, 1u);
  EXPECT_EQ(server->name, "");
  EXPECT_EQ(server->stats_name, "127.0.0.1:6379");
  EXPECT_EQ(server->line, 0);
}

TEST(ParseServerLine, NameAndWeight) {
  auto server = parseServerLine("10.0.0.5:6380:3 shard-a");
  ASSERT_TRUE(server.ok()) << server.error().message;
  EXPECT_EQ(server->address.host, "10.0.0.5");
  EXPECT_EQ(server->address.port, 6380);
  EXPECT_EQ(server->weight, 3u);
  EXPECT_EQ(server->name, "shard-a");
  EXPECT_EQ(server->stats_name, "shard-a");
}

TEST(ParseServerLine, NameMayContainColons) {
  auto server = parseServerLine("10.0.0.5:6380:1 mymaster:a");
  ASSERT_TRUE(server.ok()) << server.error().message;
  EXPECT_EQ(server->name, "mymaster:a");
  EXPECT_EQ(server->address.port, 6380);
}

TEST(ParseServerLine, PortOf11211LeavesPortOutOfDerivedName) {
  auto server = parseServerLine("127.0.0.1:11211:1");
  ASSERT_TRUE(server.ok()) << server.error().message;
  EXPECT_EQ(server->address.port, 11211);
  EXPECT_EQ(server->stats_name, "127.0.0.1");
}

TEST(ParseServerLine, UnixSocket) {
  auto server = parseServerLine("/var/run/redis/redis.sock:2");
  ASSERT_TRUE(server.ok()) << server.error().message;
  EXPECT_TRUE(server->address.isUnix());
  EXPECT_EQ(server->address.unix_path, "/var/run/redis/redis.sock");
  EXPECT_EQ(server->address.port, 0);
  EXPECT_EQ(server->weight, 2u);
  EXPECT_EQ(server->stats_name, "/var/run/redis/redis.sock:");
  EXPECT_EQ(server->address.toString(), "/var/run/redis/redis.sock");

  auto named = parseServerLine("/tmp/r.sock:1 local");
  ASSERT_TRUE(named.ok()) << named.error().message;
  EXPECT_EQ(named->address.unix_path, "/tmp/r.sock");
  EXPECT_EQ(named->stats_name, "local");
}

TEST(ParseServerLine, Ipv6) {
  auto bracketed = parseServerLine("[2001:db8::7]:6379:1 v6");
  ASSERT_TRUE(bracketed.ok()) << bracketed.error().message;
  EXPECT_EQ(bracketed->address.host, "2001:db8::7");
  EXPECT_EQ(bracketed->address.port, 6379);
  EXPECT_EQ(bracketed->name, "v6");

  auto unnamed = parseServerLine("[::1]:6379:1");
  ASSERT_TRUE(unnamed.ok()) << unnamed.error().message;
  EXPECT_EQ(unnamed->stats_name, "[::1]:6379");

  auto bare = parseServerLine("::1:6379:1");
  ASSERT_TRUE(bare.ok()) << bare.error().message;
  EXPECT_EQ(bare->address.host, "::1");
  EXPECT_EQ(bare->address.port, 6379);
}

TEST(ParseServerLine, LargeWeight) {
  auto server = parseServerLine("127.0.0.1:11214:100000");
  ASSERT_TRUE(server.ok()) << server.error().message;
  EXPECT_EQ(server->weight, 100000u);
  auto largest = parseServerLine("127.0.0.1:1:2147483647");
  ASSERT_TRUE(largest.ok()) << largest.error().message;
  EXPECT_EQ(largest->weight, 2147483647u);
}

TEST(ParseServerLine, Errors) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"127.0.0.1:6379", "lacks a port or a weight"},
      {"127.0.0.1", "has no weight"},
      {"", "has no weight"},
      {"127.0.0.1:6379:0", "invalid weight '0'"},
      {"127.0.0.1:6379:-2", "invalid weight '-2'"},
      {"127.0.0.1:6379:heavy", "invalid weight 'heavy'"},
      {"127.0.0.1:6379:2147483648", "invalid weight '2147483648'"},
      {"127.0.0.1:6379:", "invalid weight ''"},
      {"127.0.0.1:0:1", "invalid port '0'"},
      {"127.0.0.1:70000:1", "invalid port '70000'"},
      {":6379:1", "host is empty"},
      {"127.0.0.1:6379:1 two names", "stray spaces"},
      {"127.0.0.1:6379:1 ", "stray spaces"},
      {"/tmp/r.sock", "has no weight"},
      {"/tmp/r.sock:x", "invalid weight 'x'"},
  };
  for (const Case& c : cases) {
    auto server = parseServerLine(c.text);
    ASSERT_FALSE(server.ok()) << c.text;
    EXPECT_THAT(server.error().message, HasSubstr(c.message)) << c.text;
  }
}

}  // namespace
}  // namespace sy::config
