#include "admin/stats_snapshot.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "command/command.h"

namespace sy::admin {
namespace {

void addPoolCounters(PoolStats& pool, const server::PoolCounters& counters) {
  for (size_t i = 0; i < pool.values.size(); ++i) pool.values[i] += counters.at(i).get();
  pool.latency.add(counters.latency);
  pool.clients_idle_closed += counters.clients_idle_closed.get();
  pool.requests_over_limit += counters.requests_over_limit.get();
}

void addServerCounters(ServerStats& server, const backend::BackendCounters& counters) {
  for (size_t i = 0; i < server.values.size(); ++i) server.values[i] += counters.at(i).get();
  server.latency.add(counters.latency);
}

// Sums every worker's command counters of one pool into `out` (indexed by command id).
void addCommandCounters(std::vector<CommandStats>& out, const server::PoolCounters& counters) {
  for (size_t id = 0; id < out.size(); ++id) {
    for (size_t i = 0; i < out[id].values.size(); ++i) {
      out[id].values[i] += counters.commands[id].at(i).get();
    }
  }
}

// Keeps the commands with a non-zero counter, naming them.
std::vector<CommandStats> usedCommands(std::vector<CommandStats>& all) {
  std::vector<CommandStats> used;
  for (size_t id = 0; id < all.size(); ++id) {
    bool any = false;
    for (uint64_t value : all[id].values) any = any || value != 0;
    if (!any) continue;
    all[id].id = static_cast<uint16_t>(id);
    all[id].name = std::string(command::commandById(static_cast<uint16_t>(id)).name);
    used.push_back(std::move(all[id]));
  }
  return used;
}

// JSON string escaping for names that come from the config file.
std::string jsonQuoted(std::string_view text) {
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

ProcessUsage readProcessUsage() {
  ProcessUsage usage;
  rusage self{};
  if (::getrusage(RUSAGE_SELF, &self) == 0) {
    usage.cpu_user_seconds =
        static_cast<double>(self.ru_utime.tv_sec) + self.ru_utime.tv_usec / 1e6;
    usage.cpu_system_seconds =
        static_cast<double>(self.ru_stime.tv_sec) + self.ru_stime.tv_usec / 1e6;
  }
  std::ifstream statm("/proc/self/statm");
  uint64_t size_pages = 0;
  uint64_t resident_pages = 0;
  if (statm >> size_pages >> resident_pages) {
    usage.resident_bytes = resident_pages * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  }
  std::error_code error;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++usage.open_fds;
  }
  if (usage.open_fds > 0) --usage.open_fds;  // the directory iterator's own descriptor
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) usage.max_fds = limit.rlim_cur;
  return usage;
}

StatsSnapshot collectStats(const server::Proxy& proxy, const topology::Topology& topology) {
  StatsSnapshot snapshot;
  const server::ProxyStats& stats = proxy.stats();
  snapshot.uptime_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(common::now() - stats.started).count();
  snapshot.timestamp = common::unixSeconds();
  snapshot.total_connections = stats.total_connections.load(std::memory_order_relaxed);
  int64_t current = stats.curr_connections.load(std::memory_order_relaxed);
  snapshot.curr_connections = current > 0 ? static_cast<uint64_t>(current) : 0;
  snapshot.rejected_connections = stats.rejected_connections.load(std::memory_order_relaxed);
  snapshot.pubsub_resubscribes = stats.resubscribes.load(std::memory_order_relaxed);
  snapshot.blocked_resends = stats.blocked_resends.load(std::memory_order_relaxed);
  snapshot.scripts_carried = stats.scripts.count();
  snapshot.scripts_carried_bytes = stats.scripts.bytes();
  snapshot.scripts_reloaded = stats.scripts.reloaded.load(std::memory_order_relaxed);
  snapshot.scripts_reload_errors = stats.scripts.reload_errors.load(std::memory_order_relaxed);
  snapshot.scripts_not_carried = stats.scripts.not_carried.load(std::memory_order_relaxed);
  snapshot.threads = proxy.workers().size();
  snapshot.usage = readProcessUsage();
  // Counters are found by name, so a snapshot taken after a topology swap sums the right
  // blocks whatever the pools' and servers' new indexes.
  for (const auto& pool : topology.pools()) {
    PoolStats pool_stats;
    pool_stats.name = pool.config->name;
    pool_stats.listen = pool.config->listen.toString();
    pool_stats.port = pool.config->listen.isUnix() ? 0 : pool.config->listen.port;
    std::vector<CommandStats> commands(command::commandIdCount());
    for (const auto& worker : proxy.workers()) {
      const server::PoolCounters* counters = worker->counters().findPool(pool_stats.name);
      if (counters == nullptr) continue;
      addPoolCounters(pool_stats, *counters);
      addCommandCounters(commands, *counters);
    }
    pool_stats.commands = usedCommands(commands);
    pool_stats[PoolStat::server_ejects] = pool.server_ejects;
    for (const auto& server : pool.servers) {
      ServerStats server_stats;
      server_stats.name = server.stats_name;
      server_stats.address = server.address_text;
      for (const auto& worker : proxy.workers()) {
        const backend::BackendCounters* counters =
            worker->counters().findServer(pool_stats.name, server.stats_name);
        if (counters != nullptr) addServerCounters(server_stats, *counters);
      }
      server_stats[ServerStat::server_ejected_at] = static_cast<uint64_t>(server.ejected_at_usec);
      pool_stats.servers.push_back(std::move(server_stats));
    }
    snapshot.pools.push_back(std::move(pool_stats));
  }
  // As nutcracker counts them: every connection object, so each pool's listening socket
  // and every server connection count too, besides the clients. Server connections are
  // summed over every block ever created, so a server a reload removed (whose retired
  // connections may still be open) keeps counting.
  for (const auto& worker : proxy.workers()) {
    worker->counters().forEachServer([&](const backend::BackendCounters& counters) {
      snapshot.total_connections += counters.connects.get();
      snapshot.curr_connections += counters[ServerStat::server_connections].get();
    });
  }
  snapshot.total_connections += snapshot.pools.size();
  snapshot.curr_connections += snapshot.pools.size();
  snapshot.groups = collectGroups(proxy, topology);
  snapshot.clusters = collectClusters(proxy, topology);
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

void beginObject(std::string& out, std::string_view name) { out += jsonQuoted(name) + ": {"; }

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
      jsonQuoted(source), jsonQuoted(version), snapshot.uptime_seconds, snapshot.timestamp,
      snapshot.total_connections, snapshot.curr_connections);
  for (const PoolStats* pool : inNutcrackerOrder(snapshot.pools)) {
    beginObject(out, pool->name);
    for (size_t i = 0; i < pool->values.size(); ++i) {
      appendValue(out, kPoolStatFields[i].name, pool->values[i]);
    }
    if (const ClusterStats* cluster = findCluster(snapshot, pool->name)) {
      appendValue(out, "cluster_moved", cluster->moved);
      appendValue(out, "cluster_ask", cluster->ask);
      appendValue(out, "cluster_retries", cluster->retries);
      appendValue(out, "cluster_refreshes", cluster->refreshes);
      appendValue(out, "cluster_slots_served", cluster->slots_served);
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
  out += "\ncommand stats (per pool and command; INFO commandstats, Prometheus):\n";
  for (const StatField& field : kCommandStatFields) {
    out +=
        fmt::format("  {:<20}{:<11}\"{}\"\n", field.name, kindName(field.kind), field.description);
  }
  out += fmt::format(
      "\nlatency histograms (per pool and per server; Prometheus, INFO):\n"
      "  {:<20}{:<11}\"{}\"\n",
      "request_latency", "histogram",
      "receipt by the proxy to reply, log2 buckets from 1 us to 2^21 us");
  return out;
}

}  // namespace sy::admin
