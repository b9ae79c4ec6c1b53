// Judging replicas from Sentinel's flags and ROLE / INFO answers, deciding when a group's
// view has changed, the one log line that describes the change, and the watcher's options
// taken from a pool's configuration.
#include "topology/sentinel_view.h"

#include <gtest/gtest.h>

#include <string>

#include "topology/sentinel_watcher.h"

namespace sy::topology {
namespace {

const NodeAddress kMaster{"127.0.0.1", 7000};
const NodeAddress kReplica{"127.0.0.1", 7001};

RoleReply replicaRole(NodeAddress master, std::string link, int64_t offset = 100) {
  RoleReply role;
  role.kind = RoleReply::Kind::kReplica;
  role.master = std::move(master);
  role.link_state = std::move(link);
  role.offset = offset;
  return role;
}

RoleReply masterRole(int64_t offset) {
  RoleReply role;
  role.kind = RoleReply::Kind::kMaster;
  role.offset = offset;
  return role;
}

ReplicaView judge(const SentinelInstance* sentinel, const RoleReply* role,
                  const InfoReplication* info = nullptr, int64_t max_lag = 10) {
  RoleReply master = masterRole(150);
  return assessReplica(kReplica, sentinel, role, role != nullptr, kMaster, &master, info, max_lag);
}

TEST(SentinelView, HealthyReplicaWithLag) {
  RoleReply role = replicaRole(kMaster, "connected", 100);
  InfoReplication info;
  info.role = "master";
  info.replicas.push_back({kReplica, "online", 100, 1});
  ReplicaView view = judge(nullptr, &role, &info);
  EXPECT_EQ(view.health, ReplicaHealth::kHealthy);
  EXPECT_TRUE(view.link_up);
  EXPECT_EQ(view.lag_bytes, 50);
  EXPECT_EQ(view.lag_seconds, 1);
}

TEST(SentinelView, UnhealthyReplicas) {
  SentinelInstance flagged;
  flagged.address = kReplica;
  flagged.flags = "s_down,slave";
  RoleReply fine = replicaRole(kMaster, "connected");
  EXPECT_EQ(judge(&flagged, &fine).health, ReplicaHealth::kFlaggedDown);
  EXPECT_EQ(judge(&flagged, &fine).sentinel_flags, "s_down,slave");
  EXPECT_EQ(judge(nullptr, nullptr).health, ReplicaHealth::kUnreachable);
  RoleReply syncing = replicaRole(kMaster, "sync");
  EXPECT_EQ(judge(nullptr, &syncing).health, ReplicaHealth::kLinkDown);
  RoleReply elsewhere = replicaRole({"127.0.0.1", 7005}, "connected");
  EXPECT_EQ(judge(nullptr, &elsewhere).health, ReplicaHealth::kNotFollowing);
  RoleReply other_ip = replicaRole({"10.0.0.9", 7000}, "connected");
  EXPECT_EQ(judge(nullptr, &other_ip).health, ReplicaHealth::kNotFollowing);
  RoleReply by_name = replicaRole({"redis-a.internal", 7000}, "connected");
  EXPECT_EQ(judge(nullptr, &by_name).health, ReplicaHealth::kHealthy);  // cannot compare names
  RoleReply promoted = masterRole(0);
  EXPECT_EQ(judge(nullptr, &promoted).health, ReplicaHealth::kNotReplica);
  InfoReplication info;
  info.role = "master";
  info.replicas.push_back({kReplica, "online", 0, 30});
  EXPECT_EQ(judge(nullptr, &fine, &info).health, ReplicaHealth::kLagging);
  EXPECT_EQ(judge(nullptr, &fine, &info, -1).health, ReplicaHealth::kHealthy);  // lag ignored
}

GroupView sample() {
  GroupView view;
  view.name = "g0";
  view.generation = 1;
  view.master = kMaster;
  view.master_confirmed = true;
  view.from_sentinel = true;
  ReplicaView replica;
  replica.address = kReplica;
  replica.health = ReplicaHealth::kHealthy;
  replica.link_up = true;
  replica.lag_bytes = 10;
  view.replicas.push_back(replica);
  view.sentinels.push_back({{"127.0.0.1", 26379}, true, 0});
  view.sentinels.push_back({{"127.0.0.1", 26380}, true, 0});
  return view;
}

TEST(SentinelView, SameStateIgnoresGenerationLagAndCounters) {
  GroupView a = sample();
  GroupView b = sample();
  b.generation = 7;
  b.replicas[0].lag_bytes = 999;
  b.replicas[0].lag_seconds = 3;
  b.sentinels[0].failures = 4;
  EXPECT_TRUE(sameState(a, b));
  b.master_confirmed = false;
  EXPECT_FALSE(sameState(a, b));
  b = sample();
  b.master = kReplica;
  EXPECT_FALSE(sameState(a, b));
  b = sample();
  b.replicas[0].health = ReplicaHealth::kLinkDown;
  EXPECT_FALSE(sameState(a, b));
  b = sample();
  b.sentinels[1].reachable = false;
  EXPECT_FALSE(sameState(a, b));
  b = sample();
  b.from_sentinel = false;
  EXPECT_FALSE(sameState(a, b));
  b = sample();
  b.replicas.clear();
  EXPECT_FALSE(sameState(a, b));
}

TEST(SentinelView, DescribeFirstViewAndFailover) {
  GroupView first = sample();
  EXPECT_EQ(describeChange(nullptr, first),
            "group 'g0' generation 1: master 127.0.0.1:7000 confirmed; replica 127.0.0.1:7001 "
            "healthy; Sentinels 2/2 reachable");
  GroupView after;
  after.name = "g0";
  after.generation = 2;
  after.master = kReplica;
  after.master_confirmed = true;
  after.from_sentinel = true;
  ReplicaView old_master;
  old_master.address = kMaster;
  old_master.health = ReplicaHealth::kFlaggedDown;
  after.replicas.push_back(old_master);
  after.sentinels = first.sentinels;
  after.sentinels[1].reachable = false;
  EXPECT_EQ(describeChange(&first, after),
            "group 'g0' generation 2: master 127.0.0.1:7001 confirmed (was 127.0.0.1:7000 "
            "confirmed); replica 127.0.0.1:7000 down according to Sentinel (new); replica "
            "127.0.0.1:7001 gone; Sentinels 1/2 reachable, 127.0.0.1:26380 unreachable");
}

TEST(SentinelView, DescribeLastKnownState) {
  GroupView before = sample();
  GroupView after = sample();
  after.generation = 2;
  after.from_sentinel = false;
  after.master_confirmed = false;
  for (SentinelView& sentinel : after.sentinels) sentinel.reachable = false;
  EXPECT_EQ(describeChange(&before, after),
            "group 'g0' generation 2: master 127.0.0.1:7000 unconfirmed (was 127.0.0.1:7000 "
            "confirmed); replica 127.0.0.1:7001 healthy; Sentinels 0/2 reachable, "
            "127.0.0.1:26379 unreachable, 127.0.0.1:26380 unreachable; no Sentinel answered, "
            "keeping the last known state");
  EXPECT_EQ(after.healthyReplicas(), 1u);
  EXPECT_EQ(after.reachableSentinels(), 0u);
}

}  // namespace
}  // namespace sy::topology

