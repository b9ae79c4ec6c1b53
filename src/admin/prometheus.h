// Prometheus text exposition format 0.0.4, generated from the stats registry.
//
//   StatsSnapshot + ProcessInfo --renderPrometheus()--> "# HELP ..\n# TYPE ..\nname{labels} v\n"
//
// Every family has HELP and TYPE and its samples together; names start with switchyard_,
// counters end in _total, labels are pool, server and command; latency histograms are in
// seconds with cumulative _bucket{le=...} series ending at +Inf, then _sum and _count.
// Thread: any (pure function of its arguments).
#pragma once

#include <string>
#include <string_view>

#include "admin/stats_snapshot.h"

namespace sy::admin {

inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

std::string renderPrometheus(const StatsSnapshot& snapshot, const ProcessInfo& process);

// A label value escaped as the format requires (backslash, double quote, newline).
std::string escapeLabelValue(std::string_view value);

}  // namespace sy::admin
