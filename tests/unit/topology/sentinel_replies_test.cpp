// Parsing what Sentinel and Redis 7.0 answer: SENTINEL get-master-addr-by-name / replicas /
// sentinels, ROLE, INFO replication and event messages (byte layouts as redis-server and
// redis-sentinel 7.0 send them), plus malformed input.
#include "topology/sentinel_replies.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sy::topology {
namespace {

std::string bulk(const std::string& text) {
  return "$" + std::to_string(text.size()) + "\r\n" + text + "\r\n";
}

std::string array(const std::vector<std::string>& items) {
  std::string out = "*" + std::to_string(items.size()) + "\r\n";
  for (const std::string& item : items) out += item;
  return out;
}

std::string flat(const std::vector<std::string>& fields) {
  std::vector<std::string> bulks;
  for (const std::string& field : fields) bulks.push_back(bulk(field));
  return array(bulks);
}

TEST(SentinelReplies, MasterAddr) {
  auto found = parseMasterAddrReply(array({bulk("127.0.0.1"), bulk("6380")}));
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->toString(), "127.0.0.1:6380");
  auto unknown = parseMasterAddrReply("*-1\r\n");
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());
  auto refused = parseMasterAddrReply("-NOAUTH Authentication required.\r\n");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("NOAUTH Authentication required."), std::string::npos);
  EXPECT_FALSE(parseMasterAddrReply(array({bulk("127.0.0.1"), bulk("0")})).ok());
  EXPECT_FALSE(parseMasterAddrReply(array({bulk("127.0.0.1"), bulk("x")})).ok());
  EXPECT_FALSE(parseMasterAddrReply(array({bulk("127.0.0.1")})).ok());
  EXPECT_FALSE(parseMasterAddrReply(":1\r\n").ok());
}

