// The InfluxDB line-protocol renderer, checked by splitting its own output as InfluxDB would.
#include "admin/influx_line.h"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "snapshot_fixture.h"

namespace sy::admin {
namespace {

constexpr int64_t kTime = 1700000000123456789;

struct Line {
  std::string measurement;
  std::map<std::string, std::string> tags;    // unescaped
  std::map<std::string, std::string> fields;  // values as written
  std::string timestamp;
};

// Splits `text` at the unescaped `separator`s (outside double quotes when `quotes`: only field
// values are quoted; a '"' in a tag is an ordinary character).
std::vector<std::string> split(const std::string& text, char separator, bool quotes = true) {
  std::vector<std::string> parts(1);
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      parts.back() += text.substr(i, 2);
      ++i;
      continue;
    }
    if (c == '"' && quotes) quoted = !quoted;
    if (c == separator && !quoted) {
      parts.emplace_back();
    } else {
      parts.back() += c;
    }
  }
  return parts;
}

std::string unescape(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) ++i;
    out += text[i];
  }
  return out;
}

std::vector<Line> parse(const std::string& text) {
  std::vector<Line> lines;
  EXPECT_TRUE(text.ends_with("\n"));
  std::istringstream in(text);
  std::string raw;
  while (std::getline(in, raw)) {
    std::vector<std::string> key = split(raw, ' ', false);
    std::string rest = raw.substr(std::min(raw.size(), key[0].size() + 1));
    std::vector<std::string> sections = split(rest, ' ');
    EXPECT_EQ(sections.size(), 2u) << raw;
    if (sections.size() != 2) continue;
    Line line;
    std::vector<std::string> series = split(key[0], ',', false);
    line.measurement = unescape(series[0]);
    for (size_t i = 1; i < series.size(); ++i) {
      std::vector<std::string> pair = split(series[i], '=', false);
      EXPECT_EQ(pair.size(), 2u) << raw;
      EXPECT_FALSE(pair.back().empty()) << raw;
      line.tags[unescape(pair[0])] = unescape(pair.back());
    }
    for (const std::string& field : split(sections[0], ',')) {
      std::vector<std::string> pair = split(field, '=');
      EXPECT_EQ(pair.size(), 2u) << raw;
      line.fields[unescape(pair[0])] = pair.back();
    }
    line.timestamp = sections[1];
    lines.push_back(line);
  }
  return lines;
}

StatsSnapshot everyFamily() {
  StatsSnapshot snapshot = snapshotWithGroup();
  ClusterStats cluster;
  cluster.pool = "alpha";
  cluster.generation = 3;
  cluster.shards = 3;
  cluster.slots_served = 16384;
  cluster.source = "127.0.0.1:7000";
  cluster.moved = 5;
  snapshot.clusters.push_back(cluster);
  snapshot.influx_push = {true, 7, 2, 1, 0, 5000};
  return snapshot;
}

const Line* find(const std::vector<Line>& lines, const std::string& measurement,
                 const std::map<std::string, std::string>& tags) {
  for (const Line& line : lines) {
    if (line.measurement != measurement) continue;
    bool all = true;
    for (const auto& [key, value] : tags) {
      auto it = line.tags.find(key);
      all = all && it != line.tags.end() && it->second == value;
    }
    if (all) return &line;
  }
  return nullptr;
}

TEST(InfluxLine, EveryFamilyIsWrittenWithOneTimestampAndTheHostTag) {
  std::vector<Line> lines =
      parse(renderInfluxLines(everyFamily(), someProcess(), "proxy-1", kTime));
  std::map<std::string, int> counts;
  for (const Line& line : lines) {
    ++counts[line.measurement];
    EXPECT_EQ(line.timestamp, "1700000000123456789");
    EXPECT_EQ(line.tags.at("host"), "proxy-1");
  }
  EXPECT_EQ(counts["switchyard_process"], 1);
  EXPECT_EQ(counts["switchyard_pool"], 2);
  EXPECT_EQ(counts["switchyard_server"], 4);
  EXPECT_EQ(counts["switchyard_command"], 4);
  EXPECT_EQ(counts["switchyard_group"], 1);
  EXPECT_EQ(counts["switchyard_node"], 3);
  EXPECT_EQ(counts["switchyard_cluster"], 1);
  EXPECT_EQ(counts.size(), 7u);
}

