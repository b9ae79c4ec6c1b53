// auto_eject_hosts (twemproxy-compat.md C3, nutcracker's server_failure/server_ok): which
// servers are out of the distribution, decided in one place and published as a snapshot.
//
//   worker connections --failure / recovery reports (posted)--> EjectionTracker (control)
//     failures in a row >= server_failure_limit  -> ejected (ejected_at, server_ejects + 1)
//     a reply after a failure                    -> the count starts again from 0
//     a successful probe after server_retry_timeout -> readmitted
//   base Topology + tracker --withEjections()--> snapshot whose placers cover live servers
//
// Only pools with auto_eject_hosts: true are ever changed; without it a down server keeps
// its keys (and they get errors).
// Thread: the control thread; withEjections() is a pure function.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "topology/topology.h"

namespace sy::topology {

class EjectionTracker {
 public:
  // A failure of `server` (connect failed, connection lost, request timed out). Returns true
  // when this failure ejects it. Ignored for pools without auto_eject_hosts in `base`, for
  // unknown names and for servers already ejected.
  bool recordFailure(const Topology& base, const std::string& pool, const std::string& server,
                     int64_t now_usec);
  // A reply after failures: the count of failures in a row starts again.
  void recordSuccess(const std::string& pool, const std::string& server);
  // A probe of an ejected server succeeded: it is back in the distribution.
  void readmit(const std::string& pool, const std::string& server);
  bool isEjected(const std::string& pool, const std::string& server) const;
  // Forgets servers that `base` no longer has or whose pool has auto_eject_hosts off.
  void retain(const Topology& base);

  int64_t ejectedAt(const std::string& pool, const std::string& server) const;
  uint64_t ejects(const std::string& pool) const;

 private:
  struct ServerState {
    uint32_t failures = 0;  // in a row
    bool ejected = false;
    int64_t ejected_at_usec = 0;
  };
  using Key = std::pair<std::string, std::string>;
  std::map<Key, ServerState> servers_;
  std::map<std::string, uint64_t> ejects_;  // per pool, kept for the stats
};

// `base` with the tracker's ejections applied: ejected servers are marked, and each pool with
// an ejection gets a placer over its live servers only, built exactly as nutcracker rebuilds
// its ring. When every server of a pool is ejected, nutcracker keeps its last ring; so does
// this, taken from `previous` (the snapshot being replaced, may be null).
std::shared_ptr<const Topology> withEjections(const Topology& base, const EjectionTracker& tracker,
                                              const Topology* previous);

}  // namespace sy::topology
