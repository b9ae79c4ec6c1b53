#include "admin/stats_snapshot.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

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
  for (const auto& pool : topology.pools()) {
    PoolStats pool_stats;
    pool_stats.name = pool.config->name;
    for (const auto& server : pool.servers) pool_stats.servers.push_back({server.stats_name, {}});
    snapshot.pools.push_back(std::move(pool_stats));
  }
  for (const auto& worker : proxy.workers()) {
    const auto& backends = worker->backends();
    for (size_t p = 0; p < snapshot.pools.size(); ++p) {
      PoolStats& pool_stats = snapshot.pools[p];
      addPoolCounters(pool_stats, worker->counters().pools[p]);
      size_t servers = pool_stats.servers.size();
      size_t per_server = servers == 0 ? 0 : backends[p].size() / servers;
      for (size_t c = 0; c < backends[p].size(); ++c) {
        const backend::BackendCounters& counters = backends[p][c]->counters();
        addServerCounters(pool_stats.servers[c / per_server], counters);
        snapshot.total_connections += counters.connects.get();
        snapshot.curr_connections += counters.server_connections.get();
      }
    }
  }
  // As nutcracker counts them: every connection object, so each pool's listening socket
  // and every server connection count too, besides the clients.
  snapshot.total_connections += snapshot.pools.size();
  snapshot.curr_connections += snapshot.pools.size();
  return snapshot;
}

namespace {

// nutcracker's order for pools, and for servers within a pool: its config validation sorts
// them by name with string_compare (shorter names first, then bytewise) and keeps that order.
bool nutcrackerNameLess(std::string_view a, std::string_view b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

template <typename T>
std::vector<const T*> inNutcrackerOrder(const std::vector<T>& items) {
  std::vector<const T*> ordered;
  ordered.reserve(items.size());
  for (const T& item : items) ordered.push_back(&item);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const T* a, const T* b) { return nutcrackerNameLess(a->name, b->name); });
  return ordered;
}

// nutcracker's writer (nc_stats.c), byte for byte: every value is followed by ", "; closing
// a nested object turns a trailing ", " into "}," and a trailing "}," into "}},".
void appendValue(std::string& out, std::string_view key, uint64_t value) {
  fmt::format_to(std::back_inserter(out), "\"{}\":{}, ", key, value);
}

void beginObject(std::string& out, std::string_view name) { out += quoted(name) + ": {"; }

void endObject(std::string& out) {
  if (out.ends_with(", ")) {
    out.resize(out.size() - 2);
    out += "},";
  } else {
    out.back() = '}';
    out += ',';
  }
}

}  // namespace

std::string renderTwemproxyJson(const StatsSnapshot& snapshot, const std::string& source,
                                const std::string& version) {
  std::string out = fmt::format(
      "{{\"service\":\"switchyard\", \"source\":{}, \"version\":{}, \"uptime\":{}, "
      "\"timestamp\":{}, \"total_connections\":{}, \"curr_connections\":{}, ",
      quoted(source), quoted(version), snapshot.uptime_seconds, snapshot.timestamp,
      snapshot.total_connections, snapshot.curr_connections);
  for (const PoolStats* pool : inNutcrackerOrder(snapshot.pools)) {
    beginObject(out, pool->name);
    for (size_t i = 0; i < pool->values.size(); ++i) {
      appendValue(out, kPoolStatFields[i].name, pool->values[i]);
    }
    for (const ServerStats* server : inNutcrackerOrder(pool->servers)) {
      beginObject(out, server->name);
      for (size_t i = 0; i < server->values.size(); ++i) {
        appendValue(out, kServerStatFields[i].name, server->values[i]);
      }
      endObject(out);
    }
    endObject(out);
  }
  if (out.ends_with(", ")) out.resize(out.size() - 2);  // no pools
  if (out.ends_with(",")) out.pop_back();
  return out + "}";
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
