// The Prometheus renderer, checked by parsing its own output as a scraper would.
#include "admin/prometheus.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "snapshot_fixture.h"

namespace sy::admin {
namespace {

struct Sample {
  std::string name;
  std::string labels;  // as written, without braces
  std::string value;
};

struct Family {
  std::string help;
  std::string type;
  std::vector<Sample> samples;
};

struct Exposition {
  std::map<std::string, Family> families;
  std::vector<std::string> errors;
};

// The family a sample name belongs to: histogram series carry a suffix.
std::string familyOf(const std::map<std::string, Family>& families, const std::string& name) {
  for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (name.ends_with(suffix)) {
      std::string base = name.substr(0, name.size() - suffix.size());
      auto it = families.find(base);
      if (it != families.end() && it->second.type == "histogram") return base;
    }
  }
  return name;
}

Exposition parse(const std::string& text) {
  Exposition out;
  static const std::regex kHelp(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+))");
  static const std::regex kType(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
  static const std::regex kSample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\})? ([-+0-9.e]+|\+Inf|NaN))");
  std::set<std::string> series;
  std::set<std::string> closed;  // families whose samples have ended
  std::string current;
  std::istringstream lines(text);
  std::string line;
  std::smatch match;
  EXPECT_TRUE(text.ends_with("\n"));
  while (std::getline(lines, line)) {
    if (std::regex_match(line, match, kHelp)) {
      if (out.families.count(match[1]) != 0) out.errors.push_back("second HELP: " + line);
      out.families[match[1]].help = match[2];
    } else if (std::regex_match(line, match, kType)) {
      Family& family = out.families[match[1]];
      if (family.help.empty()) out.errors.push_back("TYPE before HELP: " + line);
      family.type = match[2];
    } else if (std::regex_match(line, match, kSample)) {
      std::string name = familyOf(out.families, match[1]);
      auto it = out.families.find(name);
      if (it == out.families.end() || it->second.type.empty()) {
        out.errors.push_back("sample without HELP/TYPE: " + line);
        continue;
      }
      if (name != current) {
        if (closed.count(name) != 0) out.errors.push_back("family split: " + line);
        if (!current.empty()) closed.insert(current);
        current = name;
      }
      if (!series.insert(std::string(match[1]) + "{" + std::string(match[3]) + "}").second) {
        out.errors.push_back("duplicate series: " + line);
      }
      it->second.samples.push_back({match[1], match[3], match[4]});
    } else {
      out.errors.push_back("unparsable: " + line);
    }
  }
  return out;
}

