// Worker: where requests for replication groups go (see worker.h, sendRequest).
//
//   write ------------------------> master   (WriteState kOpen; parked instead while the
//                                             master's connection is backing off after a
//                                             failure, or after it answered READONLY until a
//                                             newer view; a parked write is sent only on an
//                                             established connection)
//                                   parked   (kWait: until the snapshot names a confirmed
//                                             master, or failover_wait passes)
//                                   error    (kRefused: several nodes claim master)
//   read:  the node the pool's read_from picks (route/read_policy.h); with read_from: replica
//          and no usable replica, an error
#include <fmt/format.h>

#include <span>

#include "resp/encoder.h"
#include "resp/errors.h"
#include "server/client_session.h"
#include "server/worker.h"
#include "topology/topology_diff.h"

namespace sy::server {

const std::string* Worker::sendRequest(uint32_t pool_index, uint32_t server, uint64_t session_id,
                                       backend::Setup setup, bool read_only, std::string_view raw,
                                       std::span<const std::string_view> args,
                                       backend::ReplyTarget& target, common::TimePoint received) {
  const topology::PoolTopology& pool_topology = pool(pool_index);
  const topology::ServerInfo& info = pool_topology.servers[server];
  backend::BackendConnection* connection = nullptr;
  if (!info.is_group) {
    connection = &backend(pool_index, server, session_id, setup);
  } else if (read_only && pool_topology.config->read_from != config::ReadFrom::kMaster) {
    connection = pickReader(pool_index, server, session_id, setup);
    if (connection == nullptr) {
      route_error_ =
          fmt::format(resp::kErrNoHealthyReplica, info.stats_name, pool_topology.config->name);
      return &route_error_;
    }
  } else if (read_only) {
    connection = &backend(pool_index, server, session_id, setup);
  } else {
    switch (info.writes) {
      case topology::WriteState::kOpen: {
        backend::BackendConnection& master = backend(pool_index, server, session_id, setup);
        bool suspected = !suspected_masters_.empty() && masterSuspected(pool_topology, info);
        if (!suspected && !master.isBackingOff()) {
          connection = &master;
          break;
        }
        [[fallthrough]];
      }
      case topology::WriteState::kWait:
        if (pool_topology.config->failover_wait_ms == 0) {
          route_error_ =
              ParkedWrites::noMasterError(pool_topology.config->name, info.stats_name, 0);
          return &route_error_;
        }
        park(pool_index, server, session_id, setup, raw, args, target, received);
        return nullptr;
      case topology::WriteState::kRefused:
        return &info.write_refusal;
    }
  }
  bool sent = raw.empty() ? connection->sendCommand(args, target, received)
                          : connection->send(raw, target, received);
  return sent ? nullptr : &connection->unavailableMessage();
}

backend::BackendConnection* Worker::leaseConnection(uint32_t pool_index, uint32_t server,
                                                    backend::Setup setup, int64_t waited_ms,
                                                    const std::string*& error) {
  const topology::PoolTopology& pool_topology = pool(pool_index);
  const topology::ServerInfo& info = pool_topology.servers[server];
  if (info.is_group) {
    if (info.writes == topology::WriteState::kRefused) {
      error = &info.write_refusal;
      return nullptr;
    }
    bool suspected = !suspected_masters_.empty() && masterSuspected(pool_topology, info);
    if (info.writes == topology::WriteState::kWait || suspected) {
      route_error_ =
          ParkedWrites::noMasterError(pool_topology.config->name, info.stats_name, waited_ms);
      error = &route_error_;
      return nullptr;
    }
  }
  backend::BackendConnection* connection =
      backends_.lease(nodes_.master(pool_index, server), setup);
  if (connection == nullptr) {
    route_error_ =
        fmt::format(resp::kErrNoPrivateConnection, info.stats_name, pool_topology.config->name,
                    pool_topology.config->private_connections);
    error = &route_error_;
  }
  return connection;
}

bool Worker::masterPending(uint32_t pool_index, uint32_t server, uint64_t session_id,
                           backend::Setup setup) {
  const topology::PoolTopology& pool_topology = pool(pool_index);
  const topology::ServerInfo& info = pool_topology.servers[server];
  if (!info.is_group || pool_topology.config->failover_wait_ms == 0) return false;
  switch (info.writes) {
    case topology::WriteState::kWait:
      return true;
    case topology::WriteState::kRefused:
      return false;
    case topology::WriteState::kOpen:
      if (!suspected_masters_.empty() && masterSuspected(pool_topology, info)) return true;
      return backend(pool_index, server, session_id, setup).isBackingOff();
  }
  return false;
}

void Worker::wakeMasterWaiters() {
  waking_.assign(master_waiters_.begin(), master_waiters_.end());
  master_waiters_.clear();
  for (ClientSession* session : waking_) session->onMasterWait();
  waking_.clear();
}

void Worker::returnConnection(backend::BackendConnection& connection, bool reusable,
                              std::string_view reason) {
  backends_.giveBack(connection, reusable, reason);
}

bool Worker::leaseServes(const backend::BackendConnection& connection, uint32_t pool_index,
                         uint32_t server) const {
  if (pool_index >= topology_->pools().size()) return false;
  if (server >= topology_->pools()[pool_index].servers.size()) return false;
  return backends_.leaseServes(connection, nodes_.master(pool_index, server));
}

// The node read_from picks (route/read_policy.h), from what the connections the session
// would use report: backing off or not, requests in flight.
backend::BackendConnection* Worker::pickReader(uint32_t pool_index, uint32_t server,
                                               uint64_t session_id, backend::Setup setup) {
  const topology::PoolTopology& pool_topology = pool(pool_index);
  const topology::ServerInfo& info = pool_topology.servers[server];
  backend::BackendConnection& master = backend(pool_index, server, session_id, setup);
  const route::ReadCandidate master_candidate{info.master_readable && !master.isBackingOff(),
                                              master.inFlight(), info.master_rtt_usec};
  std::span<const backend::NodeId> replica_nodes = nodes_.replicas(pool_index, server);
  read_candidates_.clear();
  for (size_t r = 0; r < replica_nodes.size(); ++r) {
    backend::BackendConnection& replica = backends_.connection(replica_nodes[r], session_id, setup);
    read_candidates_.push_back(
        {!replica.isBackingOff(), replica.inFlight(), info.replicas[r].rtt_usec});
  }
  const route::ReadChoice choice = route::chooseReadNode(
      pool_topology.config->read_from, master_candidate, read_candidates_, read_rotation_);
  switch (choice.kind) {
    case route::ReadChoice::Kind::kMaster:
      return &master;
    case route::ReadChoice::Kind::kReplica:
      return &backends_.connection(replica_nodes[choice.replica], session_id, setup);
    case route::ReadChoice::Kind::kNone:
      return nullptr;
  }
  return &master;
}

void Worker::park(uint32_t pool_index, uint32_t server, uint64_t session_id, backend::Setup setup,
                  std::string_view raw, std::span<const std::string_view> args,
                  backend::ReplyTarget& target, common::TimePoint received) {
  const topology::PoolTopology& pool_topology = pool(pool_index);
  ParkedWrite write;
  write.pool = pool_topology.config->name;
  write.group = pool_topology.servers[server].stats_name;
  write.session_id = session_id;
  write.setup = setup;
  if (raw.empty()) {
    resp::appendCommand(write.bytes, args);
  } else {
    write.bytes.append(raw);
  }
  write.target = &target;
  write.received = received;
  write.parked_at = common::now();
  write.deadline = write.parked_at + common::Millis(pool_topology.config->failover_wait_ms);
  parked_.park(std::move(write));
}

void Worker::releaseParked() {
  for (ParkedWrite& write : parked_.takeAll()) {
    if (write.slot >= 0) {
      releaseForSlot(write);
      continue;
    }
    const topology::PoolTopology* pool_topology = topology::findPool(*topology_, write.pool);
    const topology::ServerInfo* info = nullptr;
    if (pool_topology != nullptr) {
      for (const auto& server : pool_topology->servers) {
        if (server.stats_name == write.group) info = &server;
      }
    }
    if (info == nullptr || !info->is_group) {
      write.target->onBackendFailure(fmt::format(resp::kErrGroupLeft, write.group, write.pool));
      continue;
    }
    bool suspected =
        info->writes == topology::WriteState::kOpen && masterSuspected(*pool_topology, *info);
    switch (suspected ? topology::WriteState::kWait : info->writes) {
      case topology::WriteState::kWait:
        parked_.park(std::move(write));
        break;
      case topology::WriteState::kRefused:
        write.target->onBackendFailure(info->write_refusal);
        break;
      case topology::WriteState::kOpen: {
        backend::BackendConnection& master =
            backend(pool_topology->index, info->index, write.session_id, write.setup);
        if (!master.isReady()) {
          // Sent only on an established connection: a failed connect would fail it.
          master.connectIfIdle();
          parked_.park(std::move(write));
        } else if (!master.send(write.bytes.view(), *write.target, write.received)) {
          write.target->onBackendFailure(master.unavailableMessage());
        }
        break;
      }
    }
  }
}

void Worker::onReadOnly(const std::string& pool_name, const std::string& group) {
  const topology::PoolTopology* pool_topology = topology::findPool(*topology_, pool_name);
  if (pool_topology == nullptr) return;
  for (const auto& server : pool_topology->servers) {
    if (server.stats_name != group) continue;
    uint64_t generation = server.view ? server.view->generation : 0;
    auto [entry, added] = suspected_masters_.try_emplace({pool_name, group});
    if (!added && entry->second.generation == generation) return;  // already asked
    entry->second = Suspicion{generation, common::now()};
    if (rediscover_) rediscover_(pool_name, group);
  }
}

bool Worker::masterSuspected(const topology::PoolTopology& pool_topology,
                             const topology::ServerInfo& server) {
  auto entry = suspected_masters_.find({pool_topology.config->name, server.stats_name});
  if (entry == suspected_masters_.end()) return false;
  uint64_t generation = server.view ? server.view->generation : 0;
  common::Millis bound(pool_topology.config->failover_wait_ms);
  if (generation != entry->second.generation || common::now() - entry->second.since > bound) {
    suspected_masters_.erase(entry);  // a newer view, or none came in time: trust it again
    return false;
  }
  return true;
}

}  // namespace sy::server
