// Topology snapshots built from YAML: server order and names, resolved endpoints, placement.
#include "topology/topology.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "build_topology.h"
#include "config/config.h"
#include "hash/distribution.h"
#include "hash/ring_identity.h"

namespace sy::topology {
namespace {

std::shared_ptr<const config::Config> configFrom(std::string_view yaml) {
  return std::make_shared<const config::Config>(config::parseConfig(yaml, "t.yml"));
}

std::shared_ptr<const Topology> build(std::string_view yaml) { return buildFromYaml(yaml); }

// "a.b.c.d:port" or "[v6]:port" of a TCP endpoint, from its socket address.
std::string endpointText(const Endpoint& endpoint) {
  char text[INET6_ADDRSTRLEN] = {};
  const sockaddr* address = endpoint.data();
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
    return std::string(text) + ":" + std::to_string(ntohs(v4->sin_port));
  }
  if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(v6->sin6_port));
  }
  return "family " + std::to_string(address->sa_family);
}

TEST(BuildTopology, ServersInConfigOrderWithNamesAndAddresses) {
  auto topology = build(
      "alpha:\n"
      "  listen: 127.0.0.1:22121\n"
      "  servers:\n"
      "    - 127.0.0.1:6390:1 first\n"
      "    - 127.0.0.1:6380:2\n"
      "    - 127.0.0.1:6370:1 third\n"
      "beta:\n"
      "  listen: 127.0.0.1:22122\n"
      "  servers:\n"
      "    - 127.0.0.1:7000:1\n");
  ASSERT_NE(topology, nullptr);
  ASSERT_EQ(topology->pools().size(), 2u);
  const PoolTopology& alpha = topology->pools()[0];
  EXPECT_EQ(alpha.index, 0u);
  EXPECT_EQ(alpha.config, &topology->config().pools[0]);
  EXPECT_EQ(alpha.config->name, "alpha");
  ASSERT_EQ(alpha.servers.size(), 3u);
  const char* names[] = {"first", "127.0.0.1:6380", "third"};
  const char* addresses[] = {"127.0.0.1:6390", "127.0.0.1:6380", "127.0.0.1:6370"};
  for (uint32_t i = 0; i < 3; ++i) {
    const ServerInfo& server = alpha.servers[i];
    EXPECT_EQ(server.index, i);
    EXPECT_EQ(server.stats_name, names[i]);
    EXPECT_EQ(server.address_text, addresses[i]);
    EXPECT_EQ(endpointText(server.endpoint), addresses[i]);
    EXPECT_EQ(server.endpoint.protocol().protocol(), IPPROTO_TCP);
    EXPECT_EQ(server.config, &topology->config().pools[0].servers[i]);
  }
  EXPECT_EQ(alpha.servers[1].config->weight, 2u);

  const PoolTopology& beta = topology->pools()[1];
  EXPECT_EQ(beta.index, 1u);
  EXPECT_EQ(beta.config->name, "beta");
  ASSERT_EQ(beta.servers.size(), 1u);
  EXPECT_EQ(beta.servers[0].stats_name, "127.0.0.1:7000");
  EXPECT_EQ(beta.serverForKey("anything"), 0u);
}

TEST(BuildTopology, UnixSocketServers) {
  auto topology = build(
      "local:\n"
      "  listen: 127.0.0.1:22121\n"
      "  servers:\n"
      "    - /var/run/redis/a.sock:1\n"
      "    - /var/run/redis/b.sock:1 b\n");
  ASSERT_NE(topology, nullptr);
  const PoolTopology& pool = topology->pools()[0];
  ASSERT_EQ(pool.servers.size(), 2u);
  EXPECT_EQ(pool.servers[0].stats_name, "/var/run/redis/a.sock:");
  EXPECT_EQ(pool.servers[0].address_text, "/var/run/redis/a.sock");
  EXPECT_EQ(pool.servers[1].stats_name, "b");
  EXPECT_EQ(pool.servers[1].address_text, "/var/run/redis/b.sock");
  const char* paths[] = {"/var/run/redis/a.sock", "/var/run/redis/b.sock"};
  for (size_t i = 0; i < 2; ++i) {
    const Endpoint& endpoint = pool.servers[i].endpoint;
    ASSERT_EQ(endpoint.data()->sa_family, AF_UNIX);
    const auto* sun = reinterpret_cast<const sockaddr_un*>(endpoint.data());
    EXPECT_STREQ(sun->sun_path, paths[i]);
    EXPECT_EQ(endpoint.protocol().family(), AF_UNIX);
  }
}