namespace sy::topology {
namespace {

TEST(SentinelWatcherOptions, FromPoolConfig) {
  config::PoolConfig pool;
  pool.redis_auth = "node-pw";
  pool.sentinel_auth_user = "watcher";
  pool.sentinel_auth_password = "pw";
  pool.replica_max_lag_s = 3;
  config::Address sentinel;
  sentinel.host = "10.0.0.1";
  sentinel.port = 26379;
  pool.sentinels.push_back(sentinel);
  config::ServerConfig server;
  server.name = "shard0";
  server.address.host = "10.0.0.11";
  server.address.port = 6379;
  pool.servers.push_back(server);
  SentinelWatcherOptions options = sentinelWatcherOptionsFor(pool);
  ASSERT_EQ(options.sentinels.size(), 1u);
  EXPECT_EQ(options.sentinels[0].toString(), "10.0.0.1:26379");
  ASSERT_EQ(options.groups.size(), 1u);
  EXPECT_EQ(options.groups[0].name, "shard0");
  ASSERT_TRUE(options.groups[0].guess.has_value());
  EXPECT_EQ(options.groups[0].guess->toString(), "10.0.0.11:6379");
  EXPECT_EQ(options.sentinel_user, "watcher");
  EXPECT_EQ(options.sentinel_password, "pw");
  EXPECT_EQ(options.node_password, "node-pw");
  EXPECT_EQ(options.replica_max_lag_seconds, 3);
}

}  // namespace
}  // namespace sy::topology