TEST(SentinelReplies, ReplicaList) {
  std::string reply = array({
      flat({"name", "127.0.0.1:7001", "ip", "127.0.0.1", "port", "7001", "runid", "abc", "flags",
            "slave", "master-link-down-time", "0", "master-link-status", "ok", "slave-repl-offset",
            "1234"}),
      flat({"name", "127.0.0.1:7002", "ip", "127.0.0.1", "port", "7002", "flags",
            "s_down,slave,disconnected", "master-link-down-time", "4000", "master-link-status",
            "err"}),
  });
  auto replicas = parseInstanceList(reply);
  ASSERT_TRUE(replicas.ok()) << replicas.error().message;
  ASSERT_EQ(replicas->size(), 2u);
  const SentinelInstance& up = (*replicas)[0];
  EXPECT_EQ(up.address.toString(), "127.0.0.1:7001");
  EXPECT_EQ(up.master_link_status, "ok");
  EXPECT_EQ(up.repl_offset, 1234);
  EXPECT_TRUE(up.hasFlag("slave"));
  EXPECT_FALSE(up.flaggedDown());
  const SentinelInstance& down = (*replicas)[1];
  EXPECT_EQ(down.master_link_down_time_ms, 4000);
  EXPECT_EQ(down.repl_offset, -1);
  EXPECT_TRUE(down.hasFlag("s_down"));
  EXPECT_TRUE(down.hasFlag("disconnected"));
  EXPECT_FALSE(down.hasFlag("down"));
  EXPECT_TRUE(down.flaggedDown());

  SentinelInstance odown;
  odown.flags = "master,o_down";
  EXPECT_TRUE(odown.flaggedDown());

  auto empty = parseInstanceList("*0\r\n");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(SentinelReplies, ReplicaListErrors) {
  EXPECT_FALSE(parseInstanceList("-ERR No such master with that name\r\n").ok());
  EXPECT_FALSE(parseInstanceList(array({flat({"ip", "127.0.0.1", "port"})})).ok());
  EXPECT_FALSE(parseInstanceList(array({flat({"ip", "127.0.0.1", "port", "99999"})})).ok());
  EXPECT_FALSE(parseInstanceList(array({flat({"flags", "slave"})})).ok());  // no address
  EXPECT_FALSE(parseInstanceList(array({":1\r\n"})).ok());
}

TEST(SentinelReplies, RoleOfMaster) {
  std::string reply = array(
      {bulk("master"), ":3129659\r\n",
       array({flat({"127.0.0.1", "9001", "3129242"}), flat({"127.0.0.1", "9002", "3129543"})})});
  auto role = parseRoleReply(reply);
  ASSERT_TRUE(role.ok()) << role.error().message;
  EXPECT_EQ(role->kind, RoleReply::Kind::kMaster);
  EXPECT_EQ(role->offset, 3129659);
  ASSERT_EQ(role->replicas.size(), 2u);
  EXPECT_EQ(role->replicas[1].address.toString(), "127.0.0.1:9002");
  EXPECT_EQ(role->replicas[1].offset, 3129543);

  auto alone = parseRoleReply(array({bulk("master"), ":0\r\n", "*0\r\n"}));
  ASSERT_TRUE(alone.ok());
  EXPECT_TRUE(alone->replicas.empty());
}

TEST(SentinelReplies, RoleOfReplica) {
  auto role = parseRoleReply(
      array({bulk("slave"), bulk("127.0.0.1"), ":9000\r\n", bulk("connected"), ":3167038\r\n"}));
  ASSERT_TRUE(role.ok()) << role.error().message;
  EXPECT_EQ(role->kind, RoleReply::Kind::kReplica);
  EXPECT_EQ(role->master.toString(), "127.0.0.1:9000");
  EXPECT_EQ(role->link_state, "connected");
  EXPECT_EQ(role->offset, 3167038);

  auto syncing = parseRoleReply(
      array({bulk("slave"), bulk("10.0.0.1"), ":6379\r\n", bulk("connect"), ":-1\r\n"}));
  ASSERT_TRUE(syncing.ok());
  EXPECT_EQ(syncing->link_state, "connect");
  EXPECT_EQ(syncing->offset, -1);
}

TEST(SentinelReplies, RoleOfSentinelAndErrors) {
  auto sentinel = parseRoleReply(array({bulk("sentinel"), flat({"g0", "g1"})}));
  ASSERT_TRUE(sentinel.ok());
  EXPECT_EQ(sentinel->kind, RoleReply::Kind::kSentinel);
  EXPECT_FALSE(parseRoleReply("-LOADING Redis is loading the dataset in memory\r\n").ok());
  EXPECT_FALSE(parseRoleReply(array({bulk("primary")})).ok());
  EXPECT_FALSE(parseRoleReply(array({bulk("master"), ":1\r\n"})).ok());
  EXPECT_FALSE(
      parseRoleReply(array({bulk("slave"), bulk("h"), ":0\r\n", bulk("x"), ":1\r\n"})).ok());
  EXPECT_FALSE(parseRoleReply(array({bulk("master"), ":1\r\n", array({flat({"h", "1"})})})).ok());
  EXPECT_FALSE(parseRoleReply("+OK\r\n").ok());
}

TEST(SentinelReplies, InfoReplicationOfMaster) {
  std::string text =
      "# Replication\r\nrole:master\r\nconnected_slaves:2\r\n"
      "slave0:ip=127.0.0.1,port=7001,state=online,offset=5000,lag=0\r\n"
      "slave1:ip=127.0.0.1,port=7002,state=wait_bgsave,offset=0,lag=12\r\n"
      "master_failover_state:no-failover\r\nmaster_replid:abc\r\nmaster_repl_offset:5042\r\n";
  auto info = parseInfoReplication(bulk(text));
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->role, "master");
  EXPECT_EQ(info->master_repl_offset, 5042);
  ASSERT_EQ(info->replicas.size(), 2u);
  EXPECT_EQ(info->replicas[0].address.toString(), "127.0.0.1:7001");
  EXPECT_EQ(info->replicas[0].state, "online");
  EXPECT_EQ(info->replicas[0].offset, 5000);
  EXPECT_EQ(info->replicas[1].lag_seconds, 12);
}