TEST(BuildTopology, PlacementMatchesAKeyPlacerBuiltDirectly) {
  std::string_view yaml =
      "p:\n"
      "  listen: 127.0.0.1:22121\n"
      "  hash: murmur\n"
      "  hash_tag: \"{}\"\n"
      "  distribution: ketama\n"
      "  servers:\n"
      "    - 127.0.0.1:6379:1 shard-a\n"
      "    - 127.0.0.1:6380:3 shard-b\n"
      "    - 127.0.0.1:6381:1\n"
      "    - 10.0.0.4:11211:2\n";
  auto topology = build(yaml);
  ASSERT_NE(topology, nullptr);
  const PoolTopology& pool = topology->pools()[0];
  std::vector<hash::RingMember> members{
      {hash::ringIdentity("shard-a", "127.0.0.1", 6379, false), 1, 0},
      {hash::ringIdentity("shard-b", "127.0.0.1", 6380, false), 3, 1},
      {hash::ringIdentity("", "127.0.0.1", 6381, false), 1, 2},
      {hash::ringIdentity("", "10.0.0.4", 11211, false), 2, 3},
  };
  EXPECT_EQ(members[2].identity, "127.0.0.1:6381");
  EXPECT_EQ(members[3].identity, "10.0.0.4");
  hash::KeyPlacer direct(hash::HashFunction::kMurmur, "{}", hash::Distribution::kKetama, members);
  EXPECT_EQ(pool.placer.function(), hash::HashFunction::kMurmur);
  EXPECT_EQ(pool.placer.hashTag(), "{}");
  std::vector<int> per_server(4, 0);
  for (int i = 0; i < 2000; ++i) {
    std::string key = "key:" + std::to_string(i);
    uint32_t server = pool.serverForKey(key);
    ASSERT_EQ(server, direct.serverForKey(key)) << key;
    ASSERT_EQ(pool.serverForKey("{" + key + "}suffix"), server) << key;
    ++per_server.at(server);
  }
  for (int count : per_server) EXPECT_GT(count, 0);
}

TEST(BuildTopology, ModulaPlacementMatchesToo) {
  auto topology = build(
      "m:\n"
      "  listen: 127.0.0.1:22121\n"
      "  hash: fnv1a_64\n"
      "  distribution: modula\n"
      "  servers:\n"
      "    - 127.0.0.1:6379:1\n"
      "    - 127.0.0.1:6380:1\n"
      "    - 127.0.0.1:6381:1\n");
  ASSERT_NE(topology, nullptr);
  std::vector<hash::RingMember> members{
      {"127.0.0.1:6379", 1, 0}, {"127.0.0.1:6380", 1, 1}, {"127.0.0.1:6381", 1, 2}};
  hash::KeyPlacer direct(hash::HashFunction::kFnv1a_64, "", hash::Distribution::kModula, members);
  for (int i = 0; i < 500; ++i) {
    std::string key = "m" + std::to_string(i);
    ASSERT_EQ(topology->pools()[0].serverForKey(key), direct.serverForKey(key)) << key;
  }
}

TEST(BuildTopology, UnresolvableHostNamesTheServer) {
  auto built =
      buildTopology(configFrom("gamma:\n"
                               "  listen: 127.0.0.1:22121\n"
                               "  servers:\n"
                               "    - 127.0.0.1:6379:1\n"
                               "    - no-such-host.invalid:6379:1\n"));
  ASSERT_FALSE(built.ok());
  const std::string& message = built.error().message;
  EXPECT_EQ(
      message.rfind("t.yml:5: pool 'gamma': servers: no-such-host.invalid:6379: cannot resolve "
                    "'no-such-host.invalid': ",
                    0),
      0u)
      << message;
}

TEST(BuildTopology, SnapshotKeepsItsConfigAlive) {
  std::shared_ptr<const Topology> topology;
  {
    auto config = configFrom(
        "solo:\n"
        "  listen: 127.0.0.1:22121\n"
        "  servers:\n"
        "    - 127.0.0.1:6379:1 only\n");
    auto built = buildTopology(config);
    ASSERT_TRUE(built.ok());
    topology = *built;
  }
  EXPECT_EQ(topology->config().path, "t.yml");
  EXPECT_EQ(topology->pools()[0].config->name, "solo");
  EXPECT_EQ(topology->pools()[0].servers[0].config->name, "only");
}

TEST(ResolveAddress, Ipv4AndIpv6Literals) {
  config::Address v4;
  v4.host = "127.0.0.1";
  v4.port = 6379;
  auto resolved_v4 = resolveAddress(v4);
  ASSERT_TRUE(resolved_v4.ok()) << resolved_v4.error().message;
  EXPECT_EQ(endpointText(*resolved_v4), "127.0.0.1:6379");

  config::Address v6;
  v6.host = "::1";
  v6.port = 7001;
  auto resolved_v6 = resolveAddress(v6);
  ASSERT_TRUE(resolved_v6.ok()) << resolved_v6.error().message;
  EXPECT_EQ(resolved_v6->data()->sa_family, AF_INET6);
  EXPECT_EQ(endpointText(*resolved_v6), "[::1]:7001");
  EXPECT_EQ(resolved_v6->protocol().family(), AF_INET6);
  EXPECT_EQ(resolved_v6->protocol().protocol(), IPPROTO_TCP);
}

TEST(ResolveAddress, Ipv6ServerLineInAConfig) {
  auto topology = build(
      "six:\n"
      "  listen: 127.0.0.1:22121\n"
      "  servers:\n"
      "    - \"[::1]:6379:1\"\n");
  ASSERT_NE(topology, nullptr);
  const ServerInfo& server = topology->pools()[0].servers[0];
  EXPECT_EQ(server.address_text, "[::1]:6379");
  EXPECT_EQ(endpointText(server.endpoint), "[::1]:6379");
}

TEST(ResolveAddress, UnixPathTooLongIsAnError) {
  config::Address address;
  address.unix_path = "/" + std::string(sizeof(sockaddr_un::sun_path), 'x');
  auto resolved = resolveAddress(address);
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(resolved.error().message, "unix socket path too long: " + address.unix_path);
}

}  // namespace
}  // namespace sy::topology
