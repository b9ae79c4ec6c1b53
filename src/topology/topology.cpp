#include "topology/topology.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

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
      servers.push_back(std::move(info));
      // stats_name is nutcracker's server name, derived from the line as written; it is
      // also the string nutcracker hashes onto the ring (twemproxy-compat.md, C3).
      members.push_back(
          hash::RingMember{server.stats_name, server.weight, static_cast<uint32_t>(s)});
    }
    hash::KeyPlacer placer(pool_config.hash, pool_config.hash_tag, pool_config.distribution,
                           members);
    pools.push_back(PoolTopology{static_cast<uint32_t>(p), &pool_config, std::move(servers),
                                 std::move(placer)});
  }
  return std::shared_ptr<const Topology>(
      std::make_shared<const Topology>(std::move(config), std::move(pools)));
}

}  // namespace sy::topology
