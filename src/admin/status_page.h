// The status page (GET / on the admin HTTP port): one self-contained HTML document, with its
// style and script inline and no external asset, that polls /status.json (status_json.h)
// every second and shows pools, servers, commands, replication groups with their nodes,
// followed failovers and cluster pools. Rates and interval latencies are computed in the
// browser from successive samples, so the proxy keeps no per-viewer state.
// Thread: any (constant data).
#pragma once

#include <string_view>

namespace sy::admin {

// The page, compiled into the binary; valid for the life of the process.
std::string_view statusPageHtml();

}  // namespace sy::admin
