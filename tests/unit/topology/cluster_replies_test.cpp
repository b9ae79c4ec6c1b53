// Parsing what a Redis 7.0 cluster node answers about the cluster's layout: CLUSTER SHARDS and
// CLUSTER SLOTS (byte layouts as redis-server 7.0 sends them, from a 3-master/3-replica cluster
// after 10 slots moved from the third master to the first and the first master's replica
// failed), the slot table built from them, and malformed input.
#include "topology/cluster_replies.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sy::topology {
namespace {

// CLUSTER SHARDS: 127.0.0.1:30101 serves 0-5460 and 10923-10932, its replica 30106 has failed.
constexpr std::string_view kShards =
    "*3\r\n*4\r\n$5\r\nslots\r\n*4\r\n:0\r\n:5460\r\n:10923\r\n:10932\r\n$5\r\nnodes\r\n"
    "*2\r\n*14\r\n$2\r\nid\r\n$40\r\ne8d898630378487469535ff864781dfd147187fb\r\n$4\r\n"
    "port\r\n:30101\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n"
    "$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\nreplication-offset\r\n:28\r\n$6\r\nhealth\r\n$6\r\n"
    "online\r\n*14\r\n$2\r\nid\r\n$40\r\n11a809ec63f58f9b1c64d77a2fa4ccbad4f0d1ca\r\n$4\r\n"
    "port\r\n:30106\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n"
    "$4\r\nrole\r\n$7\r\nreplica\r\n$18\r\nreplication-offset\r\n:28\r\n$6\r\nhealth\r\n"
    "$4\r\nfail\r\n*4\r\n$5\r\nslots\r\n*2\r\n:5461\r\n:10922\r\n$5\r\nnodes\r\n"
    "*2\r\n*14\r\n$2\r\nid\r\n$40\r\nb2c42fc687960ebe86c3e1b6a1feb6291875b6f2\r\n$4\r\n"
    "port\r\n:30102\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n"
    "$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\nreplication-offset\r\n:70\r\n$6\r\nhealth\r\n$6\r\n"
    "online\r\n*14\r\n$2\r\nid\r\n$40\r\nb67c8b97893b1592e640111308be80ee3de0577f\r\n$4\r\n"
    "port\r\n:30104\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n"
    "$4\r\nrole\r\n$7\r\nreplica\r\n$18\r\nreplication-offset\r\n:70\r\n$6\r\nhealth\r\n"
    "$6\r\nonline\r\n*4\r\n$5\r\nslots\r\n*2\r\n:10933\r\n:16383\r\n$5\r\nnodes\r\n"
    "*2\r\n*14\r\n$2\r\nid\r\n$40\r\n6c975321ed5cc93971440c806450041c0864d7ab\r\n$4\r\n"
    "port\r\n:30103\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n"
    "$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\nreplication-offset\r\n:70\r\n$6\r\nhealth\r\n$6\r\n"
    "online\r\n*14\r\n$2\r\nid\r\n$40\r\n647845d88a76770f1040728399f24df589ba24d9\r\n$4\r\n"
    "port\r\n:30105\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n"
    "$4\r\nrole\r\n$7\r\nreplica\r\n$18\r\nreplication-offset\r\n:70\r\n$6\r\nhealth\r\n"
    "$6\r\nonline\r\n";

// CLUSTER SLOTS of the same cluster before the replica failed: 30101's two ranges are two entries.
constexpr std::string_view kSlots =
    "*4\r\n*4\r\n:0\r\n:5460\r\n*4\r\n$9\r\n127.0.0.1\r\n:30101\r\n$40\r\n"
    "e8d898630378487469535ff864781dfd147187fb\r\n"
    "*0\r\n*4\r\n$9\r\n127.0.0.1\r\n:30106\r\n$40\r\n"
    "11a809ec63f58f9b1c64d77a2fa4ccbad4f0d1ca\r\n"
    "*0\r\n*4\r\n:5461\r\n:10922\r\n*4\r\n$9\r\n127.0.0.1\r\n:30102\r\n$40\r\n"
    "b2c42fc687960ebe86c3e1b6a1feb6291875b6f2\r\n"
    "*0\r\n*4\r\n$9\r\n127.0.0.1\r\n:30104\r\n$40\r\n"
    "b67c8b97893b1592e640111308be80ee3de0577f\r\n"
    "*0\r\n*4\r\n:10923\r\n:10932\r\n*4\r\n$9\r\n127.0.0.1\r\n:30101\r\n$40\r\n"
    "e8d898630378487469535ff864781dfd147187fb\r\n"
    "*0\r\n*4\r\n$9\r\n127.0.0.1\r\n:30106\r\n$40\r\n"
    "11a809ec63f58f9b1c64d77a2fa4ccbad4f0d1ca\r\n"
    "*0\r\n*4\r\n:10933\r\n:16383\r\n*4\r\n$9\r\n127.0.0.1\r\n:30103\r\n$40\r\n"
    "6c975321ed5cc93971440c806450041c0864d7ab\r\n"
    "*0\r\n*4\r\n$9\r\n127.0.0.1\r\n:30105\r\n$40\r\n"
    "647845d88a76770f1040728399f24df589ba24d9\r\n"
    "*0\r\n";

// CLUSTER SLOTS after the replica 30106 failed: its entries list no replica.
constexpr std::string_view kSlotsReplicaFailed =
    "*4\r\n*3\r\n:0\r\n:5460\r\n*4\r\n$9\r\n127.0.0.1\r\n:30101\r\n$40\r\n"
    "e8d898630378487469535ff864781dfd147187fb\r\n"
    "*0\r\n*4\r\n:5461\r\n:10922\r\n*4\r\n$9\r\n127.0.0.1\r\n:30102\r\n$40\r\n"
    "b2c42fc687960ebe86c3e1b6a1feb6291875b6f2\r\n"
    "*0\r\n*4\r\n$9\r\n127.0.0.1\r\n:30104\r\n$40\r\n"
    "b67c8b97893b1592e640111308be80ee3de0577f\r\n"
    "*0\r\n*3\r\n:10923\r\n:10932\r\n*4\r\n$9\r\n127.0.0.1\r\n:30101\r\n$40\r\n"
    "e8d898630378487469535ff864781dfd147187fb\r\n"
    "*0\r\n*4\r\n:10933\r\n:16383\r\n*4\r\n$9\r\n127.0.0.1\r\n:30103\r\n$40\r\n"
    "6c975321ed5cc93971440c806450041c0864d7ab\r\n"
    "*0\r\n*4\r\n$9\r\n127.0.0.1\r\n:30105\r\n$40\r\n"
    "647845d88a76770f1040728399f24df589ba24d9\r\n"
    "*0\r\n";

std::string bulk(const std::string& text) {
  return "$" + std::to_string(text.size()) + "\r\n" + text + "\r\n";
}

std::string integer(int64_t value) { return ":" + std::to_string(value) + "\r\n"; }

std::string array(const std::vector<std::string>& items) {
  std::string out = "*" + std::to_string(items.size()) + "\r\n";
  for (const std::string& item : items) out += item;
  return out;
}

// A CLUSTER SHARDS node entry with the given port (integer) and role.
std::string shardNode(const std::string& port, const std::string& role) {
  return array({bulk("id"), bulk("e8d898630378487469535ff864781dfd147187fb"), bulk("port"), port,
                bulk("ip"), bulk("127.0.0.1"), bulk("role"), bulk(role)});
}

std::string shard(const std::string& slots, const std::vector<std::string>& nodes) {
  return array({array({bulk("slots"), slots, bulk("nodes"), array(nodes)})});
}

// A CLUSTER SLOTS range entry: [first, last, [ip, port, id]...].
std::string slotsEntry(int64_t first, int64_t last, const std::vector<int64_t>& ports) {
  std::vector<std::string> items = {integer(first), integer(last)};
  for (int64_t port : ports) {
    items.push_back(array({bulk("127.0.0.1"), integer(port), bulk("id" + std::to_string(port))}));
  }
  return array(items);
}

TEST(ClusterReplies, ShardsFromRedis70) {
  auto shards = parseClusterShards(kShards);
  ASSERT_TRUE(shards.ok()) << shards.error().message;
  ASSERT_EQ(shards->size(), 3u);
  const ClusterShard& first = (*shards)[0];
  EXPECT_EQ(first.slots, (std::vector<SlotRange>{{0, 5460}, {10923, 10932}}));
  ASSERT_EQ(first.nodes.size(), 2u);
  ASSERT_NE(first.master(), nullptr);
  EXPECT_EQ(first.master(), &first.nodes[0]);
  EXPECT_EQ(first.master()->id, "e8d898630378487469535ff864781dfd147187fb");
  EXPECT_EQ(first.master()->address.toString(), "127.0.0.1:30101");
  EXPECT_EQ(first.master()->health, ClusterNodeHealth::kOnline);
  EXPECT_EQ(first.master()->replication_offset, 28);
  const ClusterNode& failed = first.nodes[1];
  EXPECT_FALSE(failed.master);
  EXPECT_EQ(failed.id, "11a809ec63f58f9b1c64d77a2fa4ccbad4f0d1ca");
  EXPECT_EQ(failed.address.toString(), "127.0.0.1:30106");
  EXPECT_EQ(failed.health, ClusterNodeHealth::kFailed);
  EXPECT_EQ((*shards)[1].slots, (std::vector<SlotRange>{{5461, 10922}}));
  EXPECT_EQ((*shards)[1].nodes[1].address.toString(), "127.0.0.1:30104");
  EXPECT_EQ((*shards)[1].nodes[1].health, ClusterNodeHealth::kOnline);
  EXPECT_EQ((*shards)[2].slots, (std::vector<SlotRange>{{10933, 16383}}));
  EXPECT_EQ((*shards)[2].master()->address.toString(), "127.0.0.1:30103");
  EXPECT_EQ((*shards)[2].nodes[1].replication_offset, 70);
}

TEST(ClusterReplies, ShardsFieldsAndOrder) {
  // A replica listed before its master, unsorted replicas, ranges out of order, a loading node, a
  // health state not known here, port as a bulk string, optional and unknown fields, and an
  // endpoint standing in for the ip.
  std::string replica_b = array({bulk("port"), bulk("7002"), bulk("ip"), bulk("10.0.0.2"),
                                 bulk("role"), bulk("replica"), bulk("health"), bulk("loading")});
  std::string replica_a =
      array({bulk("port"), integer(7001), bulk("tls-port"), integer(17001), bulk("hostname"),
             bulk("a.example"), bulk("ip"), bulk(""), bulk("endpoint"), bulk("a.example"),
             bulk("future-field"), array({integer(1)}), bulk("role"), bulk("replica"),
             bulk("health"), bulk("some-future-state")});
  std::string master = shardNode(integer(7000), "master");
  auto shards = parseClusterShards(shard(
      array({integer(100), integer(199), integer(0), integer(9)}), {replica_b, master, replica_a}));
  ASSERT_TRUE(shards.ok()) << shards.error().message;
  const ClusterShard& only = (*shards)[0];
  EXPECT_EQ(only.slots, (std::vector<SlotRange>{{0, 9}, {100, 199}}));
  ASSERT_EQ(only.nodes.size(), 3u);
  EXPECT_EQ(only.nodes[0].address.toString(), "127.0.0.1:7000");
  EXPECT_EQ(only.nodes[0].health, ClusterNodeHealth::kOnline);
  EXPECT_EQ(only.nodes[1].address.toString(), "10.0.0.2:7002");
  EXPECT_EQ(only.nodes[1].health, ClusterNodeHealth::kLoading);
  EXPECT_EQ(only.nodes[1].replication_offset, -1);
  EXPECT_EQ(only.nodes[2].address.toString(), "a.example:7001");
  EXPECT_EQ(only.nodes[2].id, "");
  EXPECT_EQ(only.nodes[2].health, ClusterNodeHealth::kFailed);
}

TEST(ClusterReplies, ShardWithoutSlotsOrMaster) {
  auto empty = parseClusterShards(shard(array({}), {shardNode(integer(7000), "master")}));
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  ASSERT_EQ(empty->size(), 1u);
  EXPECT_TRUE((*empty)[0].slots.empty());
  EXPECT_NE((*empty)[0].master(), nullptr);

  auto orphan = parseClusterShards(shard(array({}), {shardNode(integer(7001), "replica")}));
  ASSERT_TRUE(orphan.ok()) << orphan.error().message;
  EXPECT_EQ((*orphan)[0].master(), nullptr);

  auto none = parseClusterShards("*0\r\n");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(ClusterReplies, ShardsMalformed) {
  auto refused = parseClusterShards("-ERR This instance has cluster support disabled\r\n");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message,
            "CLUSTER SHARDS: ERR This instance has cluster support disabled");
  for (size_t length = 0; length < kShards.size(); ++length) {
    EXPECT_FALSE(parseClusterShards(kShards.substr(0, length)).ok()) << length;
  }
  std::string master = shardNode(integer(7000), "master");
  std::string good_slots = array({integer(0), integer(1)});
  EXPECT_FALSE(parseClusterShards(":1\r\n").ok());
  EXPECT_FALSE(parseClusterShards(array({bulk("slots")})).ok());
  EXPECT_FALSE(parseClusterShards(array({array({bulk("slots"), good_slots, bulk("nodes")})})).ok());
  EXPECT_FALSE(parseClusterShards(shard(array({integer(0)}), {master})).ok());
  EXPECT_FALSE(parseClusterShards(shard(array({bulk("x"), integer(1)}), {master})).ok());
  EXPECT_FALSE(parseClusterShards(shard(good_slots, {})).ok());
  EXPECT_FALSE(parseClusterShards(shard(good_slots, {bulk("node")})).ok());
  EXPECT_FALSE(parseClusterShards(shard(good_slots, {shardNode(bulk("x"), "master")})).ok());
  EXPECT_FALSE(parseClusterShards(shard(good_slots, {array({integer(1), integer(2)})})).ok());
  EXPECT_FALSE(parseClusterShards(shard(good_slots, {array({bulk("port")})})).ok());
  std::string no_port = array({bulk("ip"), bulk("127.0.0.1"), bulk("role"), bulk("master")});
  EXPECT_FALSE(parseClusterShards(shard(good_slots, {no_port})).ok());
  std::string unknown_endpoint =
      array({bulk("port"), integer(7000), bulk("ip"), bulk(""), bulk("endpoint"), bulk("?")});
  EXPECT_FALSE(parseClusterShards(shard(good_slots, {unknown_endpoint})).ok());
}

// A lone node does not know its own address yet: it reports an empty ip and endpoint.
TEST(ClusterReplies, ALoneNodeReportsAnEmptyHost) {
  std::string itself = array({bulk("port"), integer(7000), bulk("ip"), bulk(""), bulk("endpoint"),
                              bulk(""), bulk("role"), bulk("master")});
  auto shards = parseClusterShards(shard(array({integer(0), integer(16383)}), {itself}));
  ASSERT_TRUE(shards.ok()) << shards.error().message;
  EXPECT_EQ((*shards)[0].master()->address.host, "");
  EXPECT_EQ((*shards)[0].master()->address.port, 7000);
}

TEST(ClusterReplies, ShardsOutOfRange) {
  std::string master = shardNode(integer(7000), "master");
  auto port_zero = parseClusterShards(shard(array({}), {shardNode(integer(0), "master")}));
  ASSERT_FALSE(port_zero.ok());
  EXPECT_EQ(port_zero.error().message, "CLUSTER SHARDS: invalid address '127.0.0.1:0'");
  EXPECT_FALSE(parseClusterShards(shard(array({}), {shardNode(integer(65536), "master")})).ok());
  EXPECT_FALSE(parseClusterShards(shard(array({}), {shardNode(integer(-1), "master")})).ok());
  auto past_end = parseClusterShards(shard(array({integer(0), integer(16384)}), {master}));
  ASSERT_FALSE(past_end.ok());
  EXPECT_EQ(past_end.error().message, "CLUSTER SHARDS: invalid slot range 0-16384");
  EXPECT_FALSE(parseClusterShards(shard(array({integer(-1), integer(5)}), {master})).ok());
  EXPECT_FALSE(parseClusterShards(shard(array({integer(9), integer(5)}), {master})).ok());
}

TEST(ClusterReplies, SlotsFromRedis70MergedByMaster) {
  auto shards = parseClusterSlots(kSlots);
  ASSERT_TRUE(shards.ok()) << shards.error().message;
  ASSERT_EQ(shards->size(), 3u);
  const ClusterShard& first = (*shards)[0];
  EXPECT_EQ(first.slots, (std::vector<SlotRange>{{0, 5460}, {10923, 10932}}));
  ASSERT_EQ(first.nodes.size(), 2u);
  EXPECT_EQ(first.master()->address.toString(), "127.0.0.1:30101");
  EXPECT_EQ(first.master()->id, "e8d898630378487469535ff864781dfd147187fb");
  EXPECT_EQ(first.master()->replication_offset, -1);
  EXPECT_FALSE(first.nodes[1].master);
  EXPECT_EQ(first.nodes[1].address.toString(), "127.0.0.1:30106");
  EXPECT_EQ(first.nodes[1].id, "11a809ec63f58f9b1c64d77a2fa4ccbad4f0d1ca");
  EXPECT_EQ(first.nodes[1].health, ClusterNodeHealth::kOnline);
  EXPECT_EQ((*shards)[1].master()->address.toString(), "127.0.0.1:30102");
  EXPECT_EQ((*shards)[2].slots, (std::vector<SlotRange>{{10933, 16383}}));
  EXPECT_EQ((*shards)[2].nodes[1].address.toString(), "127.0.0.1:30105");

  auto failed = parseClusterSlots(kSlotsReplicaFailed);
  ASSERT_TRUE(failed.ok()) << failed.error().message;
  ASSERT_EQ(failed->size(), 3u);
  EXPECT_EQ((*failed)[0].nodes.size(), 1u);
  EXPECT_EQ((*failed)[0].slots, (std::vector<SlotRange>{{0, 5460}, {10923, 10932}}));
}

TEST(ClusterReplies, SlotsMerging) {
  // Ranges of one master out of order, replicas unsorted and listed again with the second range,
  // and a node without an id as old servers send it.
  std::string old_node = array({bulk("127.0.0.1"), integer(7009)});
  auto shards = parseClusterSlots(array({
      slotsEntry(200, 299, {7000, 7002}),
      slotsEntry(0, 99, {7005}),
      slotsEntry(100, 199, {7000, 7002, 7001}),
      array({integer(300), integer(399), old_node}),
  }));
  ASSERT_TRUE(shards.ok()) << shards.error().message;
  ASSERT_EQ(shards->size(), 3u);
  const ClusterShard& merged = (*shards)[0];
  EXPECT_EQ(merged.slots, (std::vector<SlotRange>{{100, 199}, {200, 299}}));
  ASSERT_EQ(merged.nodes.size(), 3u);
  EXPECT_EQ(merged.nodes[0].address.toString(), "127.0.0.1:7000");
  EXPECT_EQ(merged.nodes[1].address.toString(), "127.0.0.1:7001");
  EXPECT_EQ(merged.nodes[2].address.toString(), "127.0.0.1:7002");
  EXPECT_EQ((*shards)[1].master()->address.toString(), "127.0.0.1:7005");
  EXPECT_EQ((*shards)[2].master()->id, "");
}

TEST(ClusterReplies, SlotsMalformed) {
  auto refused = parseClusterSlots("-ERR This instance has cluster support disabled\r\n");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message,
            "CLUSTER SLOTS: ERR This instance has cluster support disabled");
  for (size_t length = 0; length < kSlots.size(); ++length) {
    EXPECT_FALSE(parseClusterSlots(kSlots.substr(0, length)).ok()) << length;
  }
  EXPECT_FALSE(parseClusterSlots("$5\r\nslots\r\n").ok());
  EXPECT_FALSE(parseClusterSlots(array({integer(1)})).ok());
  EXPECT_FALSE(parseClusterSlots(array({array({integer(0), integer(1)})})).ok());
  EXPECT_FALSE(parseClusterSlots(array({array({integer(0), integer(1), bulk("node")})})).ok());
  EXPECT_FALSE(
      parseClusterSlots(array({array({bulk("a"), integer(1), slotsEntry(0, 0, {})})})).ok());
  std::string port_text = array({bulk("127.0.0.1"), bulk("x")});
  EXPECT_FALSE(parseClusterSlots(array({array({integer(0), integer(1), port_text})})).ok());
  std::string id_array = array({bulk("127.0.0.1"), integer(7000), array({})});
  EXPECT_FALSE(parseClusterSlots(array({array({integer(0), integer(1), id_array})})).ok());
  auto port_high = parseClusterSlots(array({slotsEntry(0, 1, {70000})}));
  ASSERT_FALSE(port_high.ok());
  EXPECT_EQ(port_high.error().message, "CLUSTER SLOTS: invalid address '127.0.0.1:70000'");
  EXPECT_FALSE(parseClusterSlots(array({slotsEntry(0, 1, {7000, 0})})).ok());
  EXPECT_FALSE(parseClusterSlots(array({slotsEntry(0, 16384, {7000})})).ok());
  EXPECT_FALSE(parseClusterSlots(array({slotsEntry(5, 4, {7000})})).ok());
}

