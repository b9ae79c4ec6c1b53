// Worker: following a cluster's redirections (see route/cluster_redirect.h, worker.h).
//
//   MOVED slot addr  -> the server whose master is addr, if its writes are open and its
//                       connection is not backing off; else parked for the slot until a
//                       snapshot names a shard that can take it (at most failover_wait).
//                       Either way the control thread reads the slot table again.
//   ASK slot addr    -> ASKING, then the request, on the session's connection to addr
//                       (back to back: nothing comes between them on that connection); an
//                       unknown addr: parked for the slot, as MOVED
//   TRYAGAIN         -> parked for the slot for clusterRetryDelay(retry), while the request
//                       is younger than failover_wait
//   CLUSTERDOWN      -> the same, and the slot table is read again
//
// A redirected request is sent to the master of its shard, read or write.
#include <fmt/format.h>

#include "resp/errors.h"
#include "route/cluster_redirect.h"
#include "server/client_session.h"
#include "server/worker.h"
#include "topology/topology_diff.h"

namespace sy::server {
namespace {

// A worker asks for a slot table again at most this often while the view stays the same.
constexpr common::Millis kClusterRefreshSpacing{100};

}  // namespace

bool Worker::redirect(PendingRequest& request, std::string_view framed_reply) {
  const std::optional<route::Redirection> redirection = route::parseRedirection(framed_reply);
  if (!redirection) return false;
  ClientSession& session = *request.owner();
  const topology::PoolTopology& pool_topology = pool(session.poolIndex());
  if (!pool_topology.config->cluster) return false;  // the pool changed kind by a reload
  const common::TimePoint now = common::now();
  switch (redirection->kind) {
    case route::Redirection::Kind::kMoved:
    case route::Redirection::Kind::kAsk: {
      if (request.cluster_hops >= route::kMaxClusterHops) return false;
      ++request.cluster_hops;
      const bool ask = redirection->kind == route::Redirection::Kind::kAsk;
      PoolCounters& counters = poolCounters(pool_topology.index);
      (ask ? counters.cluster_ask : counters.cluster_moved).add();
      if (!ask) refreshCluster(pool_topology);
      request.cluster_slot = redirection->slot;
      const topology::ServerInfo* node = clusterNode(pool_topology, redirection->address);
      if (node == nullptr || node->writes != topology::WriteState::kOpen) {
        if (ask) refreshCluster(pool_topology);  // a node the table does not know yet
        parkForSlot(pool_topology, request, now);
        return true;
      }
      backend::BackendConnection& connection =
          backend(pool_topology.index, node->index, session.id(), session.setup());
      if (connection.isBackingOff()) {
        parkForSlot(pool_topology, request, now);
        return true;
      }
      if (ask &&
          !connection.send(backend::kAskingRequest, backend::dropped_reply, request.received)) {
        parkForSlot(pool_topology, request, now);
        return true;
      }
      if (!connection.send(request.cluster_request.view(), request, request.received)) {
        parkForSlot(pool_topology, request, now);
      }
      return true;
    }
    case route::Redirection::Kind::kClusterDown:
    case route::Redirection::Kind::kTryAgain: {
      // Retried while the request is younger than failover_wait: a cluster is down for
      // about its node timeout while a replica replaces a failed master.
      const common::Millis wait(pool_topology.config->failover_wait_ms);
      if (now - request.received >= wait) return false;
      if (redirection->kind == route::Redirection::Kind::kClusterDown) {
        refreshCluster(pool_topology);
      }
      if (request.cluster_retries < UINT8_MAX) ++request.cluster_retries;
      poolCounters(pool_topology.index).cluster_retries.add();
      parkForSlot(pool_topology, request, now + route::clusterRetryDelay(request.cluster_retries));
      return true;
    }
  }
  return false;
}

uint32_t Worker::noteRedirection(uint32_t pool_index, const route::Redirection& redirection) {
  const topology::PoolTopology& pool_topology = pool(pool_index);
  const bool ask = redirection.kind == route::Redirection::Kind::kAsk;
  PoolCounters& counters = poolCounters(pool_index);
  (ask ? counters.cluster_ask : counters.cluster_moved).add();
  const topology::ServerInfo* node = clusterNode(pool_topology, redirection.address);
  if (!ask || node == nullptr) refreshCluster(pool_topology);
  return node != nullptr ? node->index : kNoServer;
}

void Worker::slotTableStale(uint32_t pool_index) { refreshCluster(pool(pool_index)); }

const topology::ServerInfo* Worker::clusterNode(const topology::PoolTopology& pool_topology,
                                                std::string_view address) const {
  for (const topology::ServerInfo& server : pool_topology.servers) {
    if (server.address_text == address) return &server;
  }
  return nullptr;
}

void Worker::parkForSlot(const topology::PoolTopology& pool_topology, PendingRequest& request,
                         common::TimePoint not_before) {
  ClientSession& session = *request.owner();
  ParkedWrite write;
  write.pool = pool_topology.config->name;
  write.session_id = session.id();
  write.setup = session.setup();
  write.bytes.append(request.cluster_request.view());
  write.target = &request;
  write.received = request.received;
  write.parked_at = common::now();
  // failover_wait from when the client sent it, however often it was redirected since.
  write.deadline = request.received + common::Millis(pool_topology.config->failover_wait_ms);
  write.slot = request.cluster_slot;
  write.not_before = not_before;
  parked_.park(std::move(write));
}

void Worker::releaseForSlot(ParkedWrite& write) {
  const topology::PoolTopology* pool_topology = topology::findPool(*topology_, write.pool);
  if (pool_topology == nullptr || !pool_topology->config->cluster) {
    write.target->onBackendFailure(fmt::format(resp::kErrClusterPoolLeft, write.pool));
    return;
  }
  if (common::now() < write.not_before || pool_topology->servers.empty()) {
    parked_.park(std::move(write));
    return;
  }
  const uint32_t server = pool_topology->serverForSlot(static_cast<uint16_t>(write.slot));
  const topology::ServerInfo& info = pool_topology->servers[server];
  if (info.is_group && info.writes != topology::WriteState::kOpen) {
    parked_.park(std::move(write));
    return;
  }
  backend::BackendConnection& master =
      backend(pool_topology->index, server, write.session_id, write.setup);
  if (!master.isReady()) {
    master.connectIfIdle();  // sent only on an established connection
    parked_.park(std::move(write));
  } else if (!master.send(write.bytes.view(), *write.target, write.received)) {
    write.target->onBackendFailure(master.unavailableMessage());
  }
}

void Worker::refreshCluster(const topology::PoolTopology& pool_topology) {
  const uint64_t generation =
      pool_topology.cluster != nullptr ? pool_topology.cluster->generation : 0;
  const common::TimePoint now = common::now();
  auto [entry, added] = cluster_refresh_asked_.try_emplace(pool_topology.config->name,
                                                           ClusterRefresh{generation, now});
  // Asked already for this view, recently: the answer is on its way.
  if (!added && entry->second.generation == generation &&
      now - entry->second.at < kClusterRefreshSpacing) {
    return;
  }
  entry->second = ClusterRefresh{generation, now};
  if (rediscover_) rediscover_(pool_topology.config->name, std::string());
}

}  // namespace sy::server
