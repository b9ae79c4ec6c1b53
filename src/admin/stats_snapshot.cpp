#include "admin/stats_snapshot.h"

#include <fmt/format.h>

namespace sy::admin {
namespace {

uint64_t& at(PoolStats& pool, PoolStat stat) { return pool.values[static_cast<size_t>(stat)]; }
uint64_t& at(ServerStats& server, ServerStat stat) {
  return server.values[static_cast<size_t>(stat)];
}

void addPoolCounters(PoolStats& pool, const server::PoolCounters& counters) {
  at(pool, PoolStat::client_eof) += counters.client_eof.get();
  at(pool, PoolStat::client_err) += counters.client_err.get();
  at(pool, PoolStat::client_connections) += counters.client_connections.get();
  at(pool, PoolStat::forward_error) += counters.forward_error.get();
  at(pool, PoolStat::fragments) += counters.fragments.get();
}

void addServerCounters(ServerStats& server, const backend::BackendCounters& counters) {
  at(server, ServerStat::server_eof) += counters.server_eof.get();
  at(server, ServerStat::server_err) += counters.server_err.get();
  at(server, ServerStat::server_timedout) += counters.server_timedout.get();
  at(server, ServerStat::server_connections) += counters.server_connections.get();
  at(server, ServerStat::requests) += counters.requests.get();
  at(server, ServerStat::request_bytes) += counters.request_bytes.get();
  at(server, ServerStat::responses) += counters.responses.get();
  at(server, ServerStat::response_bytes) += counters.response_bytes.get();
  at(server, ServerStat::in_queue) += counters.in_queue.get();
  at(server, ServerStat::in_queue_bytes) += counters.in_queue_bytes.get();
  at(server, ServerStat::out_queue) += counters.out_queue.get();
  at(server, ServerStat::out_queue_bytes) += counters.out_queue_bytes.get();
}

// JSON string escaping for names that come from the config file.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

StatsSnapshot collectStats(const server::Proxy& proxy, const topology::Topology& topology) {
  StatsSnapshot snapshot;
  const server::ProxyStats& stats = proxy.stats();
  snapshot.uptime_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(common::now() - stats.started).count();
  snapshot.timestamp = common::unixSeconds();
  snapshot.total_connections = stats.total_connections.load(std::memory_order_relaxed);
  int64_t current = stats.curr_connections.load(std::memory_order_relaxed);
  snapshot.curr_connections = current > 0 ? static_cast<uint64_t>(current) : 0;
  // Counters are found by name, so a snapshot taken after a topology swap sums the right
  // blocks whatever the pools' and servers' new indexes.
  for (const auto& pool : topology.pools()) {
    PoolStats pool_stats;
    pool_stats.name = pool.config->name;
    for (const auto& worker : proxy.workers()) {
      const server::PoolCounters* counters = worker->counters().findPool(pool_stats.name);
      if (counters != nullptr) addPoolCounters(pool_stats, *counters);
    }
    at(pool_stats, PoolStat::server_ejects) = pool.server_ejects;
    for (const auto& server : pool.servers) {
      ServerStats server_stats{server.stats_name, {}};
      at(server_stats, ServerStat::server_ejected_at) =
          static_cast<uint64_t>(server.ejected_at_usec);
      for (const auto& worker : proxy.workers()) {
        const backend::BackendCounters* counters =
            worker->counters().findServer(pool_stats.name, server.stats_name);
        if (counters != nullptr) addServerCounters(server_stats, *counters);
      }
      pool_stats.servers.push_back(std::move(server_stats));
    }
    snapshot.pools.push_back(std::move(pool_stats));
  }
  return snapshot;
}

std::string renderTwemproxyJson(const StatsSnapshot& snapshot, const std::string& source,
                                const std::string& version) {
  std::string out = fmt::format(
      "{{\"service\":\"switchyard\", \"source\":{}, \"version\":{}, \"uptime\":{}, "
      "\"timestamp\":{}, \"total_connections\":{}, \"curr_connections\":{}",
      quoted(source), quoted(version), snapshot.uptime_seconds, snapshot.timestamp,
      snapshot.total_connections, snapshot.curr_connections);
  for (const PoolStats& pool : snapshot.pools) {
    out += fmt::format(", {}: {{", quoted(pool.name));
    for (size_t i = 0; i < pool.values.size(); ++i) {
      out +=
          fmt::format("{}\"{}\":{}", i == 0 ? "" : ", ", kPoolStatFields[i].name, pool.values[i]);
    }
    for (const ServerStats& server : pool.servers) {
      out += fmt::format(", {}: {{", quoted(server.name));
      for (size_t i = 0; i < server.values.size(); ++i) {
        out += fmt::format("{}\"{}\":{}", i == 0 ? "" : ", ", kServerStatFields[i].name,
                           server.values[i]);
      }
      out += "}";
    }
    out += "}";
  }
  out += "}";
  return out;
}

std::string describeStats() {
  auto kindName = [](StatKind kind) {
    switch (kind) {
      case StatKind::kCounter:
        return "counter";
      case StatKind::kGauge:
        return "gauge";
      case StatKind::kTimestamp:
        return "timestamp";
    }
    return "";
  };
  std::string out = "pool stats:\n";
  for (const StatField& field : kPoolStatFields) {
    out +=
        fmt::format("  {:<20}{:<11}\"{}\"\n", field.name, kindName(field.kind), field.description);
  }
  out += "\nserver stats:\n";
  for (const StatField& field : kServerStatFields) {
    out +=
        fmt::format("  {:<20}{:<11}\"{}\"\n", field.name, kindName(field.kind), field.description);
  }
  return out;
}

}  // namespace sy::admin