TEST(ClusterReplies, SlotTableFromShards) {
  auto shards = parseClusterShards(kShards);
  ASSERT_TRUE(shards.ok()) << shards.error().message;
  auto table = buildSlotTable(*shards);
  ASSERT_TRUE(table.ok()) << table.error().message;
  EXPECT_EQ(table->owner[0], 0);
  EXPECT_EQ(table->owner[5460], 0);
  EXPECT_EQ(table->owner[5461], 1);
  EXPECT_EQ(table->owner[10922], 1);
  EXPECT_EQ(table->owner[10923], 0);
  EXPECT_EQ(table->owner[10932], 0);
  EXPECT_EQ(table->owner[10933], 2);
  EXPECT_EQ(table->owner[16383], 2);
  for (uint16_t owner : table->owner) EXPECT_NE(owner, SlotTable::kUnowned);
}

TEST(ClusterReplies, SlotTableUnownedSlots) {
  std::vector<ClusterShard> shards(2);
  shards[0].slots = {{0, 9}};
  shards[1].slots = {{20, 20}, {16383, 16383}};
  auto table = buildSlotTable(shards);
  ASSERT_TRUE(table.ok()) << table.error().message;
  EXPECT_EQ(table->owner[9], 0);
  EXPECT_EQ(table->owner[10], SlotTable::kUnowned);
  EXPECT_EQ(table->owner[19], SlotTable::kUnowned);
  EXPECT_EQ(table->owner[20], 1);
  EXPECT_EQ(table->owner[21], SlotTable::kUnowned);
  EXPECT_EQ(table->owner[16383], 1);

  auto empty = buildSlotTable({});
  ASSERT_TRUE(empty.ok());
  for (uint16_t owner : empty->owner) EXPECT_EQ(owner, SlotTable::kUnowned);
}

TEST(ClusterReplies, SlotTableRejectsConflicts) {
  std::vector<ClusterShard> overlapping(2);
  overlapping[0].slots = {{0, 100}};
  overlapping[1].slots = {{100, 200}};
  auto overlap = buildSlotTable(overlapping);
  ASSERT_FALSE(overlap.ok());
  EXPECT_EQ(overlap.error().message, "slot table: slot 100 claimed by shards 0 and 1");

  std::vector<ClusterShard> out_of_bounds(1);
  out_of_bounds[0].slots = {{16000, 16384}};
  EXPECT_FALSE(buildSlotTable(out_of_bounds).ok());
  std::vector<ClusterShard> reversed(1);
  reversed[0].slots = {{10, 9}};
  EXPECT_FALSE(buildSlotTable(reversed).ok());
  std::vector<ClusterShard> twice(1);
  twice[0].slots = {{0, 10}, {5, 6}};
  EXPECT_FALSE(buildSlotTable(twice).ok());
}

}  // namespace
}  // namespace sy::topology
