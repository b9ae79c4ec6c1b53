// The INFO renderer: Redis's format, section selection, unique keys, values from the snapshot.
#include "admin/info_renderer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "snapshot_fixture.h"

namespace sy::admin {
namespace {

struct Info {
  std::vector<std::string> sections;  // header titles, in order
  std::map<std::string, std::string> values;
};

// Parses as redis-py does, but strictly: CRLF lines, "# Title" headers, a blank line between
// sections, "key:value" otherwise, every key unique.
Info parseInfo(const std::string& text) {
  Info info;
  size_t at = 0;
  bool expect_header = true;
  while (at < text.size()) {
    size_t end = text.find("\r\n", at);
    EXPECT_NE(end, std::string::npos) << "unterminated line at " << at;
    if (end == std::string::npos) break;
    std::string line = text.substr(at, end - at);
    at = end + 2;
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    if (line.empty()) {
      expect_header = true;
      continue;
    }
    if (expect_header) {
      EXPECT_TRUE(line.starts_with("# ")) << line;
      info.sections.push_back(line.substr(2));
      expect_header = false;
      continue;
    }
    size_t colon = line.find(':');
    EXPECT_NE(colon, std::string::npos) << line;
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    EXPECT_TRUE(info.values.emplace(key, line.substr(colon + 1)).second) << "duplicate " << key;
  }
  return info;
}

Info render(std::vector<std::string> sections, uint32_t pool = 0) {
  return parseInfo(renderInfo(busySnapshot(), someProcess(), pool, sections));
}

const std::vector<std::string> kDefaultSections = {"Server",
                                                   "Clients",
                                                   "Memory",
                                                   "Stats",
                                                   "CPU",
                                                   "Cluster",
                                                   "Pool_alpha",
                                                   "Pool_be_ta_x",
                                                   "Backend_alpha_s1",
                                                   "Backend_alpha_127_0_0_1_6380",
                                                   "Backend_be_ta_x_s1",
                                                   "Backend_be_ta_x_127_0_0_1_6380"};

TEST(InfoRenderer, DefaultHasEverySectionButCommandstats) {
  EXPECT_EQ(render({}).sections, kDefaultSections);
  EXPECT_EQ(render({"default"}).sections, kDefaultSections);
  EXPECT_EQ(render({"DEFAULT"}).sections, kDefaultSections);
}

TEST(InfoRenderer, AllAndEverythingAddCommandstats) {
  std::vector<std::string> all = kDefaultSections;
  all.insert(all.begin() + 5, "Commandstats");
  EXPECT_EQ(render({"all"}).sections, all);
  EXPECT_EQ(render({"everything"}).sections, all);
  EXPECT_EQ(render({"default", "commandstats"}).sections, all);
}

TEST(InfoRenderer, SectionsAreSelectedByNameCaseInsensitively) {
  EXPECT_EQ(render({"server"}).sections, std::vector<std::string>{"Server"});
  EXPECT_EQ(render({"Clients", "SERVER"}).sections,
            (std::vector<std::string>{"Server", "Clients"}));
  EXPECT_EQ(render({"pools"}).sections, (std::vector<std::string>{"Pool_alpha", "Pool_be_ta_x"}));
  EXPECT_EQ(render({"backends"}).sections.size(), 4u);
  EXPECT_EQ(render({"backend_alpha_s1"}).sections, std::vector<std::string>{"Backend_alpha_s1"});
  EXPECT_EQ(render({"POOL_ALPHA"}).sections, std::vector<std::string>{"Pool_alpha"});
}

TEST(InfoRenderer, UnknownSectionsGiveAnEmptyReply) {
  EXPECT_EQ(renderInfo(busySnapshot(), someProcess(), 0, std::vector<std::string>{"nosuch"}), "");
  EXPECT_EQ(render({"nosuch", "clients"}).sections, std::vector<std::string>{"Clients"});
}

TEST(InfoRenderer, ServerClientsAndStatsValues) {
  Info info = render({"everything"});
  EXPECT_EQ(info.values["redis_version"], command::kPresentedRedisVersion);
  EXPECT_EQ(info.values["switchyard_version"], "1.2.3");
  EXPECT_EQ(info.values["process_id"], "4242");
  EXPECT_EQ(info.values["tcp_port"], "22121");
  EXPECT_EQ(info.values["uptime_in_seconds"], "90061");
  EXPECT_EQ(info.values["uptime_in_days"], "1");
  EXPECT_EQ(info.values["executable"], "/usr/bin/switchyard");
  EXPECT_EQ(info.values["config_file"], "/etc/nutcracker.yml");
  EXPECT_EQ(info.values["threads"], "4");
  EXPECT_EQ(info.values["connected_clients"], "3");
  EXPECT_EQ(info.values["total_connections_received"], "17");
  EXPECT_EQ(info.values["rejected_connections"], "2");
  EXPECT_EQ(info.values["scripts_carried"], "3");
  EXPECT_EQ(info.values["scripts_carried_bytes"], "120");
  EXPECT_EQ(info.values["scripts_reloaded"], "21");
  EXPECT_EQ(info.values["scripts_reload_errors"], "1");
  EXPECT_EQ(info.values["scripts_not_carried"], "5");
  EXPECT_EQ(info.values["total_commands_processed"], "16");  // 2 pools x 2 commands x 4
  EXPECT_EQ(info.values["total_error_replies"], "12");       // 8 failed + 4 rejected
  EXPECT_EQ(info.values["total_forward_error"], std::to_string(14 + 24));
  EXPECT_EQ(render({"server"}, 1).values["tcp_port"], "0");  // a unix socket pool
  EXPECT_EQ(info.values["used_memory_rss"], "1048576");
  EXPECT_EQ(info.values["open_fds"], "12");
  EXPECT_EQ(info.values["used_cpu_user"], "1.500000");
  EXPECT_EQ(info.values["used_cpu_sys"], "0.250000");
}

TEST(InfoRenderer, CommandstatsSumPoolsInRedis7Format) {
  Info info = render({"commandstats"});
  EXPECT_EQ(info.values["cmdstat_get"],
            "calls=8,usec=20,usec_per_call=2.50,rejected_calls=2,failed_calls=4");
  EXPECT_EQ(info.values.count("cmdstat_set"), 1u);
  EXPECT_EQ(info.values.size(), 2u);
}

TEST(InfoRenderer, PoolAndBackendSectionsCarryRegistryFieldsAndLatency) {
  Info info = render({"pools", "backends"});
  EXPECT_EQ(info.values["pool_alpha_name"], "alpha");
  EXPECT_EQ(info.values["pool_alpha_listen"], "127.0.0.1:22121");
  EXPECT_EQ(info.values["pool_alpha_servers"], "2");
  for (size_t i = 0; i < std::size(kPoolStatFields); ++i) {
    EXPECT_EQ(info.values[std::string("pool_alpha_") + kPoolStatFields[i].name],
              std::to_string(10 + i));
  }
  EXPECT_EQ(info.values["pool_be_ta_x_name"], "be\"ta\\x");
  EXPECT_EQ(info.values["pool_alpha_latency_count"], "8");
  EXPECT_EQ(info.values["pool_alpha_latency_usec_sum"], "3000123");
  EXPECT_EQ(info.values["pool_alpha_latency_p50_usec_le"], "8");
  EXPECT_EQ(info.values["pool_alpha_latency_p99_usec_le"], "inf");
  EXPECT_EQ(info.values["backend_alpha_s1_address"], "127.0.0.1:6379");
  EXPECT_EQ(info.values["backend_alpha_s1_state"], "connected");
  EXPECT_EQ(info.values["backend_alpha_127_0_0_1_6380_state"], "disconnected");
  EXPECT_EQ(info.values["backend_alpha_127_0_0_1_6380_name"], "127.0.0.1:6380");
  for (size_t i = 0; i < std::size(kServerStatFields); ++i) {
    EXPECT_EQ(info.values.count(std::string("backend_alpha_s1_") + kServerStatFields[i].name), 1u);
  }
  EXPECT_EQ(info.values["backend_alpha_s1_requests"], "105");
  EXPECT_EQ(info.values["backend_alpha_s1_latency_count"], "3");
  EXPECT_EQ(info.values["backend_alpha_s1_latency_p50_usec_le"], "32");
}

TEST(InfoRenderer, KeyNamesKeepOnlyWordCharacters) {
  EXPECT_EQ(infoKeyName("127.0.0.1:6379"), "127_0_0_1_6379");
  EXPECT_EQ(infoKeyName("ok_Name9"), "ok_Name9");
  EXPECT_EQ(infoKeyName("a b,c=d"), "a_b_c_d");
}

TEST(InfoRenderer, GroupsSectionHasALinePerGroupAndPerNode) {
  Info info = parseInfo(renderInfo(snapshotWithGroup(), someProcess(), 0, {}));
  EXPECT_NE(std::find(info.sections.begin(), info.sections.end(), "Groups"), info.sections.end());
  EXPECT_EQ(info.values["alpha.g0"],
            "master=127.0.0.1:7002,master_confirmed=1,writes=open,read_from=replica,replicas=2,"
            "healthy_replicas=1,sentinels=3,reachable_sentinels=2,failovers=1,"
            "last_failover_follow_ms=1043,generation=7");
  EXPECT_EQ(info.values["alpha.g0.node0"],
            "addr=127.0.0.1:7002,role=master,health=healthy,lag_seconds=-1,rtt_usec=150,reads=0,"
            "requests=40,latency_p99_usec_le=0");
  EXPECT_EQ(info.values["alpha.g0.node2"],
            "addr=127.0.0.1:7003,role=replica,health=lagging,lag_seconds=30,rtt_usec=2500,"
            "reads=0,requests=12,latency_p99_usec_le=0");
  Info only = parseInfo(
      renderInfo(snapshotWithGroup(), someProcess(), 0, std::vector<std::string>{"GROUPS"}));
  EXPECT_EQ(only.sections, std::vector<std::string>{"Groups"});
  // Without groups there is no section, not an empty one.
  EXPECT_EQ(render({"groups"}).sections, std::vector<std::string>{});
}

TEST(InfoRenderer, EmptyProxyRendersTheProcessSections) {
  StatsSnapshot empty;
  Info info = parseInfo(renderInfo(empty, someProcess(), 0, std::vector<std::string>{"all"}));
  EXPECT_EQ(info.sections, (std::vector<std::string>{"Server", "Clients", "Memory", "Stats", "CPU",
                                                     "Commandstats", "Cluster"}));
  EXPECT_EQ(info.values["cluster_enabled"], "0");  // one standalone Redis, whatever the pools
  EXPECT_EQ(info.values["tcp_port"], "0");
  EXPECT_EQ(info.values["total_commands_processed"], "0");
}

}  // namespace
}  // namespace sy::admin
