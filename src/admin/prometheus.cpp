#include "admin/prometheus.h"

#include <fmt/format.h>
#include <algorithm>

#include "command/command.h"

namespace sy::admin {
namespace {

const char* typeName(StatKind kind) { return kind == StatKind::kCounter ? "counter" : "gauge"; }

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

// The metric name of a twemproxy field: switchyard_<scope>_<field>, with a server field's
// own "server_" prefix dropped (server_eof -> switchyard_server_eof_total).
std::string fieldMetric(std::string_view scope, const StatField& field) {
  std::string_view name = field.name;
  if (scope == "server" && name.starts_with("server_")) name.remove_prefix(7);
  return fmt::format("switchyard_{}_{}{}", scope, name,
                     field.kind == StatKind::kCounter ? "_total" : "");
}

std::string poolLabels(const PoolStats& pool) {
  return fmt::format("pool=\"{}\"", escapeLabelValue(pool.name));
}

std::string serverLabels(const PoolStats& pool, const ServerStats& server) {
  return fmt::format("pool=\"{}\",server=\"{}\"", escapeLabelValue(pool.name),
                     escapeLabelValue(server.name));
}

// Microseconds as seconds, exactly enough for any 64-bit count.
std::string seconds(uint64_t usec) { return fmt::format("{}", static_cast<double>(usec) / 1e6); }

void histogramSamples(std::string& out, std::string_view name, const std::string& labels,
                      const common::HistogramValues& values) {
  uint64_t cumulative = 0;
  for (size_t b = 0; b < common::LatencyHistogram::kFiniteBuckets; ++b) {
    cumulative += values.buckets[b];
    fmt::format_to(std::back_inserter(out), "{}_bucket{{{},le=\"{}\"}} {}\n", name, labels,
                   seconds(common::LatencyHistogram::upperBoundUsec(b)), cumulative);
  }
  cumulative += values.buckets[common::LatencyHistogram::kFiniteBuckets];
  fmt::format_to(std::back_inserter(out), "{}_bucket{{{},le=\"+Inf\"}} {}\n", name, labels,
                 cumulative);
  fmt::format_to(std::back_inserter(out), "{}_sum{{{}}} {}\n", name, labels,
                 seconds(values.sum_usec));
  fmt::format_to(std::back_inserter(out), "{}_count{{{}}} {}\n", name, labels, cumulative);
}

void processFamilies(std::string& out, const StatsSnapshot& snapshot, const ProcessInfo& process) {
  auto gauge = [&](std::string_view name, std::string_view help, auto value) {
    family(out, name, "gauge", help);
    fmt::format_to(std::back_inserter(out), "{} {}\n", name, value);
  };
  auto counter = [&](std::string_view name, std::string_view help, uint64_t value) {
    family(out, name, "counter", help);
    fmt::format_to(std::back_inserter(out), "{} {}\n", name, value);
  };
  family(out, "switchyard_info", "gauge", "Version information; the value is always 1.");
  fmt::format_to(std::back_inserter(out),
                 "switchyard_info{{version=\"{}\",redis_version=\"{}\"}} 1\n",
                 escapeLabelValue(process.version), command::kPresentedRedisVersion);
  gauge("switchyard_uptime_seconds", "Seconds since the proxy started.", snapshot.uptime_seconds);
  gauge("switchyard_start_time_seconds", "When the proxy started, in seconds since the epoch.",
        process.start_time);
  gauge("switchyard_threads", "Worker threads.", snapshot.threads);
  gauge("switchyard_pools", "Configured server pools.", snapshot.pools.size());
  gauge("switchyard_client_connections", "Open client connections, all pools.",
        snapshot.curr_connections);
  counter("switchyard_connections_received_total", "Client connections accepted, all pools.",
          snapshot.total_connections);
  family(out, "switchyard_process_cpu_seconds_total", "counter",
         "CPU time used by the process (user and system), in seconds.");
  fmt::format_to(std::back_inserter(out), "switchyard_process_cpu_seconds_total {}\n",
                 snapshot.usage.cpu_user_seconds + snapshot.usage.cpu_system_seconds);
  gauge("switchyard_process_resident_memory_bytes", "Resident memory of the process, in bytes.",
        snapshot.usage.resident_bytes);
  gauge("switchyard_process_open_fds", "Open file descriptors.", snapshot.usage.open_fds);
  gauge("switchyard_process_max_fds", "The process's limit on open file descriptors.",
        snapshot.usage.max_fds);
  counter("switchyard_rejected_connections_total",
          "Client connections refused past a pool's client_connections limit.",
          snapshot.rejected_connections);
  counter("switchyard_pubsub_resubscribes_total",
          "Subscriptions made again on a new backend connection after a failover or a lost "
          "connection.",
          snapshot.pubsub_resubscribes);
  counter("switchyard_blocked_resends_total",
          "Blocking commands sent again to a group's new master after a failover ended their "
          "block on the old master before any reply.",
          snapshot.blocked_resends);
  gauge("switchyard_scripts_carried",
        "Lua scripts clients sent that the proxy loads on every new backend connection.",
        snapshot.scripts_carried);
  gauge("switchyard_scripts_carried_bytes", "Size of the carried scripts' bodies, in bytes.",
        snapshot.scripts_carried_bytes);
  counter("switchyard_scripts_reloaded_total",
          "SCRIPT LOADs the proxy sent on its own to carry scripts onto backend connections.",
          snapshot.scripts_reloaded);
  counter("switchyard_scripts_reload_errors_total",
          "SCRIPT LOADs sent by the proxy that a backend refused.", snapshot.scripts_reload_errors);
  counter("switchyard_scripts_not_carried_total",
          "Requests whose script was not carried: the registry was full.",
          snapshot.scripts_not_carried);
  const InfluxPushStats& push = snapshot.influx_push;
  if (!push.enabled) return;
  counter("switchyard_influxdb_batches_sent_total",
          "Batches of statistics InfluxDB accepted (or, over UDP, handed to the socket).",
          push.batches_sent);
  counter("switchyard_influxdb_batches_failed_total",
          "Attempts to push a batch to InfluxDB that failed (refused, timed out, not 204).",
          push.batches_failed);
  counter("switchyard_influxdb_batches_dropped_total",
          "Batches discarded unsent: the queue was full, or InfluxDB refused them with a 4xx.",
          push.batches_dropped);
  gauge("switchyard_influxdb_queued_batches", "Batches waiting to be pushed to InfluxDB.",
        push.queued_batches);
  gauge("switchyard_influxdb_last_batch_bytes", "Size of the latest batch, in bytes.",
        push.last_batch_bytes);
}

void poolFamilies(std::string& out, const StatsSnapshot& snapshot) {
  for (size_t i = 0; i < std::size(kPoolStatFields); ++i) {
    const StatField& field = kPoolStatFields[i];
    std::string name = fieldMetric("pool", field);
    family(out, name, typeName(field.kind), fmt::format("Pool {}.", field.description));
    for (const PoolStats& pool : snapshot.pools) {
      fmt::format_to(std::back_inserter(out), "{}{{{}}} {}\n", name, poolLabels(pool),
                     pool.values[i]);
    }
  }
  auto limitCounter = [&](std::string_view name, std::string_view help, auto value) {
    family(out, name, "counter", help);
    for (const PoolStats& pool : snapshot.pools) {
      fmt::format_to(std::back_inserter(out), "{}{{{}}} {}\n", name, poolLabels(pool), value(pool));
    }
  };
  limitCounter("switchyard_pool_clients_idle_closed_total",
               "Client connections closed by the pool's client_idle_timeout.",
               [](const PoolStats& pool) { return pool.clients_idle_closed; });
  limitCounter("switchyard_pool_requests_over_limit_total",
               "Requests refused by max_request_args, max_argument_bytes or max_request_bytes "
               "(the client is closed).",
               [](const PoolStats& pool) { return pool.requests_over_limit; });
  constexpr std::string_view kPoolLatency = "switchyard_pool_request_duration_seconds";
  family(out, kPoolLatency, "histogram",
         "Request latency in the pool, from receipt by the proxy to the complete reply.");
  for (const PoolStats& pool : snapshot.pools) {
    histogramSamples(out, kPoolLatency, poolLabels(pool), pool.latency);
  }
}

void serverFamilies(std::string& out, const StatsSnapshot& snapshot) {
  for (size_t i = 0; i < std::size(kServerStatFields); ++i) {
    const StatField& field = kServerStatFields[i];
    std::string name = fieldMetric("server", field);
    family(out, name, typeName(field.kind), fmt::format("Backend {}.", field.description));
    for (const PoolStats& pool : snapshot.pools) {
      for (const ServerStats& server : pool.servers) {
        fmt::format_to(std::back_inserter(out), "{}{{{}}} {}\n", name, serverLabels(pool, server),
                       server.values[i]);
      }
    }
  }
  constexpr std::string_view kServerLatency = "switchyard_server_request_duration_seconds";
  family(out, kServerLatency, "histogram",
         "Latency of requests forwarded to the backend, from receipt by the proxy to the "
         "backend's reply.");
  for (const PoolStats& pool : snapshot.pools) {
    for (const ServerStats& server : pool.servers) {
      histogramSamples(out, kServerLatency, serverLabels(pool, server), server.latency);
    }
  }
}

// Command counters: usec is exported in seconds, as Prometheus's base unit.
void commandFamilies(std::string& out, const StatsSnapshot& snapshot) {
  for (size_t i = 0; i < std::size(kCommandStatFields); ++i) {
    const StatField& field = kCommandStatFields[i];
    bool is_time = static_cast<CommandStat>(i) == CommandStat::usec;
    std::string name = is_time ? std::string("switchyard_command_duration_seconds_total")
                               : fmt::format("switchyard_command_{}_total", field.name);
    std::string help = is_time ? std::string("Total latency of executed requests, in seconds.")
                               : fmt::format("Per command: {}.", field.description);
    family(out, name, "counter", help);
    for (const PoolStats& pool : snapshot.pools) {
      for (const CommandStats& command : pool.commands) {
        std::string value =
            is_time ? seconds(command.values[i]) : std::to_string(command.values[i]);
        fmt::format_to(std::back_inserter(out), "{}{{{},command=\"{}\"}} {}\n", name,
                       poolLabels(pool), escapeLabelValue(command.name), value);
      }
    }
  }
}

// Cluster pools: the slot table's readings and the redirections followed.
void clusterFamilies(std::string& out, const StatsSnapshot& snapshot) {
  if (snapshot.clusters.empty()) return;
  auto perCluster = [&](std::string_view name, std::string_view type, std::string_view help,
                        auto value_of) {
    family(out, name, type, help);
    for (const ClusterStats& cluster : snapshot.clusters) {
      fmt::format_to(std::back_inserter(out), "{}{{pool=\"{}\"}} {}\n", name,
                     escapeLabelValue(cluster.pool), value_of(cluster));
    }
  };
  perCluster("switchyard_cluster_slots_served", "gauge", "Hash slots some shard serves.",
             [](const ClusterStats& c) { return c.slots_served; });
  perCluster("switchyard_cluster_shards", "gauge", "Shards (masters) of the cluster.",
             [](const ClusterStats& c) { return c.shards; });
  perCluster("switchyard_cluster_refreshes_total", "counter",
             "Readings of the slot table (CLUSTER SHARDS), as of the latest view.",
             [](const ClusterStats& c) { return c.refreshes; });
  perCluster("switchyard_cluster_refresh_failures_total", "counter",
             "Nodes that failed to answer a reading of the slot table.",
             [](const ClusterStats& c) { return c.refresh_failures; });
  perCluster("switchyard_cluster_last_refresh_seconds", "gauge",
             "How long reading the latest view took (-1: none yet).", [](const ClusterStats& c) {
               return c.last_refresh_usec < 0 ? -1.0
                                              : static_cast<double>(c.last_refresh_usec) / 1e6;
             });
  perCluster("switchyard_cluster_moved_total", "counter", "MOVED redirections followed.",
             [](const ClusterStats& c) { return c.moved; });
  perCluster("switchyard_cluster_ask_total", "counter", "ASK redirections followed.",
             [](const ClusterStats& c) { return c.ask; });
  perCluster("switchyard_cluster_retries_total", "counter",
             "TRYAGAIN and CLUSTERDOWN replies waited out and retried.",
             [](const ClusterStats& c) { return c.retries; });
}

// Replication groups: write state, failovers, and each node's role, health, lag and round trip.
void groupFamilies(std::string& out, const StatsSnapshot& snapshot) {
  if (snapshot.groups.empty()) return;
  auto groupLabels = [](const GroupStats& group) {
    return fmt::format("pool=\"{}\",group=\"{}\"", escapeLabelValue(group.pool),
                       escapeLabelValue(group.name));
  };
  auto perGroup = [&](std::string_view name, std::string_view type, std::string_view help,
                      auto value_of) {
    family(out, name, type, help);
    for (const GroupStats& group : snapshot.groups) {
      fmt::format_to(std::back_inserter(out), "{}{{{}}} {}\n", name, groupLabels(group),
                     value_of(group));
    }
  };
  perGroup("switchyard_group_master_confirmed", "gauge",
           "1 when the group's master answered ROLE master.",
           [](const GroupStats& g) { return g.master_confirmed ? 1 : 0; });
  perGroup("switchyard_group_writes_open", "gauge",
           "1 when writes go to the master; 0 while they wait (failover) or are refused.",
           [](const GroupStats& g) { return g.writes == "open" ? 1 : 0; });
  perGroup("switchyard_group_healthy_replicas", "gauge", "Replicas that may serve reads.",
           [](const GroupStats& g) { return g.healthy_replicas; });
  perGroup("switchyard_group_reachable_sentinels", "gauge",
           "Sentinels that answered their latest request (0 for role-probed groups).",
           [](const GroupStats& g) { return g.reachable_sentinels; });
  perGroup("switchyard_group_failovers_total", "counter",
           "New masters the proxy followed since start-up.",
           [](const GroupStats& g) { return g.failovers; });
  perGroup("switchyard_group_last_failover_follow_seconds", "gauge",
           "How long following the last failover took (-1: none yet).", [](const GroupStats& g) {
             return g.last_failover_follow_ms < 0
                        ? -1.0
                        : static_cast<double>(g.last_failover_follow_ms) / 1e3;
           });
  const bool shards = std::any_of(snapshot.groups.begin(), snapshot.groups.end(),
                                  [](const GroupStats& g) { return g.slots >= 0; });
  if (shards)
    family(out, "switchyard_group_slots", "gauge", "Hash slots a cluster's shard serves.");
  for (const GroupStats& group : snapshot.groups) {
    if (group.slots < 0) continue;
    fmt::format_to(std::back_inserter(out), "switchyard_group_slots{{{}}} {}\n", groupLabels(group),
                   group.slots);
  }
  auto perNode = [&](std::string_view name, std::string_view type, std::string_view help,
                     auto value_of) {
    family(out, name, type, help);
    for (const GroupStats& group : snapshot.groups) {
      for (const GroupNodeStats& node : group.nodes) {
        fmt::format_to(std::back_inserter(out),
                       "{}{{{},node=\"{}\",role=\"{}\",health=\"{}\"}} {}\n", name,
                       groupLabels(group), escapeLabelValue(node.address), node.role, node.health,
                       value_of(node));
      }
    }
  };
  perNode("switchyard_node_serves_reads", "gauge", "1 when read_from may send reads to the node.",
          [](const GroupNodeStats& n) { return n.serves_reads ? 1 : 0; });
  perNode("switchyard_node_lag_seconds", "gauge",
          "Replica lag since its last ack, as the master reports it (-1: unknown).",
          [](const GroupNodeStats& n) { return n.lag_seconds; });
  perNode("switchyard_node_rtt_seconds", "gauge",
          "Round trip of the node's last ROLE probe (-1: unknown).", [](const GroupNodeStats& n) {
            return n.rtt_usec < 0 ? -1.0 : static_cast<double>(n.rtt_usec) / 1e6;
          });
  perNode("switchyard_node_requests_total", "counter", "Requests the proxy sent to the node.",
          [](const GroupNodeStats& n) { return n.requests; });
  constexpr std::string_view kNodeLatency = "switchyard_node_request_duration_seconds";
  family(out, kNodeLatency, "histogram",
         "Latency of requests sent to the node, from receipt by the proxy to its reply.");
  for (const GroupStats& group : snapshot.groups) {
    for (const GroupNodeStats& node : group.nodes) {
      histogramSamples(
          out, kNodeLatency,
          fmt::format("{},node=\"{}\"", groupLabels(group), escapeLabelValue(node.address)),
          node.latency);
    }
  }
}

}  // namespace

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string renderPrometheus(const StatsSnapshot& snapshot, const ProcessInfo& process) {
  std::string out;
  out.reserve(16 * 1024);
  processFamilies(out, snapshot, process);
  poolFamilies(out, snapshot);
  serverFamilies(out, snapshot);
  commandFamilies(out, snapshot);
  groupFamilies(out, snapshot);
  clusterFamilies(out, snapshot);
  return out;
}

}  // namespace sy::admin
