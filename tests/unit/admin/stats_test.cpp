// The twemproxy stats document and the -D text, from hand-made snapshots and from a Proxy.
#include "admin/stats_snapshot.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <asio/io_context.hpp>

#include <memory>
#include <string>
#include <vector>

#include "command/command.h"
#include "common/stats_registry.h"
#include "config/config.h"
#include "server/proxy.h"
#include "topology/topology.h"

namespace sy::admin {
namespace {

const std::vector<std::string> kPoolKeys = {"client_eof",    "client_err",    "client_connections",
                                            "server_ejects", "forward_error", "fragments"};
const std::vector<std::string> kServerKeys = {
    "server_eof",     "server_err",    "server_timedout", "server_connections", "server_ejected_at",
    "requests",       "request_bytes", "responses",       "response_bytes",     "in_queue",
    "in_queue_bytes", "out_queue",     "out_queue_bytes"};

// `{"k1":v1, "k2":v2, ...` for `keys` with values first, first + 1, ... (no closing brace).
std::string members(const std::vector<std::string>& keys, uint64_t first) {
  std::string out = "{";
  for (size_t i = 0; i < keys.size(); ++i) {
    out += (i == 0 ? "\"" : ", \"") + keys[i] + "\":" + std::to_string(first + i);
  }
  return out;
}

PoolStats pool(std::string name, uint64_t first) {
  PoolStats stats;
  stats.name = std::move(name);
  for (size_t i = 0; i < stats.values.size(); ++i) stats.values[i] = first + i;
  return stats;
}

ServerStats server(std::string name, uint64_t first) {
  ServerStats stats;
  stats.name = std::move(name);
  for (size_t i = 0; i < stats.values.size(); ++i) stats.values[i] = first + i;
  return stats;
}

StatsSnapshot twoPools() {
  StatsSnapshot snapshot;
  snapshot.uptime_seconds = 42;
  snapshot.timestamp = 1700000000;
  snapshot.total_connections = 17;
  snapshot.curr_connections = 3;
  snapshot.pools.push_back(pool("alpha", 1));
  snapshot.pools[0].servers.push_back(server("s1", 100));
  snapshot.pools[0].servers.push_back(server("127.0.0.1:6380", 200));
  snapshot.pools.push_back(pool("beta", 10));
  snapshot.pools[1].servers.push_back(server("/tmp/redis.sock:", 300));
  return snapshot;
}

TEST(StatFields, ListsAreInNutcrackerOrder) {
  ASSERT_EQ(std::size(kPoolStatFields), kPoolKeys.size());
  for (size_t i = 0; i < kPoolKeys.size(); ++i) EXPECT_EQ(kPoolStatFields[i].name, kPoolKeys[i]);
  ASSERT_EQ(std::size(kServerStatFields), kServerKeys.size());
  for (size_t i = 0; i < kServerKeys.size(); ++i) {
    EXPECT_EQ(kServerStatFields[i].name, kServerKeys[i]);
  }
  EXPECT_EQ(static_cast<size_t>(PoolStat::kCount), kPoolKeys.size());
  EXPECT_EQ(static_cast<size_t>(ServerStat::kCount), kServerKeys.size());
  EXPECT_EQ(kPoolStatFields[static_cast<size_t>(PoolStat::client_connections)].kind,
            StatKind::kGauge);
  EXPECT_EQ(kServerStatFields[static_cast<size_t>(ServerStat::server_ejected_at)].kind,
            StatKind::kTimestamp);
  EXPECT_EQ(kServerStatFields[static_cast<size_t>(ServerStat::out_queue_bytes)].kind,
            StatKind::kGauge);
  EXPECT_EQ(kServerStatFields[static_cast<size_t>(ServerStat::requests)].kind, StatKind::kCounter);
}

// nutcracker's bytes: pools and servers sorted by name, shorter names first (beta before
// alpha, s1 before 127.0.0.1:6380), ", " after every value, no space after a closing brace.
TEST(RenderTwemproxyJson, ExactDocument) {
  std::string expected =
      "{\"service\":\"switchyard\", \"source\":\"host-1\", \"version\":\"0.1.0\", \"uptime\":42, "
      "\"timestamp\":1700000000, \"total_connections\":17, \"curr_connections\":3, "
      "\"beta\": " +
      members(kPoolKeys, 10) + ", \"/tmp/redis.sock:\": " + members(kServerKeys, 300) +
      "}},\"alpha\": " + members(kPoolKeys, 1) + ", \"s1\": " + members(kServerKeys, 100) +
      "},\"127.0.0.1:6380\": " + members(kServerKeys, 200) + "}}}";
  EXPECT_EQ(renderTwemproxyJson(twoPools(), "host-1", "0.1.0"), expected);
}

TEST(RenderTwemproxyJson, NamesOfEqualLengthSortBytewise) {
  StatsSnapshot snapshot;
  for (const char* name : {"cpool", "apool", "bpool"}) {
    snapshot.pools.push_back(pool(name, 0));
    for (const char* server_name : {"zed", "ya", "xa"}) {
      snapshot.pools.back().servers.push_back(server(server_name, 0));
    }
  }
  std::string json = renderTwemproxyJson(snapshot, "h", "v");
  size_t a = json.find("\"apool\""), b = json.find("\"bpool\""), c = json.find("\"cpool\"");
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  size_t xa = json.find("\"xa\"", a), ya = json.find("\"ya\"", a), zed = json.find("\"zed\"", a);
  EXPECT_LT(xa, ya);
  EXPECT_LT(ya, zed);
  EXPECT_LT(zed, b);
}

TEST(RenderTwemproxyJson, BeginsLikeNutcracker) {
  std::string json = renderTwemproxyJson(twoPools(), "h", "v");
  EXPECT_EQ(json.rfind("{\"service\":\"switchyard\", \"source\":\"h\", \"version\":\"v\", "
                       "\"uptime\":42, \"timestamp\":1700000000, \"total_connections\":17, "
                       "\"curr_connections\":3, \"beta\": {\"client_eof\":10, ",
                       0),
            0u)
      << json;
  EXPECT_EQ(json.find('\n'), std::string::npos);  // one line
}

TEST(RenderTwemproxyJson, IsValidJsonWithEveryValue) {
  StatsSnapshot snapshot = twoPools();
  nlohmann::json doc = nlohmann::json::parse(renderTwemproxyJson(snapshot, "host-1", "0.1.0"));
  EXPECT_EQ(doc["service"], "switchyard");
  EXPECT_EQ(doc["source"], "host-1");
  EXPECT_EQ(doc["version"], "0.1.0");
  EXPECT_EQ(doc["uptime"], 42);
  EXPECT_EQ(doc["timestamp"], 1700000000);
  EXPECT_EQ(doc["total_connections"], 17);
  EXPECT_EQ(doc["curr_connections"], 3);
  EXPECT_EQ(doc.size(), 9u);  // 7 header members and 2 pools
  for (const PoolStats& p : snapshot.pools) {
    const nlohmann::json& pool_doc = doc.at(p.name);
    EXPECT_EQ(pool_doc.size(), kPoolKeys.size() + p.servers.size());
    for (size_t i = 0; i < kPoolKeys.size(); ++i) EXPECT_EQ(pool_doc.at(kPoolKeys[i]), p.values[i]);
    for (const ServerStats& s : p.servers) {
      const nlohmann::json& server_doc = pool_doc.at(s.name);
      EXPECT_EQ(server_doc.size(), kServerKeys.size());
      for (size_t i = 0; i < kServerKeys.size(); ++i) {
        EXPECT_EQ(server_doc.at(kServerKeys[i]), s.values[i]) << s.name << " " << kServerKeys[i];
      }
    }
  }
}

TEST(RenderTwemproxyJson, EscapesOddNames) {
  StatsSnapshot snapshot;
  const std::string pool_name = "po\"ol\\1";
  const std::string server_name = std::string("tab\there\x01") + "\xc3\xa9";  // UTF-8 kept
  snapshot.pools.push_back(pool(pool_name, 0));
  snapshot.pools[0].servers.push_back(server(server_name, 0));
  std::string json = renderTwemproxyJson(snapshot, "we\"ird\nhost", "1.0");
  EXPECT_NE(json.find("\"source\":\"we\\\"ird\\u000ahost\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"po\\\"ol\\\\1\": {"), std::string::npos) << json;
  EXPECT_NE(json.find("\"tab\\u0009here\\u0001\xc3\xa9\": {"), std::string::npos) << json;
  nlohmann::json doc = nlohmann::json::parse(json);
  EXPECT_EQ(doc["source"], "we\"ird\nhost");
  ASSERT_TRUE(doc.contains(pool_name));
  EXPECT_TRUE(doc[pool_name].contains(server_name));
}

TEST(RenderTwemproxyJson, PoolWithoutServersAndNoPools) {
  StatsSnapshot empty;
  EXPECT_EQ(renderTwemproxyJson(empty, "h", "v"),
            "{\"service\":\"switchyard\", \"source\":\"h\", \"version\":\"v\", \"uptime\":0, "
            "\"timestamp\":0, \"total_connections\":0, \"curr_connections\":0}");
  StatsSnapshot one;
  one.pools.push_back(pool("p", 5));
  EXPECT_EQ(renderTwemproxyJson(one, "h", "v"),
            "{\"service\":\"switchyard\", \"source\":\"h\", \"version\":\"v\", \"uptime\":0, "
            "\"timestamp\":0, \"total_connections\":0, \"curr_connections\":0, \"p\": " +
                members(kPoolKeys, 5) + "}}");
}

TEST(DescribeStats, ListsEveryFieldWithKindAndDescription) {
  std::string text = describeStats();
  EXPECT_EQ(text.rfind("pool stats:\n", 0), 0u);
  size_t server_section = text.find("\nserver stats:\n");
  ASSERT_NE(server_section, std::string::npos);
  auto kindName = [](StatKind kind) -> std::string {
    switch (kind) {
      case StatKind::kCounter:
        return "counter";
      case StatKind::kGauge:
        return "gauge";
      case StatKind::kTimestamp:
        return "timestamp";
    }
    return "?";
  };
  size_t previous = 0;
  for (const StatField& field : kPoolStatFields) {
    size_t at = text.find(std::string("  ") + field.name + " ");
    ASSERT_NE(at, std::string::npos) << field.name;
    EXPECT_LT(at, server_section) << field.name;
    EXPECT_GT(at, previous) << field.name << " out of order";
    previous = at;
    size_t eol = text.find('\n', at);
    std::string line = text.substr(at, eol - at);
    EXPECT_NE(line.find(" " + kindName(field.kind) + " "), std::string::npos) << line;
    EXPECT_NE(line.find(std::string("\"") + field.description + "\""), std::string::npos) << line;
  }
  previous = server_section;
  for (const StatField& field : kServerStatFields) {
    size_t at = text.find(std::string("  ") + field.name + " ", server_section);
    ASSERT_NE(at, std::string::npos) << field.name;
    EXPECT_GT(at, previous) << field.name << " out of order";
    previous = at;
    size_t eol = text.find('\n', at);
    std::string line = text.substr(at, eol - at);
    EXPECT_NE(line.find(" " + kindName(field.kind) + " "), std::string::npos) << line;
    EXPECT_NE(line.find(std::string("\"") + field.description + "\""), std::string::npos) << line;
  }
  size_t lines = 0;
  for (char c : text) lines += c == '\n' ? 1 : 0;
  EXPECT_EQ(lines, 3 + std::size(kPoolStatFields) + std::size(kServerStatFields) + 2 +
                       std::size(kCommandStatFields) + 3);
  EXPECT_NE(text.find("  client_eof          counter    \"client connections closed by the "
                      "client\"\n"),
            std::string::npos)
      << text;
}

class CollectStatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config =
        std::make_shared<const config::Config>(config::parseConfig("alpha:\n"
                                                                   "  listen: 127.0.0.1:22121\n"
                                                                   "  server_connections: 2\n"
                                                                   "  servers:\n"
                                                                   "    - 127.0.0.1:6379:1 s1\n"
                                                                   "    - 127.0.0.1:6380:1\n"
                                                                   "beta:\n"
                                                                   "  listen: 127.0.0.1:22122\n"
                                                                   "  servers:\n"
                                                                   "    - 127.0.0.1:6381:1 only\n",
                                                                   "stats.yml"));
    auto built = topology::buildTopology(config);
    ASSERT_TRUE(built.ok()) << built.error().message;
    topology_ = *built;
    proxy_ = std::make_unique<server::Proxy>(control_io_, topology_, 2);  // never started
  }

