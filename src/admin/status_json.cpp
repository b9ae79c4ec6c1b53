#include "admin/status_json.h"

#include <nlohmann/json.hpp>

namespace sy::admin {
namespace {

using nlohmann::json;

// A signed gauge where -1 means unknown.
json known(int64_t value) { return value < 0 ? json(nullptr) : json(value); }

json histogram(const common::HistogramValues& values) {
  return {{"count", values.count()}, {"sum_usec", values.sum_usec}, {"buckets", values.buckets}};
}

template <typename Stat, size_t N>
json statObject(const StatField (&fields)[N], const std::array<uint64_t, N>& values) {
  static_assert(N == common::kStatCount<Stat>);
  json out = json::object();
  for (size_t i = 0; i < N; ++i) out[fields[i].name] = values[i];
  return out;
}

json pool(const PoolStats& pool) {
  json commands = json::array();
  for (const CommandStats& command : pool.commands) {
    json entry = statObject<CommandStat>(kCommandStatFields, command.values);
    entry["name"] = command.name;
    commands.push_back(std::move(entry));
  }
  json servers = json::array();
  for (const ServerStats& server : pool.servers) {
    servers.push_back({{"name", server.name},
                       {"address", server.address},
                       {"stats", statObject<ServerStat>(kServerStatFields, server.values)},
                       {"latency", histogram(server.latency)}});
  }
  return {{"name", pool.name},
          {"listen", pool.listen},
          {"stats", statObject<PoolStat>(kPoolStatFields, pool.values)},
          {"clients_idle_closed", pool.clients_idle_closed},
          {"requests_over_limit", pool.requests_over_limit},
          {"latency", histogram(pool.latency)},
          {"commands", std::move(commands)},
          {"servers", std::move(servers)}};
}

json group(const GroupStats& group) {
  json nodes = json::array();
  for (const GroupNodeStats& node : group.nodes) {
    nodes.push_back({{"address", node.address},
                     {"role", node.role},
                     {"health", node.health},
                     {"lag_seconds", known(node.lag_seconds)},
                     {"rtt_usec", known(node.rtt_usec)},
                     {"serves_reads", node.serves_reads},
                     {"requests", node.requests},
                     {"latency", histogram(node.latency)}});
  }
  return {{"pool", group.pool},
          {"name", group.name},
          {"slots", known(group.slots)},
          {"master", group.master},
          {"master_confirmed", group.master_confirmed},
          {"writes", group.writes},
          {"read_from", group.read_from},
          {"replicas", group.replicas},
          {"healthy_replicas", group.healthy_replicas},
          {"sentinels", group.sentinels},
          {"reachable_sentinels", group.reachable_sentinels},
          {"failovers", group.failovers},
          {"last_failover_follow_ms", known(group.last_failover_follow_ms)},
          {"generation", group.generation},
          {"nodes", std::move(nodes)}};
}

json cluster(const ClusterStats& cluster) {
  return {{"pool", cluster.pool},
          {"generation", cluster.generation},
          {"shards", cluster.shards},
          {"slots_served", cluster.slots_served},
          {"nodes", cluster.nodes},
          {"refreshes", cluster.refreshes},
          {"refresh_failures", cluster.refresh_failures},
          {"last_refresh_usec", known(cluster.last_refresh_usec)},
          {"source", cluster.source},
          {"moved", cluster.moved},
          {"ask", cluster.ask},
          {"retries", cluster.retries}};
}

}  // namespace

std::string renderStatusJson(const StatsSnapshot& snapshot, const ProcessInfo& process) {
  json doc = {{"version", process.version},
              {"pid", process.pid},
              {"config_file", process.config_file},
              {"timestamp", snapshot.timestamp},
              {"uptime_seconds", snapshot.uptime_seconds},
              {"threads", snapshot.threads},
              {"connections",
               {{"total", snapshot.total_connections},
                {"current", snapshot.curr_connections},
                {"rejected", snapshot.rejected_connections}}},
              {"usage",
               {{"cpu_user_seconds", snapshot.usage.cpu_user_seconds},
                {"cpu_system_seconds", snapshot.usage.cpu_system_seconds},
                {"resident_bytes", snapshot.usage.resident_bytes},
                {"open_fds", snapshot.usage.open_fds},
                {"max_fds", snapshot.usage.max_fds}}}};
  json& pools = doc["pools"] = json::array();
  for (const PoolStats& p : snapshot.pools) pools.push_back(pool(p));
  json& groups = doc["groups"] = json::array();
  for (const GroupStats& g : snapshot.groups) groups.push_back(group(g));
  json& clusters = doc["clusters"] = json::array();
  for (const ClusterStats& c : snapshot.clusters) clusters.push_back(cluster(c));
  // Replace, not throw, on invalid UTF-8 in a name: a status page must always render.
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace sy::admin
