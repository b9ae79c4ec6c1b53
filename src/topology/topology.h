// Topology: what the data path needs to know about the backends, as one immutable snapshot.
//
//   Config (file) --buildTopology()--> Topology --shared_ptr<const>--> every Worker
//                                        |- PoolTopology (one per pool, config order)
//                                             |- ServerInfo (one per server line)
//                                             |- KeyPlacer (hash + distribution)
//
// A new snapshot replaces the old one as a whole; nothing in it changes after it is built,
// so workers read it without locks. Built on the control thread.
#pragma once

#include <asio/generic/stream_protocol.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "hash/distribution.h"

namespace sy::topology {

using Endpoint = asio::generic::stream_protocol::endpoint;

struct ServerInfo {
  uint32_t index = 0;        // position in the pool's server list (and the placer's id)
  std::string stats_name;    // name if configured, else host:port
  std::string address_text;  // host:port or socket path, for errors and logs
  Endpoint endpoint;         // resolved when the snapshot was built
  const config::ServerConfig* config = nullptr;  // owned by the snapshot's Config
  // auto_eject_hosts: out of the distribution in this snapshot (its keys go elsewhere).
  bool ejected = false;
  int64_t ejected_at_usec = 0;  // last ejection, microseconds since the epoch; 0: never
};

struct PoolTopology {
  uint32_t index = 0;
  const config::PoolConfig* config = nullptr;  // owned by the snapshot's Config
  std::vector<ServerInfo> servers;
  hash::KeyPlacer placer;      // over the servers not ejected
  uint64_t server_ejects = 0;  // ejections in this pool since start-up (stats)

  uint32_t serverForKey(std::string_view key) const { return placer.serverForKey(key); }
};

class Topology {
 public:
  Topology(std::shared_ptr<const config::Config> config, std::vector<PoolTopology> pools)
      : config_(std::move(config)), pools_(std::move(pools)) {}

  const config::Config& config() const { return *config_; }
  const std::shared_ptr<const config::Config>& configPtr() const { return config_; }
  const std::vector<PoolTopology>& pools() const { return pools_; }

 private:
  std::shared_ptr<const config::Config> config_;
  std::vector<PoolTopology> pools_;
};

// Resolves every server address (blocking DNS: control thread or start-up only) and builds
// each pool's key placer. Fails with a message naming the server when an address cannot be
// resolved.
common::Result<std::shared_ptr<const Topology>> buildTopology(
    std::shared_ptr<const config::Config> config);

// Resolves "host:port" or a unix path to an endpoint (blocking; control thread only).
common::Result<Endpoint> resolveAddress(const config::Address& address);

}  // namespace sy::topology
