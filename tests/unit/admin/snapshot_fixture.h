// A hand-made StatsSnapshot with traffic in every kind of statistic, for renderer tests.
#pragma once

#include "admin/stats_snapshot.h"
#include "command/command.h"

namespace sy::admin {

inline StatsSnapshot busySnapshot() {
  StatsSnapshot snapshot;
  snapshot.uptime_seconds = 90061;
  snapshot.timestamp = 1700000000;
  snapshot.total_connections = 17;
  snapshot.curr_connections = 3;
  snapshot.rejected_connections = 2;
  snapshot.scripts_carried = 3;
  snapshot.scripts_carried_bytes = 120;
  snapshot.scripts_reloaded = 21;
  snapshot.scripts_reload_errors = 1;
  snapshot.scripts_not_carried = 5;
  snapshot.threads = 4;
  snapshot.usage = {1.5, 0.25, 1048576, 12, 1024};
  for (int p = 0; p < 2; ++p) {
    PoolStats pool;
    pool.name = p == 0 ? "alpha" : "be\"ta\\x";
    pool.listen = p == 0 ? "127.0.0.1:22121" : "/tmp/beta.sock";
    pool.port = p == 0 ? 22121 : 0;
    for (size_t i = 0; i < pool.values.size(); ++i) pool.values[i] = 10 * (p + 1) + i;
    pool.latency.buckets[3] = 5;
    pool.latency.buckets[10] = 2;
    pool.latency.buckets[common::LatencyHistogram::kFiniteBuckets] = 1;
    pool.latency.sum_usec = 3'000'123;
    for (std::string_view name : {"get", "set"}) {
      CommandStats command;
      command.id = command::commandId(*command::findTopLevel(name));
      command.name = std::string(name);
      command[CommandStat::calls] = 4;
      command[CommandStat::usec] = 10;
      command[CommandStat::rejected_calls] = 1;
      command[CommandStat::failed_calls] = 2;
      pool.commands.push_back(command);
    }
    for (int s = 0; s < 2; ++s) {
      ServerStats server;
      server.name = s == 0 ? "s1" : "127.0.0.1:6380";
      server.address = s == 0 ? "127.0.0.1:6379" : "127.0.0.1:6380";
      for (size_t i = 0; i < server.values.size(); ++i) server.values[i] = 100 * (s + 1) + i;
      server[ServerStat::server_connections] = s == 0 ? 1 : 0;
      server.latency.buckets[5] = 3;
      server.latency.sum_usec = 90;
      pool.servers.push_back(server);
    }
    snapshot.pools.push_back(pool);
  }
  return snapshot;
}

// busySnapshot() with one Sentinel-managed group in pool "alpha": a master and two replicas,
// one of them lagging, after one failover.
inline StatsSnapshot snapshotWithGroup() {
  StatsSnapshot snapshot = busySnapshot();
  GroupStats group;
  group.pool = "alpha";
  group.name = "g0";
  group.master = "127.0.0.1:7002";
  group.master_confirmed = true;
  group.writes = "open";
  group.read_from = "replica";
  group.replicas = 2;
  group.healthy_replicas = 1;
  group.sentinels = 3;
  group.reachable_sentinels = 2;
  group.failovers = 1;
  group.last_failover_follow_ms = 1043;
  group.generation = 7;
  group.nodes.push_back({"127.0.0.1:7002", "master", "healthy", -1, 150, false, 40, {}});
  group.nodes.push_back({"127.0.0.1:7001", "replica", "healthy", 0, 180, true, 900, {}});
  group.nodes.push_back({"127.0.0.1:7003", "replica", "lagging", 30, 2500, false, 12, {}});
  snapshot.groups.push_back(group);
  return snapshot;
}

inline ProcessInfo someProcess() {
  return {"1.2.3", "/etc/nutcracker.yml", "/usr/bin/switchyard", 4242, 1699990000};
}

}  // namespace sy::admin
