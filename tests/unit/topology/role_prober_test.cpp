// How a role-probed group's view is assembled from one round's ROLE / INFO answers (one
// master, none, several), how sameState and describeChange treat competing masters and
// round-trip figures, and which groups a pool's configuration gives the prober.
#include "topology/role_prober.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"

namespace sy::topology {
namespace {

const NodeAddress kNodeA{"127.0.0.1", 7000};
const NodeAddress kNodeB{"127.0.0.1", 7001};
const NodeAddress kNodeC{"127.0.0.1", 7002};

NodeProbe answeredMaster(NodeAddress address, int64_t offset, int64_t rtt_usec) {
  NodeProbe probe{std::move(address), RoleReply{}, std::nullopt, rtt_usec};
  probe.role->kind = RoleReply::Kind::kMaster;
  probe.role->offset = offset;
  return probe;
}

NodeProbe answeredReplica(NodeAddress address, NodeAddress master, std::string link, int64_t offset,
                          int64_t rtt_usec) {
  NodeProbe probe{std::move(address), RoleReply{}, std::nullopt, rtt_usec};
  probe.role->kind = RoleReply::Kind::kReplica;
  probe.role->master = std::move(master);
  probe.role->link_state = std::move(link);
  probe.role->offset = offset;
  return probe;
}

NodeProbe silent(NodeAddress address) {
  return {std::move(address), std::nullopt, std::nullopt, -1};
}

const ReplicaView& replicaAt(const GroupView& view, const NodeAddress& address) {
  for (const ReplicaView& replica : view.replicas) {
    if (replica.address == address) return replica;
  }
  ADD_FAILURE() << "no replica " << address.toString();
  return view.replicas.front();
}

TEST(RoleProbedView, OneMasterIsConfirmed) {
  NodeProbe master = answeredMaster(kNodeB, 500, 120);
  master.info =
      InfoReplication{"master", 500, {{kNodeA, "online", 500, 0}, {kNodeC, "online", 400, 30}}, ""};
  std::vector<NodeProbe> nodes{answeredReplica(kNodeA, kNodeB, "connected", 480, 90), master,
                               answeredReplica(kNodeC, kNodeB, "connected", 400, 150)};
  GroupView view = assembleProbedView("g0", nodes, std::nullopt, 10);
  EXPECT_EQ(view.name, "g0");
  EXPECT_EQ(view.master, kNodeB);
  EXPECT_TRUE(view.master_confirmed);
  EXPECT_TRUE(view.claimed_masters.empty());
  EXPECT_FALSE(view.from_sentinel);
  EXPECT_TRUE(view.sentinels.empty());
  EXPECT_EQ(view.master_rtt_usec, 120);
  ASSERT_EQ(view.replicas.size(), 2u);
  EXPECT_EQ(view.replicas[0].address, kNodeA);  // sorted by address
  EXPECT_EQ(replicaAt(view, kNodeA).health, ReplicaHealth::kHealthy);
  EXPECT_EQ(replicaAt(view, kNodeA).lag_bytes, 20);
  EXPECT_EQ(replicaAt(view, kNodeA).rtt_usec, 90);
  EXPECT_EQ(replicaAt(view, kNodeC).health, ReplicaHealth::kLagging);
  EXPECT_EQ(replicaAt(view, kNodeC).rtt_usec, 150);
}

TEST(RoleProbedView, NoMasterKeepsTheLastOneUnconfirmed) {
  std::vector<NodeProbe> nodes{silent(kNodeA), answeredReplica(kNodeB, kNodeA, "connect", 0, 80),
                               answeredReplica(kNodeC, kNodeA, "connected", 0, 70)};
  GroupView view = assembleProbedView("g0", nodes, kNodeA, 10);
  EXPECT_EQ(view.master, kNodeA);
  EXPECT_FALSE(view.master_confirmed);
  EXPECT_TRUE(view.claimed_masters.empty());
  EXPECT_EQ(view.master_rtt_usec, -1);
  EXPECT_EQ(replicaAt(view, kNodeB).health, ReplicaHealth::kLinkDown);
  EXPECT_EQ(replicaAt(view, kNodeC).lag_bytes, -1);  // no master offset to compare with
  // Before any view, the first node in config order stands in.
  GroupView first = assembleProbedView("g0", {silent(kNodeC), silent(kNodeA)}, std::nullopt, 10);
  EXPECT_EQ(first.master, kNodeC);
  EXPECT_FALSE(first.master_confirmed);
  ASSERT_EQ(first.replicas.size(), 1u);
  EXPECT_EQ(first.replicas[0].health, ReplicaHealth::kUnreachable);
  EXPECT_EQ(first.replicas[0].rtt_usec, -1);
}

TEST(RoleProbedView, CompetingMastersAreListedAndUnconfirmed) {
  std::vector<NodeProbe> nodes{answeredMaster(kNodeC, 10, 50), answeredMaster(kNodeA, 900, 60),
                               answeredReplica(kNodeB, kNodeA, "connected", 900, 40)};
  GroupView view = assembleProbedView("g0", nodes, kNodeA, 10);
  EXPECT_EQ(view.master, kNodeA);
  EXPECT_FALSE(view.master_confirmed);
  EXPECT_EQ(view.master_rtt_usec, 60);
  EXPECT_EQ(view.claimed_masters, (std::vector<NodeAddress>{kNodeA, kNodeC}));
  EXPECT_EQ(replicaAt(view, kNodeC).health, ReplicaHealth::kNotReplica);
  EXPECT_EQ(view.healthyReplicas(), 1u);
  GroupView one_master = assembleProbedView(
      "g0", {nodes[1], nodes[2], answeredReplica(kNodeC, kNodeA, "connected", 900, 50)}, kNodeA,
      10);
  EXPECT_FALSE(sameState(view, one_master));
  one_master.generation = 2;
  view.generation = 1;
  EXPECT_EQ(describeChange(nullptr, view),
            "group 'g0' generation 1: master 127.0.0.1:7000 unconfirmed; 2 nodes claim master "
            "(127.0.0.1:7000, 127.0.0.1:7002): writes refused; replica 127.0.0.1:7001 healthy; "
            "replica 127.0.0.1:7002 not a replica");
  EXPECT_EQ(describeChange(&view, one_master),
            "group 'g0' generation 2: master 127.0.0.1:7000 confirmed (was 127.0.0.1:7000 "
            "unconfirmed); replica 127.0.0.1:7001 healthy; replica 127.0.0.1:7002 healthy (was "
            "not a replica)");
}

TEST(RoleProbedView, RoundTripsAreNotState) {
  std::vector<NodeProbe> nodes{answeredMaster(kNodeA, 10, 50),
                               answeredReplica(kNodeB, kNodeA, "connected", 10, 40)};
  GroupView a = assembleProbedView("g0", nodes, std::nullopt, 10);
  nodes[0].rtt_usec = 5000;
  nodes[1].rtt_usec = 7000;
  GroupView b = assembleProbedView("g0", nodes, std::nullopt, 10);
  EXPECT_TRUE(sameState(a, b));
  EXPECT_EQ(b.master_rtt_usec, 5000);
  EXPECT_EQ(b.replicas[0].rtt_usec, 7000);
}

TEST(RoleProbedView, NodeListedTwiceCountsOnce) {
  std::vector<NodeProbe> nodes{answeredMaster(kNodeA, 10, 50),
                               answeredReplica(kNodeB, kNodeA, "connected", 10, 40),
                               answeredReplica(kNodeB, kNodeA, "connected", 10, 40)};
  EXPECT_EQ(assembleProbedView("g0", nodes, std::nullopt, 10).replicas.size(), 1u);
}

config::Address tcp(std::string host, uint16_t port) {
  config::Address address;
  address.host = std::move(host);
  address.port = port;
  return address;
}

TEST(RoleProberOptions, FromPoolConfig) {
  config::PoolConfig pool;
  pool.redis_auth = "node-pw";
  pool.role_probe_interval_ms = 250;
  pool.replica_max_lag_s = 3;
  config::ServerConfig group;
  group.stats_name = "g0";
  group.address = tcp("10.0.0.11", 6379);
  group.group_nodes = {tcp("10.0.0.11", 6379), tcp("10.0.0.12", 6380)};
  pool.servers.push_back(group);
  config::ServerConfig plain;
  plain.stats_name = "10.0.0.21:6379";
  plain.address = tcp("10.0.0.21", 6379);
  pool.servers.push_back(plain);
  config::ServerConfig unix_socket;  // no address ROLE could be asked at: no group
  unix_socket.stats_name = "/tmp/redis.sock:";
  unix_socket.address.unix_path = "/tmp/redis.sock";
  pool.servers.push_back(unix_socket);

  RoleProberOptions options = roleProberOptionsFor(pool);
  ASSERT_EQ(options.groups.size(), 2u);
  EXPECT_EQ(options.groups[0].name, "g0");
  EXPECT_EQ(options.groups[0].nodes,
            (std::vector<NodeAddress>{{"10.0.0.11", 6379}, {"10.0.0.12", 6380}}));
  EXPECT_EQ(options.groups[1].name, "10.0.0.21:6379");
  EXPECT_EQ(options.groups[1].nodes, (std::vector<NodeAddress>{{"10.0.0.21", 6379}}));
  EXPECT_EQ(options.node_password, "node-pw");
  EXPECT_EQ(options.probe_interval, common::Millis(250));
  EXPECT_EQ(options.replica_max_lag_seconds, 3);
}

}  // namespace
}  // namespace sy::topology
