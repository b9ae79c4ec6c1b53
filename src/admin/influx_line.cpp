#include "admin/influx_line.h"

#include <fmt/format.h>

#include <cmath>
#include <iterator>
#include <limits>

namespace sy::admin {
namespace {

// Builds one point: measurement, then tags, then fields, then end() writes the timestamp.
// Tags must all come before the first field; a point with no field is taken back by end()
// (InfluxDB would refuse the whole batch).
class Point {
 public:
  Point(std::string& out, std::string_view measurement, std::string_view host, int64_t time_ns)
      : out_(out), start_(out.size()), time_ns_(time_ns) {
    out_ += escapeInfluxMeasurement(measurement);
    tag("host", host);
  }
  Point(const Point&) = delete;
  Point& operator=(const Point&) = delete;

  void end() {
    if (fields_ == 0) {
      out_.resize(start_);
      return;
    }
    fmt::format_to(std::back_inserter(out_), " {}\n", time_ns_);
  }

  Point& tag(std::string_view key, std::string_view value) {
    if (value.empty()) return *this;
    out_ += ',';
    out_ += escapeInfluxKey(key);
    out_ += '=';
    out_ += escapeInfluxKey(value);
    return *this;
  }

  Point& integer(std::string_view key, uint64_t value) {
    constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    fmt::format_to(std::back_inserter(beginField(key)), "{}i", std::min(value, kMax));
    return *this;
  }
  Point& integer(std::string_view key, int64_t value) {
    fmt::format_to(std::back_inserter(beginField(key)), "{}i", value);
    return *this;
  }
  Point& flag(std::string_view key, bool value) { return integer(key, uint64_t{value ? 1u : 0u}); }
  Point& real(std::string_view key, double value) {
    if (!std::isfinite(value)) return *this;  // line protocol has no NaN or infinity
    fmt::format_to(std::back_inserter(beginField(key)), "{}", value);
    return *this;
  }
  Point& text(std::string_view key, std::string_view value) {
    beginField(key) += quoteInfluxString(value);
    return *this;
  }

  // latency_count, latency_sum_usec and the quantiles' bucket bounds.
  Point& latency(const common::HistogramValues& values) {
    integer("latency_count", values.count());
    integer("latency_sum_usec", values.sum_usec);
    constexpr std::pair<std::string_view, double> kQuantiles[] = {{"latency_p50_usec", 0.5},
                                                                  {"latency_p90_usec", 0.9},
                                                                  {"latency_p99_usec", 0.99},
                                                                  {"latency_p999_usec", 0.999}};
    for (const auto& [key, q] : kQuantiles) {
      uint64_t bound = values.quantileUpperBoundUsec(q);
      if (bound != UINT64_MAX) integer(key, bound);
    }
    return *this;
  }

 private:
  std::string& beginField(std::string_view key) {
    out_ += fields_++ == 0 ? ' ' : ',';
    out_ += escapeInfluxKey(key);
    out_ += '=';
    return out_;
  }

