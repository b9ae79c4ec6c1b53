#include "backend/backend_pool.h"

#include <algorithm>
#include <map>

#include <spdlog/spdlog.h>

#include "resp/errors.h"

namespace sy::backend {

void BackendPool::assign(std::vector<NodeSpec> nodes, bool connect_new) {
  std::map<ConnectionKey, ConnectionList> kept;
  std::map<ConnectionKey, Node*> old_nodes;
  for (Node& node : nodes_) {
    ConnectionList& list = kept[node.key];
    for (auto& connection : node.connections) list.push_back(std::move(connection));
    old_nodes.emplace(node.key, &node);
  }
  std::vector<Node> next;
  next.reserve(nodes.size());
  for (NodeSpec& spec : nodes) {
    Node node(spec.key, spec.preconnect);
    node.options = spec.options;
    node.options.log_level = spdlog::level::debug;  // for its private connections
    node.counters = spec.counters;
    node.private_limit = spec.private_limit;
    node.private_open = spec.private_open;
    auto old = old_nodes.find(spec.key);
    if (old != old_nodes.end()) {  // moved once: a key names one node
      node.other_setups = std::move(old->second->other_setups);
      for (auto& [setup, list] : node.other_setups) {
        for (auto& connection : list) {
          connection->updateKnobs(spec.options.timeout_ms, spec.options.keepalive);
        }
      }
      if (old->second->private_open == spec.private_open) node.idle = std::move(old->second->idle);
    }
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
  for (Node& node : nodes_) {
    for (auto& [setup, list] : node.other_setups) {
      for (auto& connection : list) retire(std::move(connection));
    }
    for (auto& [setup, connection] : node.idle) {
      closePrivate(std::move(connection), node.private_open, resp::kErrReasonServerRemoved);
    }
  }
  nodes_ = std::move(next);
}

const BackendPool::ConnectionList& BackendPool::otherSetup(Node& node, Setup setup) {
  for (auto& [made_for, list] : node.other_setups) {
    if (made_for == setup) return list;
  }
  auto& [made_for, list] = node.other_setups.emplace_back(setup, ConnectionList{});
  BackendOptions options = node.options;
  options.log_level = spdlog::level::info;
  options.db = setup.db;
  options.protocol = setup.protocol;
  const uint32_t count = std::max<uint32_t>(1, node.key.server_connections);
  for (uint32_t c = 0; c < count; ++c) {
    list.push_back(std::make_unique<BackendConnection>(io_, options, *node.counters));
  }
  return list;
}

BackendConnection* BackendPool::lease(NodeId id, Setup setup) {
  Node& node = nodes_[id];
  if (node.private_open == nullptr) return nullptr;
  std::unique_ptr<BackendConnection> connection;
  for (size_t i = node.idle.size(); i-- > 0 && !connection;) {
    if (node.idle[i].first != setup) continue;
    connection = std::move(node.idle[i].second);
    node.idle.erase(node.idle.begin() + static_cast<std::ptrdiff_t>(i));
    if (!connection->isReady()) {  // the backend closed it while it was idle
      closePrivate(std::move(connection), node.private_open, resp::kErrReasonLeaseEnded);
    }
  }
  if (!connection) {
    if (node.private_open->fetch_add(1) >= node.private_limit) {
      node.private_open->fetch_sub(1);
      return nullptr;
    }
    BackendOptions options = node.options;
    options.db = setup.db;
    options.protocol = setup.protocol;
    connection = std::make_unique<BackendConnection>(io_, options, *node.counters);
  }
  connection->updateKnobs(node.options.timeout_ms, node.options.keepalive);
  connection->loadNewScripts();  // before the lease's MULTI, block or subscription
  BackendConnection* leased = connection.get();
  leased_.emplace(leased, Leased{std::move(connection), node.key, node.private_open});
  return leased;
}

void BackendPool::giveBack(BackendConnection& connection, bool reusable, std::string_view reason) {
  auto found = leased_.find(&connection);
  if (found == leased_.end()) return;
  Leased entry = std::move(found->second);
  leased_.erase(found);
  if (reusable && entry.connection->isReady() && entry.connection->inFlight() == 0) {
    for (Node& node : nodes_) {
      // Kept idle only below the limit: an idle connection must not refuse another
      // worker's lease.
      if (node.key == entry.key && node.private_open == entry.private_open &&
          node.idle.size() < kMaxIdlePrivate && node.private_open->load() < node.private_limit) {
        const Setup setup{entry.connection->options().db, entry.connection->options().protocol};
        node.idle.emplace_back(setup, std::move(entry.connection));
        return;
      }
    }
  }
  closePrivate(std::move(entry.connection), entry.private_open, reason);
}

bool BackendPool::leaseServes(const BackendConnection& connection, NodeId node) const {
  auto found = leased_.find(&connection);
  return found != leased_.end() && node < nodes_.size() && nodes_[node].key == found->second.key;
}

size_t BackendPool::idlePrivateCount() const {
  size_t count = 0;
  for (const Node& node : nodes_) count += node.idle.size();
  return count;
}

void BackendPool::closePrivate(std::unique_ptr<BackendConnection> connection,
                               std::atomic<int64_t>* private_open, std::string_view reason) {
  connection->close(reason);
  if (private_open != nullptr) private_open->fetch_sub(1);
  graveyard_.push_back(std::move(connection));
}

void BackendPool::connectPreconnected() {
  for (Node& node : nodes_) {
    if (!node.preconnect) continue;
    for (auto& connection : node.connections) connection->connectIfIdle();
  }
}

std::vector<const BackendConnection*> BackendPool::leasedNow() const {
  std::vector<const BackendConnection*> addresses;
  addresses.reserve(leased_.size());
  for (const auto& [address, entry] : leased_) addresses.push_back(address);
  return addresses;
}

void BackendPool::expireRequests(common::TimePoint now) {
  burying_ = std::move(graveyard_);  // the connections burying_ held are destroyed here
  graveyard_.clear();
  for (Node& node : nodes_) {
    for (auto& connection : node.connections) connection->expireRequests(now);
  }
  for (Node& node : nodes_) {
    for (auto& [setup, list] : node.other_setups) {
      for (auto& connection : list) connection->expireRequests(now);
    }
  }
  if (!leased_.empty()) {
    for (const BackendConnection* address : leasedNow()) {
      auto found = leased_.find(address);
      if (found != leased_.end()) found->second.connection->expireRequests(now);
    }
  }
  tendRetired(now);
}

void BackendPool::closeAll(std::string_view reason) {
  for (Node& node : nodes_) {
    for (auto& connection : node.connections) connection->close(reason);
    for (auto& [setup, list] : node.other_setups) {
      for (auto& connection : list) connection->close(reason);
    }
    for (auto& [setup, connection] : node.idle) connection->close(reason);
  }
  for (const BackendConnection* address : leasedNow()) {
    auto found = leased_.find(address);
    if (found != leased_.end()) found->second.connection->close(reason);
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

// Expires requests on retired connections and closes the drained ones.
void BackendPool::tendRetired(common::TimePoint now) {
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
