// withGroupViews: how a replication group's latest view becomes the snapshot the workers
// route by (master endpoint, write state, readable replicas), and the connection keys that
// decide which connections a failover keeps.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>

#include "build_topology.h"
#include "config/config.h"
#include "topology/topology.h"
#include "topology/topology_diff.h"

namespace sy::topology {
namespace {

std::shared_ptr<const Topology> build(std::string_view yaml) { return buildFromYaml(yaml); }

const std::string kSentinelPool =
    "alpha:\n"
    "  listen: 127.0.0.1:22121\n"
    "  sentinels: [127.0.0.1:26379]\n"
    "  read_from: replica\n"
    "  servers:\n"
    "    - 127.0.0.1:7001:1 g0\n"
    "    - 127.0.0.1:7101:1 g1\n";

NodeAddress node(uint16_t port) { return NodeAddress{"127.0.0.1", port}; }

ReplicaView replica(uint16_t port, ReplicaHealth health, int64_t rtt_usec = -1) {
  ReplicaView view;
  view.address = node(port);
  view.health = health;
  view.rtt_usec = rtt_usec;
  return view;
}

std::shared_ptr<const GroupView> confirmedView(uint16_t master) {
  auto view = std::make_shared<GroupView>();
  view->name = "g0";
  view->master = node(master);
  view->master_confirmed = true;
  view->master_rtt_usec = 80;
  view->replicas = {replica(7002, ReplicaHealth::kHealthy, 120),
                    replica(7003, ReplicaHealth::kLagging), replica(7004, ReplicaHealth::kHealthy)};
  return view;
}

TEST(GroupTopology, GroupsWaitForWritesUntilAViewConfirmsAMaster) {
  auto base = build(kSentinelPool);
  const ServerInfo& g0 = base->pools()[0].servers[0];
  EXPECT_TRUE(g0.is_group);
  EXPECT_EQ(g0.writes, WriteState::kWait);
  EXPECT_FALSE(g0.master_readable);
  EXPECT_TRUE(g0.replicas.empty());
  EXPECT_EQ(g0.address_text, "127.0.0.1:7001");  // the first guess
}

TEST(GroupTopology, PlainPoolsAreNotGroups) {
  auto base = build("alpha:\n  listen: 127.0.0.1:22121\n  servers:\n    - 127.0.0.1:7001:1\n");
  EXPECT_FALSE(base->pools()[0].servers[0].is_group);
  EXPECT_EQ(base->pools()[0].servers[0].writes, WriteState::kOpen);
}

TEST(GroupTopology, AConfirmedViewOpensWritesAndListsHealthyReplicas) {
  auto base = build(kSentinelPool);
  GroupViews views{{{"alpha", "g0"}, confirmedView(7001)}};
  auto running = withGroupViews(*base, views);
  const ServerInfo& g0 = running->pools()[0].servers[0];
  EXPECT_EQ(g0.writes, WriteState::kOpen);
  EXPECT_TRUE(g0.master_readable);
  EXPECT_EQ(g0.master_rtt_usec, 80);
  ASSERT_EQ(g0.replicas.size(), 2u);  // the lagging one reads nothing
  EXPECT_EQ(g0.replicas[0].address_text, "127.0.0.1:7002");
  EXPECT_EQ(g0.replicas[0].rtt_usec, 120);
  EXPECT_EQ(g0.replicas[1].address_text, "127.0.0.1:7004");
  // g1 has no view yet: still waiting.
  EXPECT_EQ(running->pools()[0].servers[1].writes, WriteState::kWait);
}

TEST(GroupTopology, AFailoverMovesTheMasterEndpointAndChangesItsConnectionKey) {
  auto base = build(kSentinelPool);
  auto before = withGroupViews(*base, {{{"alpha", "g0"}, confirmedView(7001)}});
  auto after = withGroupViews(*base, {{{"alpha", "g0"}, confirmedView(7002)}});
  const ServerInfo& old_g0 = before->pools()[0].servers[0];
  const ServerInfo& new_g0 = after->pools()[0].servers[0];
  EXPECT_EQ(new_g0.address_text, "127.0.0.1:7002");
  // Placement is by name: the key of every ring point is the group, not its master.
  EXPECT_EQ(before->pools()[0].serverForKey("some-key"),
            after->pools()[0].serverForKey("some-key"));
  EXPECT_FALSE(connectionKey(before->pools()[0], old_g0) ==
               connectionKey(after->pools()[0], new_g0));
  // A replica keeps its connections across views that keep it healthy.
  EXPECT_TRUE(replicaConnectionKey(before->pools()[0], old_g0, old_g0.replicas[1]) ==
              replicaConnectionKey(after->pools()[0], new_g0, new_g0.replicas[1]));
}

TEST(GroupTopology, FailoverUnderWayOrUnconfirmedMasterMakesWritesWait) {
  auto base = build(kSentinelPool);
  auto switching = std::make_shared<GroupView>(*confirmedView(7001));
  switching->failover_in_progress = true;
  EXPECT_EQ(withGroupViews(*base, {{{"alpha", "g0"}, switching}})->pools()[0].servers[0].writes,
            WriteState::kWait);
  auto unconfirmed = std::make_shared<GroupView>(*confirmedView(7001));
  unconfirmed->master_confirmed = false;
  auto running = withGroupViews(*base, {{{"alpha", "g0"}, unconfirmed}});
  const ServerInfo& g0 = running->pools()[0].servers[0];
  EXPECT_EQ(g0.writes, WriteState::kWait);
  EXPECT_FALSE(g0.master_readable);
}

TEST(GroupTopology, TwoClaimedMastersRefuseWrites) {
  auto base = build(
      "alpha:\n  listen: 127.0.0.1:22121\n  servers:\n    - 127.0.0.1:7001:1 g0\n"
      "    - 127.0.0.1:7002:1 g0\n");
  ASSERT_TRUE(base->pools()[0].servers[0].is_group);
  auto view = std::make_shared<GroupView>();
  view->name = "g0";
  view->master = node(7001);
  view->claimed_masters = {node(7001), node(7002)};
  auto running = withGroupViews(*base, {{{"alpha", "g0"}, view}});
  const ServerInfo& g0 = running->pools()[0].servers[0];
  EXPECT_EQ(g0.writes, WriteState::kRefused);
  EXPECT_NE(g0.write_refusal.find("2 nodes claim master (127.0.0.1:7001, 127.0.0.1:7002)"),
            std::string::npos)
      << g0.write_refusal;
  EXPECT_TRUE(g0.write_refusal.starts_with("ERR switchyard: group 'g0' of pool 'alpha'"))
      << g0.write_refusal;
}

}  // namespace
}  // namespace sy::topology