  std::string& out_;
  size_t start_;
  int64_t time_ns_;
  size_t fields_ = 0;
};

void processPoint(std::string& out, const StatsSnapshot& snapshot, const ProcessInfo& process,
                  std::string_view host, int64_t time_ns) {
  Point point(out, "switchyard_process", host, time_ns);
  point.text("version", process.version)
      .integer("pid", process.pid)
      .integer("start_time", process.start_time)
      .integer("uptime_seconds", snapshot.uptime_seconds)
      .integer("threads", snapshot.threads)
      .integer("pools", uint64_t{snapshot.pools.size()})
      .integer("client_connections", snapshot.curr_connections)
      .integer("connections_received", snapshot.total_connections)
      .integer("rejected_connections", snapshot.rejected_connections)
      .real("cpu_user_seconds", snapshot.usage.cpu_user_seconds)
      .real("cpu_system_seconds", snapshot.usage.cpu_system_seconds)
      .integer("resident_memory_bytes", snapshot.usage.resident_bytes)
      .integer("open_fds", snapshot.usage.open_fds)
      .integer("max_fds", snapshot.usage.max_fds)
      .integer("pubsub_resubscribes", snapshot.pubsub_resubscribes)
      .integer("blocked_resends", snapshot.blocked_resends)
      .integer("scripts_carried", snapshot.scripts_carried)
      .integer("scripts_carried_bytes", snapshot.scripts_carried_bytes)
      .integer("scripts_reloaded", snapshot.scripts_reloaded)
      .integer("scripts_reload_errors", snapshot.scripts_reload_errors)
      .integer("scripts_not_carried", snapshot.scripts_not_carried);
  const InfluxPushStats& push = snapshot.influx_push;
  if (push.enabled) {
    point.integer("influxdb_batches_sent", push.batches_sent)
        .integer("influxdb_batches_failed", push.batches_failed)
        .integer("influxdb_batches_dropped", push.batches_dropped)
        .integer("influxdb_queued_batches", push.queued_batches);
  }
  point.end();
}

// Pools, their servers and their commands: every field of the registry's three lists.
void poolPoints(std::string& out, const PoolStats& pool, std::string_view host, int64_t time_ns) {
  {
    Point point(out, "switchyard_pool", host, time_ns);
    point.tag("pool", pool.name);
    for (size_t i = 0; i < std::size(kPoolStatFields); ++i) {
      point.integer(kPoolStatFields[i].name, pool.values[i]);
    }
    point.latency(pool.latency).end();
  }
  for (const ServerStats& server : pool.servers) {
    Point point(out, "switchyard_server", host, time_ns);
    point.tag("pool", pool.name).tag("server", server.name).tag("address", server.address);
    for (size_t i = 0; i < std::size(kServerStatFields); ++i) {
      point.integer(kServerStatFields[i].name, server.values[i]);
    }
    point.latency(server.latency).end();
  }
  for (const CommandStats& command : pool.commands) {
    Point point(out, "switchyard_command", host, time_ns);
    point.tag("pool", pool.name).tag("command", command.name);
    for (size_t i = 0; i < std::size(kCommandStatFields); ++i) {
      point.integer(kCommandStatFields[i].name, command.values[i]);
    }
    point.end();
  }
}

void groupPoints(std::string& out, const GroupStats& group, std::string_view host,
                 int64_t time_ns) {
  {
    Point point(out, "switchyard_group", host, time_ns);
    point.tag("pool", group.pool)
        .tag("group", group.name)
        .text("master", group.master)
        .flag("master_confirmed", group.master_confirmed)
        .text("writes", group.writes)
        .text("read_from", group.read_from)
        .integer("replicas", group.replicas)
        .integer("healthy_replicas", group.healthy_replicas)
        .integer("sentinels", group.sentinels)
        .integer("reachable_sentinels", group.reachable_sentinels)
        .integer("failovers", group.failovers)
        .integer("last_failover_follow_ms", group.last_failover_follow_ms)
        .integer("generation", group.generation);
    if (group.slots >= 0) point.integer("slots", group.slots);
    point.end();
  }
  for (const GroupNodeStats& node : group.nodes) {
    Point point(out, "switchyard_node", host, time_ns);
    point.tag("pool", group.pool)
        .tag("group", group.name)
        .tag("node", node.address)
        .tag("role", node.role)
        .text("health", node.health)
        .flag("serves_reads", node.serves_reads)
        .integer("lag_seconds", node.lag_seconds)
        .integer("rtt_usec", node.rtt_usec)
        .integer("requests", node.requests)
        .latency(node.latency)
        .end();
  }
}

void clusterPoint(std::string& out, const ClusterStats& cluster, std::string_view host,
                  int64_t time_ns) {
  Point point(out, "switchyard_cluster", host, time_ns);
  point.tag("pool", cluster.pool)
      .integer("generation", cluster.generation)
      .integer("shards", cluster.shards)
      .integer("slots_served", cluster.slots_served)
      .integer("nodes", cluster.nodes)
      .integer("refreshes", cluster.refreshes)
      .integer("refresh_failures", cluster.refresh_failures)
      .integer("last_refresh_usec", cluster.last_refresh_usec)
      .text("source", cluster.source)
      .integer("moved", cluster.moved)
      .integer("ask", cluster.ask)
      .integer("retries", cluster.retries)
      .end();
}

// Appends `text` to `out` with a backslash before each character of `special`.
void appendEscaped(std::string& out, std::string_view text, std::string_view special) {
  for (char c : text) {
    if (special.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
}

}  // namespace

std::string escapeInfluxMeasurement(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  appendEscaped(out, name, ", ");
  return out;
}

std::string escapeInfluxKey(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\n' || c == '\r') c = ' ';
    if (c == ',' || c == '=' || c == ' ') out += '\\';
    out += c;
  }
  return out;
}

std::string quoteInfluxString(std::string_view text) {
  std::string out = "\"";
  appendEscaped(out, text, "\"\\");
  return out + "\"";
}

std::string renderInfluxLines(const StatsSnapshot& snapshot, const ProcessInfo& process,
                              std::string_view host, int64_t timestamp_ns) {
  std::string out;
  out.reserve(4096 + snapshot.pools.size() * 4096);
  processPoint(out, snapshot, process, host, timestamp_ns);
  for (const PoolStats& pool : snapshot.pools) poolPoints(out, pool, host, timestamp_ns);
  for (const GroupStats& group : snapshot.groups) groupPoints(out, group, host, timestamp_ns);
  for (const ClusterStats& cluster : snapshot.clusters) {
    clusterPoint(out, cluster, host, timestamp_ns);
  }
  return out;
}

}  // namespace sy::admin
