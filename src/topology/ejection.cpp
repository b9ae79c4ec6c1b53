#include "topology/ejection.h"

#include <algorithm>
#include <vector>

#include "topology/topology_diff.h"

namespace sy::topology {
namespace {

const PoolTopology* ejectingPool(const Topology& base, const std::string& pool) {
  const PoolTopology* found = findPool(base, pool);
  return found != nullptr && found->config->auto_eject_hosts ? found : nullptr;
}

bool hasServer(const PoolTopology& pool, const std::string& server) {
  for (const ServerInfo& info : pool.servers) {
    if (info.stats_name == server) return true;
  }
  return false;
}

}  // namespace

bool EjectionTracker::recordFailure(const Topology& base, const std::string& pool,
                                    const std::string& server, int64_t now_usec) {
  const PoolTopology* found = ejectingPool(base, pool);
  if (found == nullptr || !hasServer(*found, server)) return false;
  ServerState& state = servers_[Key(pool, server)];
  if (state.ejected) return false;
  if (++state.failures < std::max<uint32_t>(1, found->config->server_failure_limit)) return false;
  state.failures = 0;
  state.ejected = true;
  state.ejected_at_usec = now_usec;
  ++ejects_[pool];
  return true;
}

void EjectionTracker::recordSuccess(const std::string& pool, const std::string& server) {
  auto it = servers_.find(Key(pool, server));
  if (it != servers_.end()) it->second.failures = 0;
}

void EjectionTracker::readmit(const std::string& pool, const std::string& server) {
  auto it = servers_.find(Key(pool, server));
  if (it == servers_.end()) return;
  it->second.ejected = false;
  it->second.failures = 0;
}

bool EjectionTracker::isEjected(const std::string& pool, const std::string& server) const {
  auto it = servers_.find(Key(pool, server));
  return it != servers_.end() && it->second.ejected;
}

int64_t EjectionTracker::ejectedAt(const std::string& pool, const std::string& server) const {
  auto it = servers_.find(Key(pool, server));
  return it == servers_.end() ? 0 : it->second.ejected_at_usec;
}

uint64_t EjectionTracker::ejects(const std::string& pool) const {
  auto it = ejects_.find(pool);
  return it == ejects_.end() ? 0 : it->second;
}

void EjectionTracker::retain(const Topology& base) {
  for (auto it = servers_.begin(); it != servers_.end();) {
    const PoolTopology* pool = ejectingPool(base, it->first.first);
    if (pool == nullptr || !hasServer(*pool, it->first.second)) {
      it = servers_.erase(it);
    } else {
      ++it;
    }
  }
}

std::shared_ptr<const Topology> withEjections(const Topology& base, const EjectionTracker& tracker,
                                              const Topology* previous) {
  std::vector<PoolTopology> pools = base.pools();
  for (PoolTopology& pool : pools) {
    const std::string& name = pool.config->name;
    pool.server_ejects = tracker.ejects(name);
    std::vector<hash::RingMember> live;
    bool any_ejected = false;
    for (ServerInfo& server : pool.servers) {
      server.ejected_at_usec = tracker.ejectedAt(name, server.stats_name);
      server.ejected = tracker.isEjected(name, server.stats_name);
      any_ejected = any_ejected || server.ejected;
      if (!server.ejected) {
        live.push_back(hash::RingMember{server.stats_name, server.config->weight, server.index});
      }
    }
    if (!any_ejected) continue;  // base's placer already covers every server
    if (!live.empty()) {
      pool.placer = hash::KeyPlacer(pool.config->hash, pool.config->hash_tag,
                                    pool.config->distribution, live);
      continue;
    }
    // Every server ejected: keep the ring in force (nutcracker's server_pool_run does the
    // same when no server is live). Its server indexes still match: same servers.
    const PoolTopology* last = previous != nullptr ? findPool(*previous, name) : nullptr;
    if (last != nullptr && last->servers.size() == pool.servers.size()) pool.placer = last->placer;
  }
  return std::make_shared<const Topology>(base.configPtr(), std::move(pools));
}

}  // namespace sy::topology
