// The status page's data (GET /status.json on the admin HTTP port): one JSON document per
// request, rendered from a StatsSnapshot.
//
//   StatsSnapshot + ProcessInfo --renderStatusJson()--> {"version":..,"pid":..,"uptime_seconds":..,
//       "connections":{..},"usage":{..},"pools":[..],"groups":[..],"clusters":[..]}
//
// Counters are totals since start-up (the page turns successive samples into rates); every
// stat of the registry's lists appears under its own name in "stats"; latency histograms are
// {"count","sum_usec","buckets"} with non-cumulative buckets whose finite upper bounds are
// 2^b microseconds (common::LatencyHistogram) and a last, unbounded one. Unknown values
// (a lag, a round trip, a failover's duration) are null, never -1.
// Thread: any (pure function of its arguments).
#pragma once

#include <string>
#include <string_view>

#include "admin/stats_snapshot.h"

namespace sy::admin {

inline constexpr std::string_view kStatusJsonPath = "/status.json";

std::string renderStatusJson(const StatsSnapshot& snapshot, const ProcessInfo& process);

}  // namespace sy::admin