  asio::io_context control_io_;
  std::shared_ptr<const topology::Topology> topology_;
  std::unique_ptr<server::Proxy> proxy_;
};

TEST_F(CollectStatsTest, FreshProxyGivesZerosAndTheConfiguredNames) {
  int64_t before = common::unixSeconds();
  StatsSnapshot snapshot = collectStats(*proxy_, *topology_);
  int64_t after = common::unixSeconds();
  EXPECT_GE(snapshot.timestamp, before);
  EXPECT_LE(snapshot.timestamp, after);
  EXPECT_EQ(snapshot.uptime_seconds, 0);
  // nutcracker counts each pool's listening socket as a connection.
  EXPECT_EQ(snapshot.total_connections, 2u);
  EXPECT_EQ(snapshot.curr_connections, 2u);
  EXPECT_EQ(snapshot.threads, 2u);
  EXPECT_GT(snapshot.usage.resident_bytes, 0u);
  EXPECT_GT(snapshot.usage.open_fds, 2u);  // at least stdin, stdout, stderr
  EXPECT_GE(snapshot.usage.max_fds, snapshot.usage.open_fds);
  ASSERT_EQ(snapshot.pools.size(), 2u);
  EXPECT_EQ(snapshot.pools[0].name, "alpha");
  EXPECT_EQ(snapshot.pools[1].name, "beta");
  ASSERT_EQ(snapshot.pools[0].servers.size(), 2u);
  EXPECT_EQ(snapshot.pools[0].servers[0].name, "s1");
  EXPECT_EQ(snapshot.pools[0].servers[1].name, "127.0.0.1:6380");
  ASSERT_EQ(snapshot.pools[1].servers.size(), 1u);
  EXPECT_EQ(snapshot.pools[1].servers[0].name, "only");
  for (const PoolStats& p : snapshot.pools) {
    for (uint64_t value : p.values) EXPECT_EQ(value, 0u) << p.name;
    for (const ServerStats& s : p.servers) {
      for (uint64_t value : s.values) EXPECT_EQ(value, 0u) << s.name;
    }
  }
  nlohmann::json doc = nlohmann::json::parse(renderTwemproxyJson(snapshot, "h", "v"));
  EXPECT_EQ(doc["alpha"]["127.0.0.1:6380"]["requests"], 0);
  EXPECT_EQ(doc["beta"]["only"]["server_connections"], 0);
}

