#include "server/proxy_stats.h"

namespace sy::server {

PoolCounters& WorkerCounters::pool(std::string_view pool) {
  auto it = pools_.find(pool);
  if (it == pools_.end()) {
    it = pools_.emplace(std::string(pool), std::make_unique<PoolCounters>()).first;
  }
  return *it->second;
}

backend::BackendCounters& WorkerCounters::server(std::string_view pool, std::string_view server) {
  auto key = std::make_pair(std::string(pool), std::string(server));
  auto it = servers_.find(key);
  if (it == servers_.end()) {
    it = servers_.emplace(std::move(key), std::make_unique<backend::BackendCounters>()).first;
  }
  return *it->second;
}

const PoolCounters* WorkerCounters::findPool(std::string_view pool) const {
  auto it = pools_.find(pool);
  return it == pools_.end() ? nullptr : it->second.get();
}

const backend::BackendCounters* WorkerCounters::findServer(std::string_view pool,
                                                           std::string_view server) const {
  auto it = servers_.find(std::make_pair(std::string(pool), std::string(server)));
  return it == servers_.end() ? nullptr : it->second.get();
}

std::atomic<int64_t>& ProxyStats::poolClients(std::string_view pool) {
  auto it = pool_clients_.find(pool);
  if (it == pool_clients_.end()) {
    it = pool_clients_.emplace(std::string(pool), std::make_unique<std::atomic<int64_t>>(0)).first;
  }
  return *it->second;
}

std::atomic<int64_t>& ProxyStats::privateConnections(std::string_view pool,
                                                     std::string_view server) {
  auto& slot = private_connections_[{std::string(pool), std::string(server)}];
  if (!slot) slot = std::make_unique<std::atomic<int64_t>>(0);
  return *slot;
}

}  // namespace sy::server
