// Parsers for the one-line values of a pool: `listen`, each `servers` entry, and the
// integers they contain. Pure functions on text; errors are values whose message says what
// is wrong with the text (the caller adds file, line, pool and key). Any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/result.h"
#include "config/config.h"

namespace sy::config {

// A decimal integer with an optional leading '-': digits only, no '+', spaces, hex or
// fraction; nullopt also when it does not fit in int64_t.
std::optional<int64_t> parseInteger(std::string_view text);

// A `listen` value: "host:port", "[ipv6]:port", or an absolute unix socket path optionally
// followed by a space and octal permissions ("/var/run/sy.sock 0666"). Like nutcracker, the
// port is what follows the last ':', so an unbracketed IPv6 host ("::1:22121") is accepted.
common::Result<Address> parseListenAddress(std::string_view text);

// One `sentinels` entry: "host:port" or "[ipv6]:port" (TCP only; Sentinel has no unix socket
// form here).
common::Result<Address> parseSentinelAddress(std::string_view text);

// One `servers` entry: "host:port:weight [name]" or "/path/to/socket:weight [name]", read
// from the right as nutcracker's conf_add_server does: the name after the last space, then
// the weight after the last ':', then the port. Weight 1..2^31-1, port 1..65535. Fills
// address, weight, name and stats_name; line is left 0.
common::Result<ServerConfig> parseServerLine(std::string_view text);

}  // namespace sy::config
