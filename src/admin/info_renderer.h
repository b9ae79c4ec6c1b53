// The INFO reply, in Redis's format ("# Section\r\nkey:value\r\n", sections separated by a
// blank line), generated from the stats registry.
//
// Sections, in this order:
//   server, clients, memory,    process-wide, Redis's key names where Redis has one
//   stats, cpu
//   commandstats                cmdstat_<name>:calls=..,usec=..,usec_per_call=..,
//                               rejected_calls=..,failed_calls=.. summed over pools
//   pool_<pool>                 one per pool: keys pool_<pool>_<field>
//   backend_<pool>_<server>     one per server: keys backend_<pool>_<server>_<field>
// Pool and server names in section names and keys keep [A-Za-z0-9_] and turn every other
// byte into '_', so that every key is unique and parsable by redis-py and Telegraf.
//
// Selection follows Redis 7: no argument or "default" selects server, clients, memory, stats,
// cpu and every pool and backend section; "all" and "everything" add commandstats; "pools" and
// "backends" select every section of that kind; other names select the section of that name
// (case-insensitive); unknown names select nothing, so a request for only unknown sections
// gets an empty reply, as Redis gives.
// Thread: any (pure function of its arguments).
#pragma once

#include <span>
#include <string>

#include "admin/stats_snapshot.h"

namespace sy::admin {

// The INFO text for a client of pool `pool_index` (its tcp_port) asking for `sections`.
std::string renderInfo(const StatsSnapshot& snapshot, const ProcessInfo& process,
                       uint32_t pool_index, std::span<const std::string> sections);

// A name as it appears in section names and keys: [A-Za-z0-9_] kept, other bytes '_'.
std::string infoKeyName(std::string_view name);

}  // namespace sy::admin