// Labels without le="...".
std::string withoutLe(const std::string& labels) {
  return std::regex_replace(labels, std::regex(R"(,?le="[^"]*")"), "");
}

TEST(Prometheus, EveryLineParsesAndEveryFamilyIsWellFormed) {
  std::string text = renderPrometheus(busySnapshot(), someProcess());
  Exposition exposition = parse(text);
  for (const std::string& error : exposition.errors) ADD_FAILURE() << error;
  ASSERT_FALSE(exposition.families.empty());
  for (const auto& [name, family] : exposition.families) {
    EXPECT_TRUE(name.starts_with("switchyard_")) << name;
    EXPECT_FALSE(family.help.empty()) << name;
    EXPECT_FALSE(family.type.empty()) << name;
    EXPECT_EQ(family.type == "counter", name.ends_with("_total")) << name;
    EXPECT_FALSE(family.samples.empty()) << name;
  }
}

TEST(Prometheus, GroupFamiliesParseAndCarryGroupAndNodeLabels) {
  std::string text = renderPrometheus(snapshotWithGroup(), someProcess());
  Exposition exposition = parse(text);
  for (const std::string& error : exposition.errors) ADD_FAILURE() << error;
  for (const char* name : {"switchyard_group_master_confirmed", "switchyard_group_writes_open",
                           "switchyard_group_failovers_total", "switchyard_node_lag_seconds",
                           "switchyard_node_requests_total"}) {
    EXPECT_TRUE(exposition.families.contains(name)) << name;
  }
  EXPECT_NE(text.find("switchyard_group_failovers_total{pool=\"alpha\",group=\"g0\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("switchyard_group_last_failover_follow_seconds{pool=\"alpha\",group=\"g0\"} "
                      "1.043\n"),
            std::string::npos);
  EXPECT_NE(text.find("switchyard_node_lag_seconds{pool=\"alpha\",group=\"g0\",node=\"127.0.0.1:"
                      "7003\",role=\"replica\",health=\"lagging\"} 30\n"),
            std::string::npos);
  // No group, no group family.
  EXPECT_EQ(renderPrometheus(busySnapshot(), someProcess()).find("switchyard_group_"),
            std::string::npos);
}

TEST(Prometheus, HistogramsAreCumulativeEndWithInfAndCountMatches) {
  Exposition exposition = parse(renderPrometheus(busySnapshot(), someProcess()));
  size_t histograms = 0;
  for (const auto& [name, family] : exposition.families) {
    if (family.type != "histogram") continue;
    ++histograms;
    std::map<std::string, std::vector<const Sample*>> buckets;
    std::map<std::string, std::string> counts;
    std::map<std::string, std::string> sums;
    for (const Sample& sample : family.samples) {
      std::string series = withoutLe(sample.labels);
      if (sample.name == name + "_bucket") buckets[series].push_back(&sample);
      if (sample.name == name + "_count") counts[series] = sample.value;
      if (sample.name == name + "_sum") sums[series] = sample.value;
    }
    ASSERT_FALSE(buckets.empty()) << name;
    for (const auto& [series, list] : buckets) {
      ASSERT_EQ(list.size(), common::LatencyHistogram::kBuckets) << series;
      double previous_le = 0;
      uint64_t previous = 0;
      for (size_t i = 0; i < list.size(); ++i) {
        std::smatch le;
        ASSERT_TRUE(std::regex_search(list[i]->labels, le, std::regex(R"re(le="([^"]+)")re")));
        if (i + 1 == list.size()) {
          EXPECT_EQ(le[1], "+Inf") << series;
        } else {
          double bound = std::stod(le[1]);
          EXPECT_GT(bound, previous_le) << series;
          previous_le = bound;
        }
        uint64_t value = std::stoull(list[i]->value);
        EXPECT_GE(value, previous) << series;
        previous = value;
      }
      EXPECT_EQ(counts[series], list.back()->value) << series;
      EXPECT_FALSE(sums[series].empty()) << series;
    }
  }
  EXPECT_EQ(histograms, 2u);
}

TEST(Prometheus, ValuesTypesAndLabelsComeFromTheSnapshot) {
  std::string text = renderPrometheus(busySnapshot(), someProcess());
  EXPECT_NE(text.find("# TYPE switchyard_pool_client_connections gauge\n"), std::string::npos);
  EXPECT_NE(text.find("switchyard_pool_client_connections{pool=\"alpha\"} 12\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE switchyard_pool_client_eof_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("switchyard_pool_client_eof_total{pool=\"be\\\"ta\\\\x\"} 20\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE switchyard_server_connections gauge\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE switchyard_server_ejected_at gauge\n"), std::string::npos);
  EXPECT_NE(text.find("switchyard_server_requests_total{pool=\"alpha\",server=\"s1\"} 105\n"),
            std::string::npos);
  EXPECT_NE(text.find("switchyard_server_in_queue{pool=\"alpha\",server=\"127.0.0.1:6380\"} 209\n"),
            std::string::npos);
  EXPECT_NE(text.find("switchyard_command_calls_total{pool=\"alpha\",command=\"get\"} 4\n"),
            std::string::npos);
  EXPECT_NE(
      text.find(
          "switchyard_command_duration_seconds_total{pool=\"alpha\",command=\"set\"} 1e-05\n"),
      std::string::npos);
  EXPECT_NE(text.find("switchyard_info{version=\"1.2.3\",redis_version=\"7.0.15\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("switchyard_threads 4\n"), std::string::npos);
  EXPECT_NE(text.find("switchyard_process_cpu_seconds_total 1.75\n"), std::string::npos);
  EXPECT_NE(text.find("switchyard_process_resident_memory_bytes 1048576\n"), std::string::npos);
  EXPECT_NE(text.find("switchyard_process_open_fds 12\n"), std::string::npos);
  EXPECT_NE(text.find("switchyard_uptime_seconds 90061\n"), std::string::npos);
  EXPECT_NE(text.find("switchyard_connections_received_total 17\n"), std::string::npos);
  EXPECT_NE(text.find("switchyard_rejected_connections_total 2\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE switchyard_scripts_carried gauge\nswitchyard_scripts_carried 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("switchyard_scripts_carried_bytes 120\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE switchyard_scripts_reloaded_total counter\n"
                      "switchyard_scripts_reloaded_total 21\n"),
            std::string::npos);
  EXPECT_NE(text.find("switchyard_scripts_reload_errors_total 1\n"), std::string::npos);
  EXPECT_NE(text.find("switchyard_scripts_not_carried_total 5\n"), std::string::npos);
  // Bucket 3 holds (4, 8] us: le 8e-06 is cumulative 5; the +Inf bucket counts all 8.
  EXPECT_NE(
      text.find("switchyard_pool_request_duration_seconds_bucket{pool=\"alpha\",le=\"8e-06\"} 5\n"),
      std::string::npos);
  EXPECT_NE(
      text.find("switchyard_pool_request_duration_seconds_bucket{pool=\"alpha\",le=\"+Inf\"} 8\n"),
      std::string::npos);
  EXPECT_NE(text.find("switchyard_pool_request_duration_seconds_sum{pool=\"alpha\"} 3.000123\n"),
            std::string::npos);
}

TEST(Prometheus, EveryRegistryFieldIsExported) {
  Exposition exposition = parse(renderPrometheus(busySnapshot(), someProcess()));
  auto has = [&](const std::string& name, const std::string& type) {
    auto it = exposition.families.find(name);
    return it != exposition.families.end() && it->second.type == type;
  };
  for (const StatField& field : kPoolStatFields) {
    std::string suffix = field.kind == StatKind::kCounter ? "_total" : "";
    EXPECT_TRUE(has(std::string("switchyard_pool_") + field.name + suffix,
                    field.kind == StatKind::kCounter ? "counter" : "gauge"))
        << field.name;
  }
  for (const StatField& field : kServerStatFields) {
    std::string name = field.name;
    if (name.starts_with("server_")) name = name.substr(7);
    std::string suffix = field.kind == StatKind::kCounter ? "_total" : "";
    EXPECT_TRUE(has("switchyard_server_" + name + suffix,
                    field.kind == StatKind::kCounter ? "counter" : "gauge"))
        << field.name;
  }
}

TEST(Prometheus, EmptyProxyStillDeclaresEveryFamily) {
  StatsSnapshot empty;
  Exposition exposition = parse(renderPrometheus(empty, someProcess()));
  for (const std::string& error : exposition.errors) ADD_FAILURE() << error;
  EXPECT_TRUE(exposition.families.count("switchyard_command_calls_total"));
}

TEST(Prometheus, InfluxPushCountersOnlyWhenThePusherRuns) {
  StatsSnapshot snapshot = busySnapshot();
  EXPECT_FALSE(parse(renderPrometheus(snapshot, someProcess()))
                   .families.count("switchyard_influxdb_batches_sent_total"));
  snapshot.influx_push = {true, 7, 2, 1, 3, 5000};
  Exposition exposition = parse(renderPrometheus(snapshot, someProcess()));
  for (const std::string& error : exposition.errors) ADD_FAILURE() << error;
  const std::pair<const char*, const char*> expected[] = {
      {"switchyard_influxdb_batches_sent_total", "7"},
      {"switchyard_influxdb_batches_failed_total", "2"},
      {"switchyard_influxdb_batches_dropped_total", "1"},
      {"switchyard_influxdb_queued_batches", "3"},
      {"switchyard_influxdb_last_batch_bytes", "5000"}};
  for (const auto& [name, value] : expected) {
    ASSERT_TRUE(exposition.families.count(name)) << name;
    ASSERT_EQ(exposition.families.at(name).samples.size(), 1u) << name;
    EXPECT_EQ(exposition.families.at(name).samples[0].value, value) << name;
  }
}

TEST(Prometheus, LabelValuesAreEscaped) {
  EXPECT_EQ(escapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(escapeLabelValue("plain:6379"), "plain:6379");
}

}  // namespace
}  // namespace sy::admin
