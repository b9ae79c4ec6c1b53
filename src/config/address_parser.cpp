#include "config/address_parser.h"

#include <arpa/inet.h>

#include <limits>
#include <string>

namespace sy::config {
namespace {

using common::Error;
using common::makeError;
using common::Result;

constexpr int64_t kMaxWeight = std::numeric_limits<int32_t>::max();
constexpr uint32_t kMaxUnixMode = 0777;
// nutcracker leaves the port out of an unnamed server's identity on this port.
constexpr uint16_t kLibmemcachedPort = 11211;

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

bool isIpv6Literal(const std::string& text) {
  in6_addr unused{};
  return inet_pton(AF_INET6, text.c_str(), &unused) == 1;
}

bool isHostNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

// The host of "host:port" as written: a name or IPv4 literal, "[v6]", or a bare v6 literal.
// Returns the host as a resolver wants it (brackets removed).
Result<std::string> parseHost(std::string_view written) {
  if (written.empty()) {
    return makeError("the host is empty");
  }
  if (written.front() == '[') {
    std::string inner(written.substr(1, written.size() >= 2 ? written.size() - 2 : 0));
    if (written.back() != ']' || !isIpv6Literal(inner)) {
      return makeError(quoted(written) + " is not a bracketed IPv6 address such as [::1]");
    }
    return inner;
  }
  std::string host(written);
  if (host.find(':') != std::string::npos) {
    if (!isIpv6Literal(host)) {
      return makeError(quoted(written) + " is not a valid host name or IP address");
    }
    return host;
  }
  for (char c : host) {
    if (!isHostNameChar(c)) {
      return makeError(quoted(written) + " is not a valid host name or IP address");
    }
  }
  return host;
}

Result<uint16_t> parsePort(std::string_view text) {
  std::optional<int64_t> port = parseInteger(text);
  if (!port || *port < 1 || *port > 65535) {
    return makeError("invalid port " + quoted(text) + " (expected 1..65535)");
  }
  return static_cast<uint16_t>(*port);
}

// "host:port" (the part of a listen or server value before any weight): fills host and port.
Result<Address> parseHostPort(std::string_view text, std::string_view form) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return makeError(quoted(text) + " has no port; expected " + std::string(form));
  }
  Result<std::string> host = parseHost(text.substr(0, colon));
  if (!host) {
    return makeError(host.error().message + " in " + quoted(text));
  }
  Result<uint16_t> port = parsePort(text.substr(colon + 1));
  if (!port) {
    return makeError(port.error().message + " in " + quoted(text));
  }
  Address address;
  address.host = std::move(host.value());
  address.port = *port;
  return address;
}

Result<uint32_t> parseUnixMode(std::string_view text) {
  bool octal = !text.empty() && text.size() <= 4;
  uint32_t mode = 0;
  for (char c : text) {
    octal = octal && c >= '0' && c <= '7';
    mode = mode * 8 + static_cast<uint32_t>(c - '0');
  }
  if (!octal || mode > kMaxUnixMode) {
    return makeError("invalid socket permissions " + quoted(text) +
                     " (expected octal digits such as 0666, at most 0777)");
  }
  return mode;
}

Result<Address> parseUnixListen(std::string_view text) {
  Address address;
  size_t space = text.rfind(' ');
  address.unix_path = std::string(text.substr(0, space));
  if (space != std::string_view::npos) {
    Result<uint32_t> mode = parseUnixMode(text.substr(space + 1));
    if (!mode) {
      return mode.error();
    }
    address.unix_mode = *mode;
    while (!address.unix_path.empty() && address.unix_path.back() == ' ') {
      address.unix_path.pop_back();
    }
  }
  return address;
}

}  // namespace

std::optional<int64_t> parseInteger(std::string_view text) {
  bool negative = !text.empty() && text.front() == '-';
  std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty()) {
    return std::nullopt;
  }
  int64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    int digit = c - '0';
    if (value > (std::numeric_limits<int64_t>::max() - digit) / 10) {
      return std::nullopt;
    }
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

Result<Address> parseListenAddress(std::string_view text) {
  if (text.empty()) {
    return makeError("the address is empty");
  }
  if (text.front() == '/') {
    return parseUnixListen(text);
  }
  return parseHostPort(text, "host:port, [ipv6]:port or an absolute unix socket path");
}

Result<Address> parseSentinelAddress(std::string_view text) {
  if (text.empty()) {
    return makeError("the address is empty");
  }
  if (text.front() == '/') {
    return makeError(quoted(text) + " is a unix socket path; a Sentinel is reached over TCP as " +
                     "host:port");
  }
  return parseHostPort(text, "host:port or [ipv6]:port (e.g. 127.0.0.1:26379)");
}

Result<ServerConfig> parseServerLine(std::string_view text) {
  static constexpr std::string_view kForm =
      "'host:port:weight [name]' or '/path/to/socket:weight [name]'";
  ServerConfig server;
  std::string_view rest = text;
  if (size_t space = text.rfind(' '); space != std::string_view::npos) {
    server.name = std::string(text.substr(space + 1));
    rest = text.substr(0, space);
    if (server.name.empty() || rest.find(' ') != std::string_view::npos) {
      return makeError(quoted(text) + " has stray spaces; expected " + std::string(kForm));
    }
  }
  size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || rest.empty()) {
    return makeError(quoted(text) + " has no weight; expected " + std::string(kForm));
  }
  std::string_view weight_text = rest.substr(colon + 1);
  std::optional<int64_t> weight = parseInteger(weight_text);
  if (!weight || *weight < 1 || *weight > kMaxWeight) {
    return makeError("invalid weight " + quoted(weight_text) + " in " + quoted(text) +
                     " (expected a whole number from 1 to 2147483647)");
  }
  server.weight = static_cast<uint32_t>(*weight);
  std::string_view address_text = rest.substr(0, colon);
  bool is_unix = !address_text.empty() && address_text.front() == '/';
  if (!is_unix && address_text.find(':') == std::string_view::npos) {
    return makeError(quoted(text) + " lacks a port or a weight; expected " + std::string(kForm));
  }
  if (is_unix) {
    server.address.unix_path = std::string(address_text);
    server.stats_name = server.name.empty() ? server.address.unix_path + ":" : server.name;
    return server;
  }
  Result<Address> address = parseHostPort(address_text, kForm);
  if (!address) {
    return address.error();
  }
  server.address = std::move(address.value());
  if (!server.name.empty()) {
    server.stats_name = server.name;
  } else if (server.address.port == kLibmemcachedPort) {
    server.stats_name = std::string(address_text.substr(0, address_text.rfind(':')));
  } else {
    server.stats_name = std::string(address_text);
  }
  return server;
}

}  // namespace sy::config
