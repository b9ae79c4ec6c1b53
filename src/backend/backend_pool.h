// BackendPool: one worker's shared pipelined connections, by node.
//
//   assign(nodes)             nodes[i] becomes node i, served by server_connections
//                             connections; equal ConnectionKey: the connections move to
//                             their new place as they are, with their requests in flight
//                             (timeout and keepalive applied in place); new key: new
//                             connections; left over: retired
//   connection(node, session) the connection that session always uses for that node, so its
//                             requests to one node stay in order
//   expireRequests(now)       deadlines; retired connections that have drained are closed,
//                             and destroyed a call later, once their cancelled handlers ran
//
// A retired connection takes no new request; its requests in flight finish (or time out)
// first. Nothing here knows pools, groups or read policies: the caller maps those to node
// indexes (route::NodeMap).
//
// Thread: the owning worker's only. Lifetime: owned by the worker; closeAll() before the
// io_context stops running, so every cancelled handler runs while its connection exists.
#pragma once

#include <asio/io_context.hpp>

#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "backend/backend_connection.h"
#include "backend/connection_key.h"
#include "common/clock.h"

namespace sy::backend {

using NodeId = uint32_t;

// One node as the caller wants it served.
struct NodeSpec {
  ConnectionKey key;
  BackendOptions options;
  BackendCounters* counters = nullptr;  // borrowed; must outlive every connection of the node
  bool preconnect = false;              // connect new connections at once (see assign)
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
  BackendConnection& connection(NodeId node, uint64_t session_id) {
    Node& entry = nodes_[node];
    const size_t per_node = entry.connections.size();
    return *entry.connections[per_node == 1 ? 0 : session_id % per_node];
  }

  void expireRequests(common::TimePoint now);
  void closeAll(std::string_view reason);

  size_t retiredCount() const { return retired_.size(); }

 private:
  using ConnectionList = std::vector<std::unique_ptr<BackendConnection>>;
  struct Node {
    Node(ConnectionKey k, bool connect_early) : key(std::move(k)), preconnect(connect_early) {}
    Node(Node&&) noexcept = default;  // moved, never copied, when the table grows
    Node& operator=(Node&&) noexcept = default;
    ConnectionKey key;
    bool preconnect = false;
    ConnectionList connections;
  };

  void retire(std::unique_ptr<BackendConnection> connection);
  void tendRetired(common::TimePoint now);

  asio::io_context& io_;
  std::vector<Node> nodes_;
  ConnectionList retired_;    // draining their requests in flight
  ConnectionList graveyard_;  // closed; destroyed on the next expireRequests()
};

}  // namespace sy::backend
