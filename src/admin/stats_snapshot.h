// StatsSnapshot: every worker's counters summed at one moment, and its renderings.
//
//   Worker counters (per worker, single writer) --collectStats()--> StatsSnapshot
//   StatsSnapshot --renderTwemproxyJson()--> the stats port's document
//
// Thread: the control thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "admin/stats_fields.h"
#include "server/proxy.h"

namespace sy::admin {

struct ServerStats {
  std::string name;
  std::array<uint64_t, static_cast<size_t>(ServerStat::kCount)> values{};
};

struct PoolStats {
  std::string name;
  std::array<uint64_t, static_cast<size_t>(PoolStat::kCount)> values{};
  std::vector<ServerStats> servers;
};

struct StatsSnapshot {
  int64_t uptime_seconds = 0;
  int64_t timestamp = 0;  // unix seconds
  uint64_t total_connections = 0;
  uint64_t curr_connections = 0;
  std::vector<PoolStats> pools;
};

StatsSnapshot collectStats(const server::Proxy& proxy, const topology::Topology& topology);

// nutcracker 0.5.0's document: one line, keys in its order, ", " between members.
std::string renderTwemproxyJson(const StatsSnapshot& snapshot, const std::string& source,
                                const std::string& version);

// The -D text: every field with its kind and meaning.
std::string describeStats();

}  // namespace sy::admin
