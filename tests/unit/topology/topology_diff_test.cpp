// Topology diffs and connection keys: what a reload reports and which backend connections a
// swap keeps.
#include "topology/topology_diff.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "build_topology.h"
#include "config/config.h"

namespace sy::topology {
namespace {

std::shared_ptr<const Topology> build(std::string_view yaml) { return buildFromYaml(yaml); }

const std::string kBase =
    "alpha:\n"
    "  listen: 127.0.0.1:22121\n"
    "  timeout: 400\n"
    "  servers:\n"
    "    - 127.0.0.1:6379:1 s1\n"
    "    - 127.0.0.1:6380:1 s2\n"
    "beta:\n"
    "  listen: 127.0.0.1:22122\n"
    "  servers:\n"
    "    - 127.0.0.1:6381:1\n";

using Names = std::vector<std::string>;

TEST(DiffTopologies, SameFileIsNoChange) {
  auto a = build(kBase);
  auto b = build(kBase);
  TopologyDiff diff = diffTopologies(*a, *b);
  EXPECT_TRUE(diff.empty());
  EXPECT_EQ(diff.summary(), "no change");
}

TEST(DiffTopologies, PoolsAddedRemovedAndReordered) {
  auto before = build(kBase);
  auto after = build(
      "gamma:\n"
      "  listen: 127.0.0.1:22123\n"
      "  servers:\n"
      "    - 127.0.0.1:6382:1\n"
      "alpha:\n"
      "  listen: 127.0.0.1:22121\n"
      "  timeout: 400\n"
      "  servers:\n"
      "    - 127.0.0.1:6379:1 s1\n"
      "    - 127.0.0.1:6380:1 s2\n");
  TopologyDiff diff = diffTopologies(*before, *after);
  EXPECT_EQ(diff.pools_added, Names{"gamma"});
  EXPECT_EQ(diff.pools_removed, Names{"beta"});
  EXPECT_TRUE(diff.pools_changed.empty()) << "alpha moved from index 0 to 1 but is the same";
  EXPECT_EQ(diff.summary(), "pools added [gamma]; pools removed [beta]");
}

TEST(DiffTopologies, ServersAddedRemovedChanged) {
  auto before = build(kBase);
  auto after = build(
      "alpha:\n"
      "  listen: 127.0.0.1:22121\n"
      "  timeout: 400\n"
      "  servers:\n"
      "    - 127.0.0.1:6389:1 s1\n"
      "    - 127.0.0.1:6390:1 s3\n"
      "beta:\n"
      "  listen: 127.0.0.1:22122\n"
      "  servers:\n"
      "    - 127.0.0.1:6381:2\n");
  TopologyDiff diff = diffTopologies(*before, *after);
  EXPECT_EQ(diff.pools_changed, (Names{"alpha", "beta"}));
  EXPECT_EQ(diff.servers_added, Names{"alpha/s3"});
  EXPECT_EQ(diff.servers_removed, Names{"alpha/s2"});
  EXPECT_EQ(diff.servers_changed, (Names{"alpha/s1", "beta/127.0.0.1:6381"}))
      << "an address change and a weight change";
  EXPECT_TRUE(diff.settings_changed.empty());
  EXPECT_EQ(diff.summary(),
            "pools changed [alpha, beta]; servers added [alpha/s3]; servers removed [alpha/s2]; "
            "servers changed [alpha/s1, beta/127.0.0.1:6381]");
}

TEST(DiffTopologies, KnobAndListenChanges) {
  auto before = build(kBase);
  auto after = build(
      "alpha:\n"
      "  listen: 127.0.0.1:22121\n"
      "  timeout: 100\n"
      "  servers:\n"
      "    - 127.0.0.1:6379:1 s1\n"
      "    - 127.0.0.1:6380:1 s2\n"
      "beta:\n"
      "  listen: 127.0.0.1:22129\n"
      "  servers:\n"
      "    - 127.0.0.1:6381:1\n");
  TopologyDiff diff = diffTopologies(*before, *after);
  EXPECT_EQ(diff.pools_changed, (Names{"alpha", "beta"}));
  EXPECT_TRUE(diff.servers_changed.empty());
  EXPECT_EQ(diff.settings_changed, (Names{"alpha.timeout", "beta.listen"}));
  EXPECT_EQ(diff.summary(),
            "pools changed [alpha, beta]; settings changed [alpha.timeout, beta.listen]");
}

// The connection for each server of `pool` in `topology`, by name.
ConnectionKey keyOf(const Topology& topology, std::string_view pool, std::string_view server) {
  const PoolTopology* found = findPool(topology, pool);
  EXPECT_NE(found, nullptr);
  for (const ServerInfo& info : found->servers) {
    if (info.stats_name == server) return connectionKey(*found, info);
  }
  ADD_FAILURE() << "no server " << server;
  return {};
}

TEST(ConnectionKey, KeptAcrossIndexShiftsAndKnobChanges) {
  auto before = build(kBase);
  // s2 moves to index 0, alpha moves to index 1, timeout and keepalive change: the
  // connection is still the same.
  auto after = build(
      "beta:\n"
      "  listen: 127.0.0.1:22122\n"
      "  servers:\n"
      "    - 127.0.0.1:6381:1\n"
      "alpha:\n"
      "  listen: 127.0.0.1:22199\n"
      "  timeout: 50\n"
      "  tcpkeepalive: true\n"
      "  servers:\n"
      "    - 127.0.0.1:6380:1 s2\n"
      "    - 127.0.0.1:6379:3 s1\n");
  EXPECT_EQ(keyOf(*before, "alpha", "s1"), keyOf(*after, "alpha", "s1"));
  EXPECT_EQ(keyOf(*before, "alpha", "s2"), keyOf(*after, "alpha", "s2"));
  EXPECT_EQ(keyOf(*before, "beta", "127.0.0.1:6381"), keyOf(*after, "beta", "127.0.0.1:6381"));
}

TEST(ConnectionKey, ChangesWithAddressAuthDbAndConnectionCount) {
  auto before = build(kBase);
  const ConnectionKey original = keyOf(*before, "alpha", "s1");
  const std::vector<std::string> variants = {
      // another address behind the same name
      "alpha:\n  listen: 127.0.0.1:22121\n  servers:\n    - 127.0.0.1:6399:1 s1\n",
      "alpha:\n  listen: 127.0.0.1:22121\n  redis_auth: secret\n  servers:\n"
      "    - 127.0.0.1:6379:1 s1\n",
      "alpha:\n  listen: 127.0.0.1:22121\n  redis_db: 3\n  servers:\n    - 127.0.0.1:6379:1 s1\n",
      "alpha:\n  listen: 127.0.0.1:22121\n  server_connections: 2\n  servers:\n"
      "    - 127.0.0.1:6379:1 s1\n",
      // the same server in another pool is another connection
      "delta:\n  listen: 127.0.0.1:22121\n  servers:\n    - 127.0.0.1:6379:1 s1\n",
  };
  for (const std::string& yaml : variants) {
    auto after = build(yaml);
    const std::string pool = after->pools()[0].config->name;
    ConnectionKey changed = keyOf(*after, pool, "s1");
    EXPECT_FALSE(changed == original) << yaml;
    EXPECT_TRUE(changed < original || original < changed) << yaml;
  }
  auto same = build("alpha:\n  listen: 127.0.0.1:22121\n  servers:\n    - 127.0.0.1:6379:1 s1\n");
  EXPECT_EQ(keyOf(*same, "alpha", "s1"), original);
}

}  // namespace
}  // namespace sy::topology
