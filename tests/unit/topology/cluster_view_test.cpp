// ClusterView: shards -> slot table, one replication group per shard, and the snapshot a
// cluster pool serves from it.
#include "topology/cluster_view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "build_topology.h"
#include "cluster_test_shards.h"
#include "topology/topology.h"

namespace sy::topology {
namespace {

using ::testing::HasSubstr;

TEST(ClusterView, ShardsAreOrderedBySlotAndNamedByTheirFirstSlot) {
  auto view = assembleClusterView(threeShards());
  ASSERT_TRUE(view.ok()) << view.error().message;
  ASSERT_EQ(view->groups.size(), 3u);
  EXPECT_EQ(view->groups[0]->name, "slots-0");
  EXPECT_EQ(view->groups[1]->name, "slots-5461");
  EXPECT_EQ(view->groups[2]->name, "slots-10923");
  EXPECT_EQ(view->slots->owner[0], 0);
  EXPECT_EQ(view->slots->owner[5461], 1);
  EXPECT_EQ(view->slots->owner[16383], 2);
  EXPECT_EQ(view->shards[1].master()->address.port, 7001);
  EXPECT_THAT(view->slot_counts, ::testing::ElementsAre(5461u, 5462u, 5461u));
  EXPECT_EQ(view->slots_served, 16384u);
}

TEST(ClusterView, EachShardIsAGroupWithItsMasterAndReplicas) {
  std::vector<ClusterShard> shards = threeShards();
  shards[1].nodes[0].health = ClusterNodeHealth::kFailed;  // slots-0's master
  shards[2].nodes.push_back(clusterNode(7006, false, ClusterNodeHealth::kLoading, 40));
  auto view = assembleClusterView(std::move(shards));
  ASSERT_TRUE(view.ok());
  const GroupView& failed = *view->groups[0];
  EXPECT_EQ(failed.master->port, 7000);
  EXPECT_FALSE(failed.master_confirmed);  // writes wait for the replica to take over
  const GroupView& two_replicas = *view->groups[1];
  EXPECT_TRUE(two_replicas.master_confirmed);
  ASSERT_EQ(two_replicas.replicas.size(), 2u);
  EXPECT_TRUE(two_replicas.replicas[0].healthy());
  EXPECT_EQ(two_replicas.replicas[0].lag_bytes, 0);
  EXPECT_EQ(two_replicas.replicas[1].health, ReplicaHealth::kFlaggedDown);
  EXPECT_EQ(two_replicas.replicas[1].lag_bytes, 60);
}

TEST(ClusterView, AReplicaWhoseMasterReportsAnOldAckIsLagging) {
  MasterReplication replication;
  InfoReplication slots0;  // slots-0's master, 7000: its replica 7003 acked 12 s ago
  slots0.role = "master";
  slots0.replicas.push_back({{"127.0.0.1", 7003}, "online", 90, 12});
  replication[{"127.0.0.1", 7000}] = slots0;
  InfoReplication slots5461;  // 7001: its replica 7004 acked 1 s ago
  slots5461.role = "master";
  slots5461.replicas.push_back({{"127.0.0.1", 7004}, "online", 100, 1});
  replication[{"127.0.0.1", 7001}] = slots5461;
  auto view = assembleClusterView(threeShards(), replication, 10);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->groups[0]->replicas[0].health, ReplicaHealth::kLagging);
  EXPECT_EQ(view->groups[0]->replicas[0].lag_seconds, 12);
  EXPECT_TRUE(view->groups[1]->replicas[0].healthy());
  EXPECT_EQ(view->groups[1]->replicas[0].lag_seconds, 1);
  EXPECT_TRUE(view->groups[2]->replicas[0].healthy());  // its master did not say: unknown
  EXPECT_EQ(view->groups[2]->replicas[0].lag_seconds, -1);
  auto unlimited = assembleClusterView(threeShards(), replication, -1);
  ASSERT_TRUE(unlimited.ok());
  EXPECT_TRUE(unlimited->groups[0]->replicas[0].healthy());
  EXPECT_FALSE(sameClusterState(*view, *unlimited));  // lagging changes where reads go
}

TEST(ClusterView, AFailedMasterWithoutSlotsIsLeftOutAndAnEmptyMasterKept) {
  std::vector<ClusterShard> shards = threeShards();
  ClusterShard dead;
  dead.nodes.push_back(clusterNode(7009, true, ClusterNodeHealth::kFailed));
  shards.push_back(dead);
  ClusterShard empty;  // a new master that will import slots
  empty.nodes.push_back(clusterNode(7010, true));
  shards.insert(shards.begin(), empty);
  auto view = assembleClusterView(std::move(shards));
  ASSERT_TRUE(view.ok());
  ASSERT_EQ(view->groups.size(), 4u);
  EXPECT_EQ(view->groups[3]->name, "node-127.0.0.1:7010");
  EXPECT_EQ(view->slots->owner[0], 0);
  EXPECT_EQ(view->slot_counts[3], 0u);  // the empty master serves nothing yet
}

TEST(ClusterView, OverlappingShardsAreRefused) {
  std::vector<ClusterShard> shards = threeShards();
  shards.push_back(clusterShard({{100, 200}}, 7011));
  auto view = assembleClusterView(std::move(shards));
  ASSERT_FALSE(view.ok());
}

TEST(ClusterView, SameStateIgnoresCountersButNotSlotsOrMasters) {
  auto a = assembleClusterView(threeShards());
  auto b = assembleClusterView(threeShards());
  ASSERT_TRUE(a.ok() && b.ok());
  b->refreshes = 7;
  b->refresh_usec = 900;
  EXPECT_TRUE(sameClusterState(*a, *b));
  std::vector<ClusterShard> moved = threeShards();
  moved[1].slots = {{0, 5459}};
  moved[2].slots = {{5460, 10922}};
  auto c = assembleClusterView(std::move(moved));
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(sameClusterState(*a, *c));
  std::vector<ClusterShard> failed_over = threeShards();
  std::swap(failed_over[1].nodes[0].master, failed_over[1].nodes[1].master);
  std::swap(failed_over[1].nodes[0], failed_over[1].nodes[1]);
  auto d = assembleClusterView(std::move(failed_over));
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(sameClusterState(*a, *d));
  d->generation = 2;
  EXPECT_THAT(describeClusterChange("alpha", &*a, *d),
              HasSubstr("cluster of pool 'alpha' generation 2: 3 shards, 16384 slots served"));
  EXPECT_THAT(describeClusterChange("alpha", &*a, *d), HasSubstr("127.0.0.1:7003"));
}

TEST(ClusterView, APoolServesTheShardsOfItsView) {
  auto base = buildFromYaml(
      "alpha:\n  listen: 127.0.0.1:22121\n  cluster: true\n  servers:\n"
      "    - 127.0.0.1:7000:1\n");
  ASSERT_TRUE(base);
  // Before the cluster answers: the seed, a plain server the first requests go to.
  EXPECT_EQ(base->pools()[0].servers.size(), 1u);
  EXPECT_FALSE(base->pools()[0].servers[0].is_group);
  EXPECT_EQ(base->pools()[0].serverForSlot(9000), 0u);
  auto view = assembleClusterView(threeShards());
  ASSERT_TRUE(view.ok());
  ClusterViews views{{"alpha", std::make_shared<const ClusterView>(std::move(*view))}};
  auto served = withClusterViews(*base, views);
  const PoolTopology& pool = served->pools()[0];
  ASSERT_EQ(pool.servers.size(), 3u);
  EXPECT_EQ(pool.servers[1].stats_name, "slots-5461");
  EXPECT_EQ(pool.servers[1].address_text, "127.0.0.1:7001");
  EXPECT_TRUE(pool.servers[1].is_group);
  EXPECT_EQ(pool.servers[1].writes, WriteState::kOpen);
  ASSERT_EQ(pool.servers[1].replicas.size(), 1u);
  EXPECT_EQ(pool.servers[1].replicas[0].address_text, "127.0.0.1:7004");
  EXPECT_EQ(pool.serverForSlot(5461), 1u);
  EXPECT_EQ(pool.serverForKey("{user1000}.following"), pool.serverForKey("user1000"));
  EXPECT_EQ(pool.serverForKey("foo"), 2u);  // slot 12182
}

}  // namespace
}  // namespace sy::topology
