// InfluxDB line protocol (1.x), generated from the stats registry.
//
//   StatsSnapshot + ProcessInfo + host + time --renderInfluxLines()--> "measurement,tags fields
//   ts\n"...
//
// One point per process, pool, server, command, replication group, group node and cluster
// pool, all with the same nanosecond timestamp. Measurements and their tags:
//   switchyard_process  host
//   switchyard_pool     host, pool
//   switchyard_server   host, pool, server, address
//   switchyard_command  host, pool, command
//   switchyard_group    host, pool, group
//   switchyard_node     host, pool, group, node, role
//   switchyard_cluster  host, pool
// Field names are the registry's (client_eof, requests, calls, ...); counters and gauges are
// integers ("12i", clamped to InfluxDB's signed 64-bit range), CPU seconds are floats, words
// (a group's master, a node's health) are strings. Latency summaries are the fields
// latency_count, latency_sum_usec and latency_p50_usec .. latency_p999_usec (the upper bound
// of the histogram bucket holding the quantile; left out when it lies past the last bucket).
// A tag whose value is empty is left out, as line protocol has no empty tag values.
// Thread: any (pure function of its arguments).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "admin/stats_snapshot.h"

namespace sy::admin {

std::string renderInfluxLines(const StatsSnapshot& snapshot, const ProcessInfo& process,
                              std::string_view host, int64_t timestamp_ns);

// A measurement name escaped as line protocol requires (comma, space).
std::string escapeInfluxMeasurement(std::string_view name);
// A tag key, tag value or field key escaped as line protocol requires (comma, '=', space; a
// newline, which cannot be escaped, becomes a space).
std::string escapeInfluxKey(std::string_view text);
// A string field value: quoted, with '"' and '\' escaped.
std::string quoteInfluxString(std::string_view text);

}  // namespace sy::admin
