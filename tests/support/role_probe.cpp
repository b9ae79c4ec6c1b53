// role_probe: runs one RoleProber on real Redis nodes and prints every GroupView it publishes
// as one JSON line on stdout (logs go to stderr). Each line read on stdin names a group to
// re-probe at once (RoleProber::rediscover). Driven by tests/integration/test_role_prober.py;
// also handy to watch a deployment by hand:
//
//   role_probe --group g0=127.0.0.1:7000,127.0.0.1:7001[,...] [--group ...]
//              [--auth PASSWORD] [--interval-ms N] [--timeout-ms N] [--max-lag-s N]
//
// Exits 0 on SIGINT/SIGTERM, 2 on bad arguments.
#include <unistd.h>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <istream>
#include <optional>
#include <string>

#include "common/log.h"
#include "topology/role_prober.h"
#include "view_driver.h"

namespace {

using sy::topology::RoleProbedGroupSeed;

int usage(const std::string& problem) {
  std::cerr << "role_probe: " << problem
            << "\nusage: role_probe --group NAME=HOST:PORT[,HOST:PORT...]... [--auth PASSWORD] "
               "[--interval-ms N] [--timeout-ms N] [--max-lag-s N]\n";
  return 2;
}

std::optional<RoleProbedGroupSeed> parseGroup(const std::string& value) {
  size_t equals = value.find('=');
  if (equals == std::string::npos || equals == 0) return std::nullopt;
  RoleProbedGroupSeed seed{value.substr(0, equals), {}};
  size_t start = equals + 1;
  while (start <= value.size()) {
    size_t comma = std::min(value.find(',', start), value.size());
    auto address = sy::topology::parseAddressArgument(value.substr(start, comma - start));
    if (!address) return std::nullopt;
    seed.nodes.push_back(*address);
    start = comma + 1;
  }
  return seed;
}

// Reads group names from stdin, one a line, and asks the prober to re-probe each; stops at
// end of input.
class StdinProbeRequests {
 public:
  StdinProbeRequests(asio::io_context& io, sy::topology::RoleProber& prober)
      : input_(io, ::dup(STDIN_FILENO)), prober_(prober) {}

  void readLine() {
    asio::async_read_until(input_, buffer_, '\n', [this](const std::error_code& error, size_t) {
      if (error) return;
      std::istream lines(&buffer_);
      std::string name;
      std::getline(lines, name);
      if (!name.empty()) prober_.rediscover(name);
      readLine();
    });
  }

 private:
  asio::posix::stream_descriptor input_;
  asio::streambuf buffer_;
  sy::topology::RoleProber& prober_;
};

}  // namespace

int main(int argc, char** argv) {
  sy::topology::RoleProberOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return usage("missing value after " + flag);
    std::string value = argv[++i];
    long number = std::strtol(value.c_str(), nullptr, 10);
    if (flag == "--group") {
      auto seed = parseGroup(value);
      if (!seed) return usage("bad group '" + value + "'");
      options.groups.push_back(std::move(*seed));
    } else if (flag == "--auth") {
      options.node_password = value;
    } else if (flag == "--interval-ms" && number > 0) {
      options.probe_interval = sy::common::Millis(number);
    } else if (flag == "--timeout-ms" && number > 0) {
      options.connect_timeout = options.request_timeout = sy::common::Millis(number);
    } else if (flag == "--max-lag-s") {
      options.replica_max_lag_seconds = number;
    } else {
      return usage("unknown flag or bad value: " + flag + " " + value);
    }
  }
  if (options.groups.empty()) return usage("need at least one --group");
  const sy::common::ProcessLog log("", 7);  // stderr, debug
  asio::io_context io;
  sy::topology::RoleProber prober(io, options, sy::topology::printGroupView);
  StdinProbeRequests requests(io, prober);
  requests.readLine();
  return sy::topology::runUntilSignalled(io, prober);
}