TEST_F(CollectStatsTest, PoolCountersAreSummedOverWorkers) {
  ASSERT_EQ(proxy_->workers().size(), 2u);
  server::WorkerCounters& first = proxy_->workers()[0]->counters();
  server::WorkerCounters& second = proxy_->workers()[1]->counters();
  first.pool("alpha")[PoolStat::client_eof].add(2);
  second.pool("alpha")[PoolStat::client_eof].add(5);
  first.pool("alpha")[PoolStat::fragments].add(7);
  second.pool("beta")[PoolStat::forward_error].add(3);
  second.pool("beta")[PoolStat::client_connections].set(4);
  first.pool("beta")[PoolStat::client_err].add(1);

  StatsSnapshot snapshot = collectStats(*proxy_, *topology_);
  auto value = [&](size_t p, PoolStat stat) {
    return snapshot.pools[p].values[static_cast<size_t>(stat)];
  };
  EXPECT_EQ(value(0, PoolStat::client_eof), 7u);
  EXPECT_EQ(value(0, PoolStat::fragments), 7u);
  EXPECT_EQ(value(0, PoolStat::forward_error), 0u);
  EXPECT_EQ(value(1, PoolStat::forward_error), 3u);
  EXPECT_EQ(value(1, PoolStat::client_connections), 4u);
  EXPECT_EQ(value(1, PoolStat::client_err), 1u);
  EXPECT_EQ(value(1, PoolStat::client_eof), 0u);
  EXPECT_EQ(value(0, PoolStat::server_ejects), 0u);
}

