// What changes between two Topology snapshots, by name: the diff a reload logs, and the key
// that decides whether a backend connection built for one snapshot can serve the next.
//
//   old Topology --+
//                  +--diffTopologies()--> TopologyDiff (pools and servers added, removed,
//   new Topology --+                                    changed; settings changed)
//   (pool, server) --connectionKey()--> ConnectionKey: equal keys = keep the connection
//
// Pools are matched by name and servers by their identity (stats name) within a pool, never
// by index: indexes may shift when pools or servers are added or removed.
// Thread-neutral: pure functions over immutable snapshots.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backend/connection_key.h"
#include "topology/topology.h"

namespace sy::topology {

using backend::ConnectionKey;

// The key of a server's connections; for a replication group, of its master's.
ConnectionKey connectionKey(const PoolTopology& pool, const ServerInfo& server);
// The key of the connections to one readable replica of a replication group.
ConnectionKey replicaConnectionKey(const PoolTopology& pool, const ServerInfo& group,
                                   const ReadNode& replica);

struct TopologyDiff {
  std::vector<std::string> pools_added;
  std::vector<std::string> pools_removed;
  // Pools present in both whose settings or servers differ.
  std::vector<std::string> pools_changed;
  // "pool/server", for pools present in both.
  std::vector<std::string> servers_added;
  std::vector<std::string> servers_removed;
  std::vector<std::string> servers_changed;  // same identity, other address, weight or endpoint
  // "pool.key" for every setting that differs in a pool present in both, e.g. "alpha.timeout".
  std::vector<std::string> settings_changed;

  bool empty() const {
    return pools_added.empty() && pools_removed.empty() && pools_changed.empty();
  }
  // One line for the log, e.g. "pools added [beta]; pools changed [alpha]; servers changed
  // [alpha/s2]; settings changed [alpha.timeout]", or "no change".
  std::string summary() const;
};

TopologyDiff diffTopologies(const Topology& before, const Topology& after);

// The pool named `name` in `topology`, or null.
const PoolTopology* findPool(const Topology& topology, std::string_view name);

}  // namespace sy::topology
