// sentinel_watch: runs one SentinelWatcher on real Sentinels and prints every GroupView it
// publishes as one JSON line on stdout (logs go to stderr). Driven by
// tests/integration/test_sentinel_watcher.py; also handy to watch a deployment by hand:
//
//   sentinel_watch --sentinel 127.0.0.1:26379 --group g0 [--group g1=127.0.0.1:6379]
//                  [--auth PASSWORD | --auth "USER PASSWORD"] [--poll-ms N] [--timeout-ms N]
//
// Exits 0 on SIGINT/SIGTERM, 2 on bad arguments.
#include <asio/io_context.hpp>

#include <cstdlib>
#include <iostream>
#include <string>

#include "common/log.h"
#include "topology/sentinel_watcher.h"
#include "view_driver.h"

namespace {

using sy::topology::parseAddressArgument;

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
      auto address = parseAddressArgument(value);
      if (!address) return usage("bad Sentinel address '" + value + "'");
      options.sentinels.push_back(*address);
    } else if (flag == "--group") {
      sy::topology::SentinelGroupSeed seed{value.substr(0, value.find('=')), std::nullopt};
      if (size_t equals = value.find('='); equals != std::string::npos) {
        seed.guess = parseAddressArgument(value.substr(equals + 1));
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
  const sy::common::ProcessLog log("", 7);  // stderr, debug
  asio::io_context io;
  sy::topology::SentinelWatcher watcher(io, options, sy::topology::printGroupView);
  return sy::topology::runUntilSignalled(io, watcher);
}
