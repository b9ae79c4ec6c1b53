// InfluxTarget: where --influxdb-url sends the statistics, parsed and checked at start-up.
//
//   http://[user:pass@]host[:port][/prefix]/write?db=NAME[&rp=POLICY][&u=USER&p=PASS]
//   udp://host[:port]
//
// HTTP is InfluxDB 1.x's /write endpoint (port 8086 by default). Credentials, from the user
// info or the u= and p= parameters, travel in an "Authorization: Basic" header, never in the
// request line; precision is always ns (any precision= given is replaced). UDP (port 8089 by
// default) goes to InfluxDB's [[udp]] listener, whose configuration names the database.
// https is refused: this client speaks plain HTTP only.
// Thread: any (pure functions).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace sy::admin {

struct InfluxTarget {
  enum class Transport { kHttp, kUdp };
  Transport transport = Transport::kHttp;
  std::string host;  // a name or an address, without IPv6 brackets
  uint16_t port = 0;
  std::string request_target;  // HTTP: "/write?db=...&precision=ns", without credentials
  std::string host_header;     // HTTP: "host:port" as the Host header wants it
  std::string authorization;   // HTTP: "Basic ..." or empty
  std::string display;         // the URL as logged: the password replaced by "***"
};

inline constexpr uint16_t kInfluxHttpPort = 8086;
inline constexpr uint16_t kInfluxUdpPort = 8089;

// The target `url` names, or an error saying what is wrong with it and what to write.
common::Result<InfluxTarget> parseInfluxUrl(std::string_view url);

// RFC 4648 base64 with padding.
std::string base64Encode(std::string_view bytes);

}  // namespace sy::admin
