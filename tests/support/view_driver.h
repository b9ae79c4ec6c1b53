// What the topology drivers (sentinel_watch, role_probe) share: reading HOST:PORT arguments,
// printing each published GroupView as one JSON line on stdout, and running the control
// thread until SIGINT or SIGTERM. Single-threaded: everything runs on the caller's thread.
#pragma once

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <string_view>

#include "topology/group_provider.h"
#include "topology/sentinel_view.h"

namespace sy::topology {

// "host:port" -> NodeAddress; nullopt when malformed.
inline std::optional<NodeAddress> parseAddressArgument(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto address = makeNodeAddress(text.substr(0, colon), text.substr(colon + 1));
  if (!address.ok()) return std::nullopt;
  return address.value();
}

inline nlohmann::json groupViewJson(const GroupView& view) {
  nlohmann::json replicas = nlohmann::json::array();
  for (const auto& replica : view.replicas) {
    replicas.push_back({{"address", replica.address.toString()},
                        {"health", replicaHealthName(replica.health)},
                        {"link_up", replica.link_up},
                        {"lag_bytes", replica.lag_bytes},
                        {"lag_seconds", replica.lag_seconds},
                        {"rtt_usec", replica.rtt_usec},
                        {"flags", replica.sentinel_flags}});
  }
  nlohmann::json sentinels = nlohmann::json::array();
  for (const auto& sentinel : view.sentinels) {
    sentinels.push_back({{"address", sentinel.address.toString()},
                         {"reachable", sentinel.reachable},
                         {"failures", sentinel.failures}});
  }
  nlohmann::json claimed = nlohmann::json::array();
  for (const NodeAddress& address : view.claimed_masters) claimed.push_back(address.toString());
  return {{"name", view.name},
          {"generation", view.generation},
          {"master", view.master ? view.master->toString() : ""},
          {"confirmed", view.master_confirmed},
          {"master_rtt_usec", view.master_rtt_usec},
          {"claimed_masters", claimed},
          {"from_sentinel", view.from_sentinel},
          {"replicas", replicas},
          {"sentinels", sentinels}};
}

// The listener of a driver: one JSON line per published view.
inline void printGroupView(const std::shared_ptr<const GroupView>& view) {
  std::cout << groupViewJson(*view).dump() << std::endl;
}

// Starts `provider` (a SentinelWatcher or a RoleProber) and runs `io` until SIGINT or SIGTERM,
// which stop the provider first.
inline int runUntilSignalled(asio::io_context& io, GroupProvider& provider) {
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code&, int) {
    provider.stop();
    io.stop();
  });
  provider.start();
  io.run();
  return 0;
}

}  // namespace sy::topology
