// Loading a configuration into a Topology, at start-up and on SIGHUP.
//
//   SIGHUP --control thread--> loadTopology(same file)
//            invalid (ConfigError, unresolvable server): one error line naming
//                     file:line:key; the running snapshot stays as it is
//            valid:   Proxy::applyTopology(new snapshot); one line saying what changed
//
// Thread: the control thread (DNS resolution blocks it for a moment; workers keep serving).
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "server/proxy.h"
#include "topology/topology.h"

namespace sy::app {

// Reads, validates and resolves the configuration at `path`. The error message names the
// file, line, pool and key ("conf.yml:7: pool 'alpha': hash: unknown hash function ...").
common::Result<std::shared_ptr<const topology::Topology>> loadTopology(const std::string& path);

// Reloads `path` into `proxy`, logging the outcome. Returns false when the file was refused
// (the proxy then keeps its current snapshot).
bool reloadConfig(server::Proxy& proxy, const std::string& path);

}  // namespace sy::app
