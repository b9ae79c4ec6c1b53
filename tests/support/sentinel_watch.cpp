// sentinel_watch: runs one SentinelWatcher on real Sentinels and prints every GroupView it
// publishes as one JSON line on stdout (logs go to stderr). Driven by
// tests/integration/test_sentinel_watcher.py; also handy to watch a deployment by hand:
//
//   sentinel_watch --sentinel 127.0.0.1:26379 --group g0 [--group g1=127.0.0.1:6379]
//                  [--auth PASSWORD | --auth "USER PASSWORD"] [--poll-ms N] [--timeout-ms N]
//
// Exits 0 on SIGINT/SIGTERM, 2 on bad arguments.
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

#include "common/log.h"
#include "topology/sentinel_watcher.h"

namespace {

using sy::topology::GroupView;
using sy::topology::NodeAddress;

std::optional<NodeAddress> parseAddress(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto address = sy::topology::makeNodeAddress(text.substr(0, colon), text.substr(colon + 1));
  if (!address.ok()) return std::nullopt;
  return address.value();
}

nlohmann::json toJson(const GroupView& view) {
  nlohmann::json replicas = nlohmann::json::array();
  for (const auto& replica : view.replicas) {
    replicas.push_back({{"address", replica.address.toString()},
                        {"health", sy::topology::replicaHealthName(replica.health)},
                        {"link_up", replica.link_up},
                        {"lag_bytes", replica.lag_bytes},
                        {"lag_seconds", replica.lag_seconds},
                        {"flags", replica.sentinel_flags}});
  }
  nlohmann::json sentinels = nlohmann::json::array();
  for (const auto& sentinel : view.sentinels) {
    sentinels.push_back({{"address", sentinel.address.toString()},
                         {"reachable", sentinel.reachable},
                         {"failures", sentinel.failures}});
  }
  return {{"name", view.name},
          {"generation", view.generation},
          {"master", view.master ? view.master->toString() : ""},
          {"confirmed", view.master_confirmed},
          {"from_sentinel", view.from_sentinel},
          {"replicas", replicas},
          {"sentinels", sentinels}};
}

int usage(const std::string& problem) {
  std::cerr << "sentinel_watch: " << problem
            << "\nusage: sentinel_watch --sentinel HOST:PORT... --group NAME[=HOST:PORT]... "
               "[--auth PASSWORD|\"USER PASSWORD\"] [--poll-ms N] [--timeout-ms N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  sy::topology::SentinelWatcherOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return usage("missing value after " + flag);
    std::string value = argv[++i];
    if (flag == "--sentinel") {
      auto address = parseAddress(value);
      if (!address) return usage("bad Sentinel address '" + value + "'");
      options.sentinels.push_back(*address);
    } else if (flag == "--group") {
      sy::topology::SentinelGroupSeed seed{value.substr(0, value.find('=')), std::nullopt};
      if (size_t equals = value.find('='); equals != std::string::npos) {
        seed.guess = parseAddress(value.substr(equals + 1));
        if (!seed.guess) return usage("bad group address in '" + value + "'");
      }
      options.groups.push_back(std::move(seed));
    } else if (flag == "--auth") {
      size_t space = value.find(' ');
      options.sentinel_user = space == std::string::npos ? "" : value.substr(0, space);
      options.sentinel_password = space == std::string::npos ? value : value.substr(space + 1);
    } else if (flag == "--poll-ms" || flag == "--timeout-ms") {
      long millis = std::strtol(value.c_str(), nullptr, 10);
      if (millis <= 0) return usage("bad value for " + flag);
      (flag == "--poll-ms" ? options.poll_interval : options.request_timeout) =
          sy::common::Millis(millis);
    } else {
      return usage("unknown flag " + flag);
    }
  }
  if (options.sentinels.empty() || options.groups.empty()) {
    return usage("need at least one --sentinel and one --group");
  }
  sy::common::setupLogging("", 7);
  asio::io_context io;
  sy::topology::SentinelWatcher watcher(io, options,
                                        [](const std::shared_ptr<const GroupView>& view) {
                                          std::cout << toJson(*view).dump() << std::endl;
                                        });
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code&, int) {
    watcher.stop();
    io.stop();
  });
  watcher.start();
  io.run();
  return 0;
}