TEST(InfluxLine, EveryRegistryFieldIsAnIntegerWithTheSuffix) {
  std::vector<Line> lines = parse(renderInfluxLines(everyFamily(), someProcess(), "h", kTime));
  const Line* pool = find(lines, "switchyard_pool", {{"pool", "alpha"}});
  ASSERT_NE(pool, nullptr);
  for (size_t i = 0; i < std::size(kPoolStatFields); ++i) {
    EXPECT_EQ(pool->fields.at(kPoolStatFields[i].name), std::to_string(10 + i) + "i");
  }
  EXPECT_EQ(pool->fields.at("latency_count"), "8i");
  EXPECT_EQ(pool->fields.at("latency_sum_usec"), "3000123i");
  EXPECT_EQ(pool->fields.at("latency_p50_usec"), "8i");    // bucket 3: up to 8 us
  EXPECT_EQ(pool->fields.count("latency_p999_usec"), 0u);  // past the last bucket
  const Line* server = find(lines, "switchyard_server", {{"pool", "alpha"}, {"server", "s1"}});
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->tags.at("address"), "127.0.0.1:6379");
  for (const StatField& field : kServerStatFields) EXPECT_TRUE(server->fields.count(field.name));
  EXPECT_EQ(server->fields.at("requests"), "105i");
  const Line* get = find(lines, "switchyard_command", {{"pool", "alpha"}, {"command", "get"}});
  ASSERT_NE(get, nullptr);
  for (const StatField& field : kCommandStatFields) EXPECT_EQ(get->fields.count(field.name), 1u);
  EXPECT_EQ(get->fields.at("calls"), "4i");
}

TEST(InfluxLine, ProcessGroupNodeAndClusterFields) {
  std::vector<Line> lines = parse(renderInfluxLines(everyFamily(), someProcess(), "h", kTime));
  const Line* process = find(lines, "switchyard_process", {});
  ASSERT_NE(process, nullptr);
  EXPECT_EQ(process->fields.at("version"), "\"1.2.3\"");
  EXPECT_EQ(process->fields.at("cpu_user_seconds"), "1.5");  // a float: no suffix
  EXPECT_EQ(process->fields.at("threads"), "4i");
  EXPECT_EQ(process->fields.at("influxdb_batches_sent"), "7i");
  EXPECT_EQ(process->fields.at("influxdb_batches_dropped"), "1i");
  const Line* group = find(lines, "switchyard_group", {{"pool", "alpha"}, {"group", "g0"}});
  ASSERT_NE(group, nullptr);
  EXPECT_EQ(group->fields.at("master"), "\"127.0.0.1:7002\"");
  EXPECT_EQ(group->fields.at("master_confirmed"), "1i");
  EXPECT_EQ(group->fields.at("failovers"), "1i");
  const Line* lagging =
      find(lines, "switchyard_node", {{"node", "127.0.0.1:7003"}, {"role", "replica"}});
  ASSERT_NE(lagging, nullptr);
  EXPECT_EQ(lagging->fields.at("health"), "\"lagging\"");
  EXPECT_EQ(lagging->fields.at("lag_seconds"), "30i");
  EXPECT_EQ(lagging->fields.at("serves_reads"), "0i");
  const Line* cluster = find(lines, "switchyard_cluster", {{"pool", "alpha"}});
  ASSERT_NE(cluster, nullptr);
  EXPECT_EQ(cluster->fields.at("slots_served"), "16384i");
  EXPECT_EQ(cluster->fields.at("last_refresh_usec"), "-1i");
}

TEST(InfluxLine, KeysMeasurementsAndStringsAreEscaped) {
  EXPECT_EQ(escapeInfluxKey("a b,c=d"), "a\\ b\\,c\\=d");
  EXPECT_EQ(escapeInfluxKey("two\nlines"), "two\\ lines");
  EXPECT_EQ(escapeInfluxMeasurement("m x,y=z"), "m\\ x\\,y=z");
  EXPECT_EQ(quoteInfluxString("say \"hi\" \\o/"), "\"say \\\"hi\\\" \\\\o/\"");
  StatsSnapshot snapshot = busySnapshot();
  snapshot.pools[0].name = "my pool,x=1";
  std::string text = renderInfluxLines(snapshot, someProcess(), "h", kTime);
  EXPECT_NE(text.find("switchyard_pool,host=h,pool=my\\ pool\\,x\\=1 client_eof=10i,"),
            std::string::npos)
      << text;
  std::vector<Line> lines = parse(text);
  EXPECT_NE(find(lines, "switchyard_pool", {{"pool", "my pool,x=1"}}), nullptr);
}

TEST(InfluxLine, EmptyTagsAreLeftOutAndHugeCountersClamped) {
  StatsSnapshot snapshot = busySnapshot();
  snapshot.pools[0].servers[0].address.clear();
  snapshot.pools[0][PoolStat::client_eof] = std::numeric_limits<uint64_t>::max();
  std::string text = renderInfluxLines(snapshot, someProcess(), "", kTime);
  EXPECT_EQ(text.find(",host="), std::string::npos);
  EXPECT_NE(text.find("switchyard_server,pool=alpha,server=s1 "), std::string::npos) << text;
  EXPECT_NE(text.find("client_eof=9223372036854775807i"), std::string::npos);
}

TEST(InfluxLine, AnEmptyProxyWritesOnlyItsProcessPoint) {
  std::vector<Line> lines = parse(renderInfluxLines({}, someProcess(), "h", kTime));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].measurement, "switchyard_process");
  EXPECT_EQ(lines[0].fields.count("influxdb_batches_sent"), 0u);  // the pusher is off
}

}  // namespace
}  // namespace sy::admin