TEST(SentinelReplies, InfoReplicationOfReplica) {
  auto info = parseInfoReplication(
      bulk("# Replication\nrole:slave\nmaster_host:127.0.0.1\nmaster_port:7000\n"
           "master_link_status:down\nslave_repl_offset:10\nslave_read_only:1\n"
           "slave_priority:100\nmaster_repl_offset:10\n"));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->role, "slave");
  EXPECT_EQ(info->master_link_status, "down");
  EXPECT_TRUE(info->replicas.empty());  // slave_read_only etc. are not replica lines
  EXPECT_FALSE(parseInfoReplication(bulk("# Replication\r\n")).ok());
  EXPECT_FALSE(parseInfoReplication("-NOAUTH Authentication required.\r\n").ok());
}

TEST(SentinelReplies, EventMessages) {
  auto sw = parseEventMessage(
      array({bulk("message"), bulk("+switch-master"), bulk("g0 127.0.0.1 7000 127.0.0.1 7001")}));
  ASSERT_TRUE(sw.has_value());
  EXPECT_EQ(sw->channel, "+switch-master");
  EXPECT_EQ(sw->master_name, "g0");
  ASSERT_TRUE(sw->new_master.has_value());
  EXPECT_EQ(sw->new_master->toString(), "127.0.0.1:7001");

  auto sdown = parseEventMessage(array({bulk("message"), bulk("+sdown"),
                                        bulk("slave 127.0.0.1:7002 127.0.0.1 7002 @ g1 "
                                             "127.0.0.1 7000")}));
  ASSERT_TRUE(sdown.has_value());
  EXPECT_EQ(sdown->master_name, "g1");
  EXPECT_FALSE(sdown->new_master.has_value());

  auto odown = describeEvent("+odown", "master g2 127.0.0.1 7000 #quorum 2/2");
  EXPECT_EQ(odown.master_name, "g2");
  auto tilt = describeEvent("+tilt", "#tilt mode entered");
  EXPECT_EQ(tilt.master_name, "");
  auto bad_switch = describeEvent("+switch-master", "g0 127.0.0.1");
  EXPECT_EQ(bad_switch.master_name, "");
  auto promoted =
      describeEvent("+promoted-slave", "slave 127.0.0.1:7002 127.0.0.1 7002 @ g0 127.0.0.1 7001");
  EXPECT_EQ(promoted.master_name, "g0");
  ASSERT_TRUE(promoted.new_master.has_value());
  EXPECT_EQ(promoted.new_master->toString(), "127.0.0.1:7002");
  auto selected =
      describeEvent("+selected-slave", "slave 127.0.0.1:7002 127.0.0.1 7002 @ g0 127.0.0.1 7001");
  EXPECT_EQ(selected.master_name, "g0");
  EXPECT_FALSE(selected.new_master.has_value());  // chosen, not promoted yet

  EXPECT_FALSE(
      parseEventMessage(array({bulk("subscribe"), bulk("+switch-master"), ":1\r\n"})).has_value());
  EXPECT_FALSE(parseEventMessage("+OK\r\n").has_value());
  EXPECT_FALSE(parseEventMessage(array({bulk("message"), bulk("+sdown")})).has_value());
}

TEST(SentinelReplies, ChannelsCoverFailoverEvents) {
  const auto& channels = sentinelEventChannels();
  for (const char* wanted : {"+switch-master", "+sdown", "-sdown", "+odown", "-odown", "+slave",
                             "+convert-to-slave", "+role-change", "+failover-end"}) {
    EXPECT_NE(std::find(channels.begin(), channels.end(), wanted), channels.end()) << wanted;
  }
}

TEST(SentinelReplies, AddressText) {
  EXPECT_EQ((NodeAddress{"::1", 26379}).toString(), "[::1]:26379");
  EXPECT_FALSE(makeNodeAddress("", "1").ok());
  EXPECT_FALSE(makeNodeAddress("h", "65536").ok());
  EXPECT_TRUE(makeNodeAddress("h", "65535").ok());
}

}  // namespace
}  // namespace sy::topology
