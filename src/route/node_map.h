// NodeMap: the backend node (a backend::BackendPool index) that serves each server of a
// topology snapshot, and each readable replica of a replication group. Built together with
// the pool's node table whenever a worker switches snapshots; indexes follow the snapshot's
// pool and server indexes, replicas the order of ServerInfo::replicas.
// Thread: the owning worker's only.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "backend/backend_pool.h"

namespace sy::route {

class NodeMap {
 public:
  void clear() {
    masters_.clear();
    replicas_.clear();
  }
  // Appends a pool with `servers` servers, none mapped yet.
  void addPool(size_t servers) {
    masters_.emplace_back(servers, 0);
    replicas_.emplace_back(servers);
  }
  void setMaster(uint32_t pool, uint32_t server, backend::NodeId node) {
    masters_[pool][server] = node;
  }
  void addReplica(uint32_t pool, uint32_t server, backend::NodeId node) {
    replicas_[pool][server].push_back(node);
  }

  // A plain server's node; a replication group's master's.
  backend::NodeId master(uint32_t pool, uint32_t server) const { return masters_[pool][server]; }
  std::span<const backend::NodeId> replicas(uint32_t pool, uint32_t server) const {
    return replicas_[pool][server];
  }

 private:
  std::vector<std::vector<backend::NodeId>> masters_;                // [pool][server]
  std::vector<std::vector<std::vector<backend::NodeId>>> replicas_;  // [pool][server][replica]
};

}  // namespace sy::route