// Server blocks and command counters are found by name and summed over workers; the
// connection totals count every server block, also one whose server a reload removed (its
// retired connection may still be open).
TEST_F(CollectStatsTest, ServerAndCommandCountersAreSummedByName) {
  server::WorkerCounters& first = proxy_->workers()[0]->counters();
  server::WorkerCounters& second = proxy_->workers()[1]->counters();
  first.server("alpha", "s1")[ServerStat::requests].add(3);
  second.server("alpha", "s1")[ServerStat::requests].add(4);
  second.server("beta", "only")[ServerStat::server_connections].add();
  second.server("beta", "only").connects.add(2);
  first.server("beta", "gone")[ServerStat::server_connections].add();  // not in the topology
  first.server("beta", "gone").connects.add();
  uint16_t get = command::commandId(*command::findTopLevel("get"));
  first.pool("alpha").countRejected(get);
  second.pool("alpha").countRejected(get);

  StatsSnapshot snapshot = collectStats(*proxy_, *topology_);
  EXPECT_EQ(snapshot.pools[0].servers[0][ServerStat::requests], 7u);
  EXPECT_EQ(snapshot.pools[1].servers[0][ServerStat::server_connections], 1u);
  ASSERT_EQ(snapshot.pools[1].servers.size(), 1u);
  EXPECT_EQ(snapshot.total_connections, 2u + 3u);  // two listeners, three server connects
  EXPECT_EQ(snapshot.curr_connections, 2u + 2u);
  ASSERT_EQ(snapshot.pools[0].commands.size(), 1u);
  EXPECT_EQ(snapshot.pools[0].commands[0].name, "get");
  EXPECT_EQ(snapshot.pools[0].commands[0][CommandStat::rejected_calls], 2u);
  EXPECT_TRUE(snapshot.pools[1].commands.empty());
}

}  // namespace
}  // namespace sy::admin
