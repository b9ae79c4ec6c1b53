#include "backend/backend_pool.h"

#include <algorithm>
#include <map>

#include "resp/errors.h"

namespace sy::backend {

void BackendPool::assign(std::vector<NodeSpec> nodes, bool connect_new) {
  std::map<ConnectionKey, ConnectionList> kept;
  for (Node& node : nodes_) {
    ConnectionList& list = kept[node.key];
    for (auto& connection : node.connections) list.push_back(std::move(connection));
  }
  std::vector<Node> next;
  next.reserve(nodes.size());
  for (NodeSpec& spec : nodes) {
    Node node(spec.key, spec.preconnect);
    auto found = kept.find(spec.key);
    if (found != kept.end()) {
      for (auto& connection : found->second) {
        connection->updateKnobs(spec.options.timeout_ms, spec.options.keepalive);
        node.connections.push_back(std::move(connection));
      }
      kept.erase(found);
    } else {
      const uint32_t count = std::max<uint32_t>(1, spec.key.server_connections);
      for (uint32_t c = 0; c < count; ++c) {
        auto connection = std::make_unique<BackendConnection>(io_, spec.options, *spec.counters);
        if (connect_new && spec.preconnect) connection->connectIfIdle();
        node.connections.push_back(std::move(connection));
      }
    }
    next.push_back(std::move(node));
  }
  for (auto& [key, list] : kept) {
    for (auto& connection : list) retire(std::move(connection));
  }
  nodes_ = std::move(next);
}

void BackendPool::connectPreconnected() {
  for (Node& node : nodes_) {
    if (!node.preconnect) continue;
    for (auto& connection : node.connections) connection->connectIfIdle();
  }
}

void BackendPool::expireRequests(common::TimePoint now) {
  for (Node& node : nodes_) {
    for (auto& connection : node.connections) connection->expireRequests(now);
  }
  tendRetired(now);
}

void BackendPool::closeAll(std::string_view reason) {
  for (Node& node : nodes_) {
    for (auto& connection : node.connections) connection->close(reason);
  }
  for (auto& connection : retired_) connection->close(reason);
}

void BackendPool::retire(std::unique_ptr<BackendConnection> connection) {
  if (connection->inFlight() == 0) {
    connection->close(resp::kErrReasonServerRemoved);
    graveyard_.push_back(std::move(connection));
  } else {
    retired_.push_back(std::move(connection));
  }
}

// Expires requests on retired connections and closes the drained ones. Connections closed on
// an earlier call are destroyed now: the handlers their close cancelled have run since.
void BackendPool::tendRetired(common::TimePoint now) {
  graveyard_.clear();
  for (size_t i = 0; i < retired_.size();) {
    retired_[i]->expireRequests(now);
    if (retired_[i]->inFlight() > 0) {
      ++i;
      continue;
    }
    retired_[i]->close(resp::kErrReasonServerRemoved);
    graveyard_.push_back(std::move(retired_[i]));
    retired_[i] = std::move(retired_.back());
    retired_.pop_back();
  }
}

}  // namespace sy::backend
