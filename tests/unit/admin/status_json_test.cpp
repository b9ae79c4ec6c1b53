// The status page's JSON (renderStatusJson) and the page itself (statusPageHtml).
#include "admin/status_json.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "admin/status_page.h"
#include "snapshot_fixture.h"

namespace sy::admin {
namespace {

TEST(StatusJson, CarriesPoolsServersAndCommandsUnderTheRegistryNames) {
  StatsSnapshot snapshot = busySnapshot();
  nlohmann::json doc = nlohmann::json::parse(renderStatusJson(snapshot, someProcess()));
  EXPECT_EQ(doc.at("version"), "1.2.3");
  EXPECT_EQ(doc.at("pid"), 4242);
  EXPECT_EQ(doc.at("uptime_seconds"), 90061);
  EXPECT_EQ(doc.at("connections").at("current"), 3);
  EXPECT_EQ(doc.at("usage").at("resident_bytes"), 1048576);
  ASSERT_EQ(doc.at("pools").size(), 2u);
  const nlohmann::json& beta = doc.at("pools").at(1);
  EXPECT_EQ(beta.at("name"), "be\"ta\\x");  // escaped by the writer, intact once parsed
  for (size_t i = 0; i < snapshot.pools[1].values.size(); ++i) {
    EXPECT_EQ(beta.at("stats").at(kPoolStatFields[i].name), snapshot.pools[1].values[i]);
  }
  const nlohmann::json& latency = beta.at("latency");
  EXPECT_EQ(latency.at("count"), 8);
  EXPECT_EQ(latency.at("sum_usec"), 3'000'123);
  ASSERT_EQ(latency.at("buckets").size(), common::LatencyHistogram::kBuckets);
  EXPECT_EQ(latency.at("buckets").at(common::LatencyHistogram::kFiniteBuckets), 1);
  const nlohmann::json& server = beta.at("servers").at(1);
  EXPECT_EQ(server.at("name"), "127.0.0.1:6380");
  EXPECT_EQ(server.at("stats").at("server_connections"), 0);
  EXPECT_EQ(server.at("stats").at("requests"), snapshot.pools[1].servers[1][ServerStat::requests]);
  EXPECT_EQ(server.at("latency").at("count"), 3);
  const nlohmann::json& set = beta.at("commands").at(1);
  EXPECT_EQ(set.at("name"), "set");
  EXPECT_EQ(set.at("calls"), 4);
  EXPECT_EQ(set.at("usec"), 10);
  EXPECT_EQ(set.at("failed_calls"), 2);
  EXPECT_EQ(set.at("rejected_calls"), 1);
  EXPECT_TRUE(doc.at("groups").empty());
  EXPECT_TRUE(doc.at("clusters").empty());
}

TEST(StatusJson, GroupsShowNodesWithUnknownValuesAsNull) {
  StatsSnapshot snapshot = snapshotWithGroup();
  snapshot.clusters.push_back({.pool = "gamma",
                               .generation = 0,
                               .shards = 3,
                               .slots_served = 16384,
                               .nodes = 0,
                               .refreshes = 0,
                               .refresh_failures = 0,
                               .last_refresh_usec = -1,
                               .source = "",
                               .moved = 5,
                               .ask = 0,
                               .retries = 0});
  nlohmann::json doc = nlohmann::json::parse(renderStatusJson(snapshot, someProcess()));
  ASSERT_EQ(doc.at("groups").size(), 1u);
  const nlohmann::json& group = doc.at("groups").at(0);
  EXPECT_EQ(group.at("pool"), "alpha");
  EXPECT_EQ(group.at("name"), "g0");
  EXPECT_EQ(group.at("master"), "127.0.0.1:7002");
  EXPECT_EQ(group.at("writes"), "open");
  EXPECT_EQ(group.at("failovers"), 1);
  EXPECT_EQ(group.at("last_failover_follow_ms"), 1043);
  EXPECT_TRUE(group.at("slots").is_null());
  EXPECT_EQ(group.at("reachable_sentinels"), 2);
  ASSERT_EQ(group.at("nodes").size(), 3u);
  const nlohmann::json& master = group.at("nodes").at(0);
  EXPECT_EQ(master.at("role"), "master");
  EXPECT_TRUE(master.at("lag_seconds").is_null());
  EXPECT_EQ(master.at("rtt_usec"), 150);
  const nlohmann::json& lagging = group.at("nodes").at(2);
  EXPECT_EQ(lagging.at("address"), "127.0.0.1:7003");
  EXPECT_EQ(lagging.at("health"), "lagging");
  EXPECT_EQ(lagging.at("lag_seconds"), 30);
  EXPECT_EQ(lagging.at("serves_reads"), false);
  EXPECT_EQ(lagging.at("requests"), 12);
  EXPECT_EQ(group.at("nodes").at(1).at("serves_reads"), true);
  const nlohmann::json& gamma = doc.at("clusters").at(0);
  EXPECT_EQ(gamma.at("pool"), "gamma");
  EXPECT_EQ(gamma.at("slots_served"), 16384);
  EXPECT_EQ(gamma.at("moved"), 5);
  EXPECT_TRUE(gamma.at("last_refresh_usec").is_null());
}

TEST(StatusJson, InvalidUtf8InANameStillRendersValidJson) {
  StatsSnapshot snapshot = busySnapshot();
  snapshot.pools[0].name = "bad\xff";
  nlohmann::json doc = nlohmann::json::parse(renderStatusJson(snapshot, someProcess()));
  EXPECT_EQ(doc.at("pools").at(0).at("name"), "bad\xef\xbf\xbd");
}

TEST(StatusPage, IsSelfContained) {
  std::string_view page = statusPageHtml();
  EXPECT_TRUE(page.starts_with("<!doctype html>"));
  EXPECT_TRUE(page.ends_with("</html>\n"));
  EXPECT_EQ(page.find("http:"), std::string_view::npos);
  EXPECT_EQ(page.find("https:"), std::string_view::npos);
  EXPECT_EQ(page.find("src="), std::string_view::npos);  // no external script or image
  EXPECT_EQ(page.find("@import"), std::string_view::npos);
  EXPECT_NE(page.find(kStatusJsonPath.substr(1)), std::string_view::npos);
}

}  // namespace
}  // namespace sy::admin
