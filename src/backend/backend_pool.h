// BackendPool: one worker's backend connections, by node: shared pipelined ones, and private
// ones that a client session leases for a connection-stateful mode (a transaction, a
// blocking command).
//
//   assign(nodes)             nodes[i] becomes node i, served by server_connections
//                             connections; equal ConnectionKey: the connections move to
//                             their new place as they are, with their requests in flight
//                             (timeout and keepalive applied in place); new key: new
//                             connections; left over: retired
//   connection(node, session, setup)
//                             the connection that session always uses for that node and
//                             setup, so its requests to one node stay in order; a setup
//                             other than the node's own (a client's SELECT, or HELLO 3) gets
//                             connections of its own, made on first use and kept with the
//                             node
//   expireRequests(now)       deadlines; retired connections that have drained are closed,
//                             and destroyed a call later, once their cancelled handlers ran
//   lease(node, setup)        a private connection: an idle one of the node's if there is
//                             one, else a new one; none past the node's private_limit, which
//                             counts the node's open private connections across every worker
//
// Both hand-outs, connection() and lease(), first queue the scripts registered since the
// connection last loaded them (BackendConnection::loadNewScripts), so the request that
// follows finds them on the node; a new connection loads them all when it connects.
//   giveBack(connection, ok)  ends a lease: kept idle (at most kMaxIdlePrivate a node, and
//                             only while the node is below private_limit) when the caller
//                             vouches for its state and its node is still served with the
//                             same key; otherwise closed
//   leaseServes(c, node)      the leased connection still reaches the node `node` is now (a
//                             swap that changes the node's key, e.g. a failover, breaks it)
//
// A retired connection takes no new request; its requests in flight finish (or time out)
// first. Nothing here knows pools, groups or read policies: the caller maps those to node
// indexes (route::NodeMap).
//
// Thread: the owning worker's only. Lifetime: owned by the worker; closeAll() before the
// io_context stops running, so every cancelled handler runs while its connection exists.
#pragma once

#include <asio/io_context.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "backend/backend_connection.h"
#include "backend/connection_key.h"
#include "common/clock.h"
#include "resp/errors.h"

namespace sy::backend {

using NodeId = uint32_t;

// One node as the caller wants it served.
struct NodeSpec {
  ConnectionKey key;
  BackendOptions options;
  BackendCounters* counters = nullptr;  // borrowed; must outlive every connection of the node
  bool preconnect = false;              // connect new connections at once (see assign)
  // Private connections: the most the node may have open across the proxy, and the count
  // they share (borrowed; outlives the pool). Null: the node leases none.
  uint32_t private_limit = 0;
  std::atomic<int64_t>* private_open = nullptr;
};

class BackendPool {
 public:
  explicit BackendPool(asio::io_context& io) : io_(io) {}
  ~BackendPool() = default;
  BackendPool(const BackendPool&) = delete;
  BackendPool& operator=(const BackendPool&) = delete;

  // Replaces the node table with `nodes` (node i = nodes[i]). With `connect_new`, new
  // connections of nodes that ask for preconnect connect now (a swap); start-up connects
  // them with connectPreconnected() once the loop runs.
  void assign(std::vector<NodeSpec> nodes, bool connect_new);
  void connectPreconnected();

  size_t nodeCount() const { return nodes_.size(); }
  BackendConnection& connection(NodeId node, uint64_t session_id, Setup setup) {
    Node& entry = nodes_[node];
    const bool usual = setup.db == entry.key.db && setup.protocol == 2;
    const ConnectionList& list = usual ? entry.connections : otherSetup(entry, setup);
    const size_t per_node = list.size();
    BackendConnection& chosen = *list[per_node == 1 ? 0 : session_id % per_node];
    chosen.loadNewScripts();  // handed out: the scripts registered since go first
    return chosen;
  }

  void expireRequests(common::TimePoint now);
  void closeAll(std::string_view reason);

  static constexpr size_t kMaxIdlePrivate = 4;
  // A private connection to `node` with the node's options and `setup`, or null when
  // the node has private_limit open already. The caller owns its use until giveBack().
  BackendConnection* lease(NodeId node, Setup setup);
  // Ends a lease. `reusable`: nothing is in flight on it and the backend holds no state for
  // it (no MULTI, WATCH or block); else (or when the node changed) it is closed.
  // `reason` is what its requests in flight, if any, fail with when it is closed.
  void giveBack(BackendConnection& connection, bool reusable,
                std::string_view reason = resp::kErrReasonLeaseEnded);
  bool leaseServes(const BackendConnection& connection, NodeId node) const;

  size_t retiredCount() const { return retired_.size(); }
  size_t leasedCount() const { return leased_.size(); }
  size_t idlePrivateCount() const;
  // Closed connections not destroyed yet (see graveyard_).
  size_t closedCount() const { return graveyard_.size() + burying_.size(); }

 private:
  using ConnectionList = std::vector<std::unique_ptr<BackendConnection>>;
  struct Node {
    Node(ConnectionKey k, bool connect_early) : key(std::move(k)), preconnect(connect_early) {}
    Node(Node&&) noexcept = default;  // moved, never copied, when the table grows
    Node& operator=(Node&&) noexcept = default;
    ConnectionKey key;
    bool preconnect = false;
    ConnectionList connections;  // SELECTed to key.db
    // Shared connections with another setup (database, protocol), made on first use.
    std::vector<std::pair<Setup, ConnectionList>> other_setups;
    // Private connections.
    BackendOptions options;
    BackendCounters* counters = nullptr;
    uint32_t private_limit = 0;
    std::atomic<int64_t>* private_open = nullptr;
    std::vector<std::pair<Setup, std::unique_ptr<BackendConnection>>> idle;
  };
  struct Leased {
    std::unique_ptr<BackendConnection> connection;
    ConnectionKey key;
    std::atomic<int64_t>* private_open;
  };

  const ConnectionList& otherSetup(Node& node, Setup setup);
  void retire(std::unique_ptr<BackendConnection> connection);
  // Closes a private connection and gives its place in the node's count back.
  void closePrivate(std::unique_ptr<BackendConnection> connection,
                    std::atomic<int64_t>* private_open, std::string_view reason);
  void tendRetired(common::TimePoint now);
  // The leased connections now, by address: a callback run while walking them may end a
  // lease, so walks go over this copy and skip what is no longer leased.
  std::vector<const BackendConnection*> leasedNow() const;

  asio::io_context& io_;
  std::vector<Node> nodes_;
  ConnectionList retired_;  // draining their requests in flight
  // A closed connection may still own handlers its close cancelled: they are queued to run,
  // and run in the memory of the connection. Closed connections are kept for a whole tick
  // (two expireRequests() calls), longer than any handler queued at their close waits.
  ConnectionList graveyard_;  // closed since the last expireRequests()
  ConnectionList burying_;    // closed before it: destroyed on the next expireRequests()
  std::unordered_map<const BackendConnection*, Leased> leased_;
};

}  // namespace sy::backend
