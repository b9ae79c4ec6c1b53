#include "admin/info_renderer.h"

#include <sys/utsname.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "command/command.h"

namespace sy::admin {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A value on one line: CR and LF would end the line, so they become spaces.
std::string oneLine(std::string_view text) {
  std::string out(text);
  std::replace(out.begin(), out.end(), '\r', ' ');
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

template <typename... Args>
void line(std::string& out, fmt::format_string<Args...> format, Args&&... args) {
  fmt::format_to(std::back_inserter(out), format, std::forward<Args>(args)...);
  out += "\r\n";
}

std::string osName() {
  utsname name{};
  if (::uname(&name) != 0) return "unknown";
  return fmt::format("{} {} {}", name.sysname, name.release, name.machine);
}

void serverSection(std::string& out, const StatsSnapshot& snapshot, const ProcessInfo& process,
                   uint32_t pool_index) {
  uint16_t port = pool_index < snapshot.pools.size() ? snapshot.pools[pool_index].port : 0;
  line(out, "redis_version:{}", command::kPresentedRedisVersion);
  line(out, "switchyard_version:{}", process.version);
  line(out, "redis_mode:standalone");
  line(out, "os:{}", oneLine(osName()));
  line(out, "arch_bits:{}", sizeof(void*) * 8);
  line(out, "multiplexing_api:epoll");
  line(out, "process_id:{}", process.pid);
  line(out, "tcp_port:{}", port);
  line(out, "uptime_in_seconds:{}", snapshot.uptime_seconds);
  line(out, "uptime_in_days:{}", snapshot.uptime_seconds / 86400);
  line(out, "executable:{}", oneLine(process.executable));
  line(out, "config_file:{}", oneLine(process.config_file));
  line(out, "threads:{}", snapshot.threads);
  line(out, "pools:{}", snapshot.pools.size());
}

void clientsSection(std::string& out, const StatsSnapshot& snapshot) {
  line(out, "connected_clients:{}", snapshot.curr_connections);
}

void memorySection(std::string& out, const StatsSnapshot& snapshot) {
  line(out, "used_memory_rss:{}", snapshot.usage.resident_bytes);
  line(out, "open_fds:{}", snapshot.usage.open_fds);
  line(out, "max_fds:{}", snapshot.usage.max_fds);
}

void cpuSection(std::string& out, const StatsSnapshot& snapshot) {
  line(out, "used_cpu_sys:{:.6f}", snapshot.usage.cpu_system_seconds);
  line(out, "used_cpu_user:{:.6f}", snapshot.usage.cpu_user_seconds);
}

uint64_t commandTotal(const StatsSnapshot& snapshot, CommandStat stat) {
  uint64_t total = 0;
  for (const PoolStats& pool : snapshot.pools) {
    for (const CommandStats& command : pool.commands) total += command[stat];
  }
  return total;
}

uint64_t poolTotal(const StatsSnapshot& snapshot, PoolStat stat) {
  uint64_t total = 0;
  for (const PoolStats& pool : snapshot.pools) total += pool[stat];
  return total;
}

void statsSection(std::string& out, const StatsSnapshot& snapshot) {
  line(out, "total_connections_received:{}", snapshot.total_connections);
  line(out, "total_commands_processed:{}", commandTotal(snapshot, CommandStat::calls));
  line(out, "rejected_connections:{}", snapshot.rejected_connections);
  uint64_t idle_closed = 0;
  uint64_t over_limit = 0;
  for (const PoolStats& pool : snapshot.pools) {
    idle_closed += pool.clients_idle_closed;
    over_limit += pool.requests_over_limit;
  }
  line(out, "clients_idle_closed:{}", idle_closed);
  line(out, "requests_over_limit:{}", over_limit);
  line(out, "pubsub_resubscribes:{}", snapshot.pubsub_resubscribes);
  line(out, "blocked_resends:{}", snapshot.blocked_resends);
  line(out, "scripts_carried:{}", snapshot.scripts_carried);
  line(out, "scripts_carried_bytes:{}", snapshot.scripts_carried_bytes);
  line(out, "scripts_reloaded:{}", snapshot.scripts_reloaded);
  line(out, "scripts_reload_errors:{}", snapshot.scripts_reload_errors);
  line(out, "scripts_not_carried:{}", snapshot.scripts_not_carried);
  line(out, "total_error_replies:{}",
       commandTotal(snapshot, CommandStat::failed_calls) +
           commandTotal(snapshot, CommandStat::rejected_calls));
  line(out, "total_rejected_calls:{}", commandTotal(snapshot, CommandStat::rejected_calls));
  line(out, "total_failed_calls:{}", commandTotal(snapshot, CommandStat::failed_calls));
  for (size_t i = 0; i < std::size(kPoolStatFields); ++i) {
    if (kPoolStatFields[i].kind != StatKind::kCounter) continue;
    line(out, "total_{}:{}", kPoolStatFields[i].name,
         poolTotal(snapshot, static_cast<PoolStat>(i)));
  }
}

void commandstatsSection(std::string& out, const StatsSnapshot& snapshot) {
  std::vector<CommandStats> totals(command::commandIdCount());
  for (const PoolStats& pool : snapshot.pools) {
    for (const CommandStats& command : pool.commands) {
      totals[command.id].name = command.name;
      for (size_t i = 0; i < command.values.size(); ++i) {
        totals[command.id].values[i] += command.values[i];
      }
    }
  }
  for (const CommandStats& command : totals) {
    if (command.name.empty()) continue;
    uint64_t calls = command[CommandStat::calls];
    uint64_t usec = command[CommandStat::usec];
    line(out, "cmdstat_{}:calls={},usec={},usec_per_call={:.2f},rejected_calls={},failed_calls={}",
         command.name, calls, usec,
         calls == 0 ? 0.0 : static_cast<double>(usec) / static_cast<double>(calls),
         command[CommandStat::rejected_calls], command[CommandStat::failed_calls]);
  }
}

void latencyLines(std::string& out, const std::string& prefix,
                  const common::HistogramValues& latency) {
  uint64_t count = latency.count();
  line(out, "{}_latency_count:{}", prefix, count);
  line(out, "{}_latency_usec_sum:{}", prefix, latency.sum_usec);
  line(out, "{}_latency_usec_per_call:{:.2f}", prefix,
       count == 0 ? 0.0 : static_cast<double>(latency.sum_usec) / static_cast<double>(count));
  for (auto [label, q] : {std::pair{"p50", 0.5}, {"p99", 0.99}, {"p999", 0.999}}) {
    uint64_t bound = latency.quantileUpperBoundUsec(q);
    if (bound == UINT64_MAX) {
      line(out, "{}_latency_{}_usec_le:inf", prefix, label);
    } else {
      line(out, "{}_latency_{}_usec_le:{}", prefix, label, bound);
    }
  }
}

void poolSection(std::string& out, const PoolStats& pool, const std::string& prefix) {
  line(out, "{}_name:{}", prefix, oneLine(pool.name));
  line(out, "{}_listen:{}", prefix, oneLine(pool.listen));
  line(out, "{}_servers:{}", prefix, pool.servers.size());
  for (size_t i = 0; i < pool.values.size(); ++i) {
    line(out, "{}_{}:{}", prefix, kPoolStatFields[i].name, pool.values[i]);
  }
  latencyLines(out, prefix, pool.latency);
}

void backendSection(std::string& out, const PoolStats& pool, const ServerStats& server,
                    const std::string& prefix) {
  line(out, "{}_name:{}", prefix, oneLine(server.name));
  line(out, "{}_pool:{}", prefix, oneLine(pool.name));
  line(out, "{}_address:{}", prefix, oneLine(server.address));
  line(out, "{}_state:{}", prefix,
       server[ServerStat::server_connections] > 0 ? "connected" : "disconnected");
  for (size_t i = 0; i < server.values.size(); ++i) {
    line(out, "{}_{}:{}", prefix, kServerStatFields[i].name, server.values[i]);
  }
  latencyLines(out, prefix, server.latency);
}

// One line per group, then one per node:
//   <pool>.<group>:master=..,master_confirmed=1,writes=open,read_from=replica,replicas=2,...
//   <pool>.<group>.node0:addr=..,role=master,health=healthy,lag_seconds=-1,rtt_usec=..,
//                        reads=..,requests=..,latency_p99_usec_le=..
// Redis's own field (clients see one standalone Redis), then one line per cluster pool:
//   <pool>:generation=..,shards=..,slots_served=..,nodes=..,refreshes=..,refresh_failures=..,
//          last_refresh_usec=..,source=..,moved=..,ask=..,retries=..
void clusterSection(std::string& out, const StatsSnapshot& snapshot) {
  line(out, "cluster_enabled:0");
  for (const ClusterStats& cluster : snapshot.clusters) {
    line(out,
         "{}:generation={},shards={},slots_served={},nodes={},refreshes={},refresh_failures={},"
         "last_refresh_usec={},source={},moved={},ask={},retries={}",
         infoKeyName(cluster.pool), cluster.generation, cluster.shards, cluster.slots_served,
         cluster.nodes, cluster.refreshes, cluster.refresh_failures, cluster.last_refresh_usec,
         oneLine(cluster.source), cluster.moved, cluster.ask, cluster.retries);
  }
}

void groupsSection(std::string& out, const StatsSnapshot& snapshot) {
  for (const GroupStats& group : snapshot.groups) {
    std::string key = infoKeyName(group.pool) + "." + infoKeyName(group.name);
    line(out,
         "{}:master={},master_confirmed={},writes={},read_from={},replicas={},"
         "healthy_replicas={},sentinels={},reachable_sentinels={},failovers={},"
         "last_failover_follow_ms={},generation={}",
         key, oneLine(group.master), group.master_confirmed ? 1 : 0, group.writes, group.read_from,
         group.replicas, group.healthy_replicas, group.sentinels, group.reachable_sentinels,
         group.failovers, group.last_failover_follow_ms, group.generation);
    if (group.slots >= 0) out.insert(out.size() - 2, fmt::format(",slots={}", group.slots));
    for (size_t i = 0; i < group.nodes.size(); ++i) {
      const GroupNodeStats& node = group.nodes[i];
      uint64_t p99 = node.latency.quantileUpperBoundUsec(0.99);
      line(out,
           "{}.node{}:addr={},role={},health={},lag_seconds={},rtt_usec={},reads={},requests={},"
           "latency_p99_usec_le={}",
           key, i, oneLine(node.address), node.role, node.health, node.lag_seconds, node.rtt_usec,
           node.serves_reads ? 1 : 0, node.requests,
           p99 == UINT64_MAX ? std::string("inf") : std::to_string(p99));
    }
  }
}

// Which sections the arguments ask for.
struct Selection {
  bool all_default = false;
  bool everything = false;
  bool pools = false;
  bool backends = false;
  std::set<std::string> names;

  bool wants(const std::string& section, bool in_default) const {
    if (everything || (all_default && in_default)) return true;
    return names.count(section) != 0;
  }
};

Selection select(std::span<const std::string> sections) {
  Selection selection;
  if (sections.empty()) selection.all_default = true;
  for (const std::string& raw : sections) {
    std::string name = lower(raw);
    if (name == "default") {
      selection.all_default = true;
    } else if (name == "all" || name == "everything") {
      selection.everything = true;
    } else if (name == "pools") {
      selection.pools = true;
    } else if (name == "backends") {
      selection.backends = true;
    } else {
      selection.names.insert(std::move(name));
    }
  }
  return selection;
}

void section(std::string& out, std::string_view title) {
  if (!out.empty()) out += "\r\n";
  fmt::format_to(std::back_inserter(out), "# {}\r\n", title);
}

}  // namespace

std::string infoKeyName(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  return out;
}

std::string renderInfo(const StatsSnapshot& snapshot, const ProcessInfo& process,
                       uint32_t pool_index, std::span<const std::string> sections) {
  Selection selection = select(sections);
  std::string out;
  if (selection.wants("server", true)) {
    section(out, "Server");
    serverSection(out, snapshot, process, pool_index);
  }
  if (selection.wants("clients", true)) {
    section(out, "Clients");
    clientsSection(out, snapshot);
  }
  if (selection.wants("memory", true)) {
    section(out, "Memory");
    memorySection(out, snapshot);
  }
  if (selection.wants("stats", true)) {
    section(out, "Stats");
    statsSection(out, snapshot);
  }
  if (selection.wants("cpu", true)) {
    section(out, "CPU");
    cpuSection(out, snapshot);
  }
  if (selection.wants("commandstats", false)) {
    section(out, "Commandstats");
    commandstatsSection(out, snapshot);
  }
  if (!snapshot.groups.empty() && selection.wants("groups", true)) {
    section(out, "Groups");
    groupsSection(out, snapshot);
  }
  if (selection.wants("cluster", true)) {
    section(out, "Cluster");
    clusterSection(out, snapshot);
  }
  for (const PoolStats& pool : snapshot.pools) {
    std::string name = "pool_" + infoKeyName(pool.name);
    if (!selection.pools && !selection.wants(lower(name), true)) continue;
    section(out, "Pool_" + infoKeyName(pool.name));
    poolSection(out, pool, name);
  }
  for (const PoolStats& pool : snapshot.pools) {
    for (const ServerStats& server : pool.servers) {
      std::string name = "backend_" + infoKeyName(pool.name) + "_" + infoKeyName(server.name);
      if (!selection.backends && !selection.wants(lower(name), true)) continue;
      section(out, "Backend_" + infoKeyName(pool.name) + "_" + infoKeyName(server.name));
      backendSection(out, pool, server, name);
    }
  }
  return out;
}

}  // namespace sy::admin
