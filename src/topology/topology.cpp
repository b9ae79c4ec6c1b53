#include "topology/topology.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "resp/errors.h"

namespace sy::topology {

common::Result<Endpoint> resolveAddress(const config::Address& address) {
  if (address.isUnix()) {
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (address.unix_path.size() >= sizeof(sun.sun_path)) {
      return common::makeError("unix socket path too long: " + address.unix_path);
    }
    std::memcpy(sun.sun_path, address.unix_path.data(), address.unix_path.size());
    return Endpoint(&sun, sizeof(sun), 0);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(address.port);
  int rc = ::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    return common::makeError("cannot resolve '" + address.host + "': " + ::gai_strerror(rc));
  }
  Endpoint endpoint(found->ai_addr, found->ai_addrlen, IPPROTO_TCP);
  ::freeaddrinfo(found);
  return endpoint;
}

common::Result<std::shared_ptr<const Topology>> buildTopology(
    std::shared_ptr<const config::Config> config) {
  std::vector<PoolTopology> pools;
  pools.reserve(config->pools.size());
  for (size_t p = 0; p < config->pools.size(); ++p) {
    const config::PoolConfig& pool_config = config->pools[p];
    std::vector<ServerInfo> servers;
    std::vector<hash::RingMember> members;
    for (size_t s = 0; s < pool_config.servers.size(); ++s) {
      const config::ServerConfig& server = pool_config.servers[s];
      auto endpoint = resolveAddress(server.address);
      if (!endpoint.ok()) {
        return common::makeError(config->path + ":" + std::to_string(server.line) + ": pool '" +
                                 pool_config.name + "': servers: " + server.address.toString() +
                                 ": " + endpoint.error().message);
      }
      ServerInfo info;
      info.index = static_cast<uint32_t>(s);
      info.stats_name = server.stats_name;
      info.address_text = server.address.toString();
      info.endpoint = *endpoint;
      info.config = &server;
      if (pool_config.hasGroups() && !pool_config.cluster) {
        // Until the control plane confirms a master, writes wait and reads go nowhere else.
        info.is_group = true;
        info.writes = WriteState::kWait;
        info.master_readable = false;
      }
      servers.push_back(std::move(info));
      // stats_name is nutcracker's server name, derived from the line as written; it is
      // also the string nutcracker hashes onto the ring (twemproxy-compat.md, C3).
      members.push_back(
          hash::RingMember{server.stats_name, server.weight, static_cast<uint32_t>(s)});
    }
    hash::KeyPlacer placer(pool_config.hash, pool_config.hash_tag, pool_config.distribution,
                           members);
    pools.push_back(PoolTopology{static_cast<uint32_t>(p), &pool_config, std::move(servers),
                                 std::move(placer), 0, nullptr, nullptr});
  }
  return std::shared_ptr<const Topology>(
      std::make_shared<const Topology>(std::move(config), std::move(pools)));
}

namespace {

std::optional<Endpoint> resolveNode(const NodeAddress& node) {
  config::Address address;
  address.host = node.host;
  address.port = node.port;
  auto endpoint = resolveAddress(address);
  if (!endpoint.ok()) {
    spdlog::warn("node {}: {}", node.toString(), endpoint.error().message);
    return std::nullopt;
  }
  return *endpoint;
}

std::string claimedMastersText(const GroupView& view) {
  std::string text;
  for (const NodeAddress& node : view.claimed_masters) {
    text += (text.empty() ? "" : ", ") + node.toString();
  }
  return text;
}

void applyView(const PoolTopology& pool, ServerInfo& server,
               std::shared_ptr<const GroupView> view) {
  server.view = view;
  if (view->master) {
    std::string text = view->master->toString();
    if (text != server.address_text) {
      if (auto endpoint = resolveNode(*view->master)) {
        server.endpoint = *endpoint;
        server.address_text = std::move(text);
      }
    }
  }
  server.master_rtt_usec = view->master_rtt_usec;
  server.master_readable = view->master_confirmed;
  if (view->claimed_masters.size() > 1) {
    server.writes = WriteState::kRefused;
    server.write_refusal =
        fmt::format(resp::kErrSeveralMasters, server.stats_name, pool.config->name,
                    view->claimed_masters.size(), claimedMastersText(*view));
  } else if (view->master_confirmed && !view->failover_in_progress) {
    server.writes = WriteState::kOpen;
  } else {
    server.writes = WriteState::kWait;
  }
  server.replicas.clear();
  for (const ReplicaView& replica : view->replicas) {
    if (!replica.healthy()) continue;
    if (auto endpoint = resolveNode(replica.address)) {
      server.replicas.push_back(ReadNode{replica.address.toString(), *endpoint, replica.rtt_usec});
    }
  }
}

}  // namespace

std::shared_ptr<const Topology> withClusterViews(const Topology& base, const ClusterViews& views) {
  std::vector<PoolTopology> pools = base.pools();
  for (PoolTopology& pool : pools) {
    if (!pool.config->cluster) continue;
    auto found = views.find(pool.config->name);
    if (found == views.end() || found->second == nullptr) continue;
    const ClusterView& view = *found->second;
    pool.servers.clear();
    for (size_t s = 0; s < view.groups.size(); ++s) {
      ServerInfo info;
      info.index = static_cast<uint32_t>(s);
      info.stats_name = view.groups[s]->name;
      info.is_group = true;
      info.writes = WriteState::kWait;
      info.master_readable = false;
      applyView(pool, info, view.groups[s]);
      if (info.address_text.empty()) info.writes = WriteState::kWait;  // master unresolved
      pool.servers.push_back(std::move(info));
    }
    pool.cluster = found->second;
    pool.slots = view.slots;
  }
  return std::make_shared<const Topology>(base.configPtr(), std::move(pools));
}

std::shared_ptr<const Topology> withGroupViews(const Topology& base, const GroupViews& views) {
  std::vector<PoolTopology> pools = base.pools();
  for (PoolTopology& pool : pools) {
    for (ServerInfo& server : pool.servers) {
      if (!server.is_group) continue;
      auto found = views.find({pool.config->name, server.stats_name});
      if (found != views.end() && found->second != nullptr) applyView(pool, server, found->second);
    }
  }
  return std::make_shared<const Topology>(base.configPtr(), std::move(pools));
}

}  // namespace sy::topology
