#include "admin/influx_url.h"

#include <fmt/format.h>

#include <charconv>
#include <optional>
#include <vector>

namespace sy::admin {
namespace {

using common::makeError;
using common::Result;

constexpr std::string_view kHttpExample = "http://host:8086/write?db=NAME";

std::optional<int> hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return std::nullopt;
}

// %XX sequences decoded, '+' kept (credentials are not form data); nullopt on a bad escape.
std::optional<std::string> percentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    auto high = hexDigit(text[i + 1]);
    auto low = hexDigit(text[i + 2]);
    if (!high || !low) return std::nullopt;
    out += static_cast<char>(*high * 16 + *low);
    i += 2;
  }
  return out;
}

struct Authority {
  std::string user;
  std::optional<std::string> password;
  std::string host;
  uint16_t port = 0;
  std::string host_header;
};

Result<Authority> parseAuthority(std::string_view text, uint16_t default_port) {
  Authority out;
  if (size_t at = text.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = text.substr(0, at);
    text.remove_prefix(at + 1);
    size_t colon = userinfo.find(':');
    auto user = percentDecode(userinfo.substr(0, colon));
    if (!user) return makeError("bad %-escape in the user name");
    out.user = *user;
    if (colon != std::string_view::npos) {
      auto password = percentDecode(userinfo.substr(colon + 1));
      if (!password) return makeError("bad %-escape in the password");
      out.password = *password;
    }
  }
  std::string_view port_text;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return makeError("unclosed '[' in the host");
    out.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return makeError("junk after ']' in the host");
    if (!rest.empty()) port_text = rest.substr(1);
  } else {
    size_t colon = text.rfind(':');
    out.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) port_text = text.substr(colon + 1);
  }
  if (out.host.empty()) return makeError("no host");
  out.port = default_port;
  if (!port_text.empty() || text.ends_with(':')) {
    unsigned value = 0;
    auto [end, error] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (error != std::errc() || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      return makeError(fmt::format("bad port '{}' (1..65535)", port_text));
    }
    out.port = static_cast<uint16_t>(value);
  }
  bool ipv6 = out.host.find(':') != std::string::npos;
  out.host_header =
      ipv6 ? fmt::format("[{}]:{}", out.host, out.port) : fmt::format("{}:{}", out.host, out.port);
  return out;
}

std::vector<std::string_view> splitQuery(std::string_view query) {
  std::vector<std::string_view> parts;
  while (!query.empty()) {
    size_t amp = query.find('&');
    if (amp != 0) parts.push_back(query.substr(0, amp));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return parts;
}

// The /write request target, with u= and p= moved into `authority` and precision=ns.
Result<std::string> writeTarget(std::string_view path, std::string_view query,
                                Authority& authority) {
  if (!path.ends_with("/write")) {
    return makeError(
        fmt::format("the path must end in /write (InfluxDB 1.x's write endpoint), "
                    "as in {}",
                    kHttpExample));
  }
  std::string target = std::string(path) + "?";
  bool has_db = false;
  for (std::string_view part : splitQuery(query)) {
    std::string_view key = part.substr(0, part.find('='));
    std::string_view value = key.size() < part.size() ? part.substr(key.size() + 1) : "";
    if (key == "u" || key == "p") {
      auto decoded = percentDecode(value);
      if (!decoded) return makeError(fmt::format("bad %-escape in {}=", key));
      if (key == "u") authority.user = *decoded;
      if (key == "p") authority.password = *decoded;
      continue;
    }
    if (key == "precision") continue;
    if (key == "db") has_db = !value.empty();
    target += std::string(part) + "&";
  }
  if (!has_db) {
    return makeError(fmt::format("no database: add db=NAME to the query, as in {}", kHttpExample));
  }
  return target + "precision=ns";
}

}  // namespace

std::string base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t chunk = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) chunk |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) chunk |= static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(chunk >> 18) & 63];
    out += kAlphabet[(chunk >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(chunk >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[chunk & 63] : '=';
  }
  return out;
}

Result<InfluxTarget> parseInfluxUrl(std::string_view url) {
  size_t scheme_end = url.find("://");
  std::string_view scheme = scheme_end == std::string_view::npos ? "" : url.substr(0, scheme_end);
  InfluxTarget target;
  uint16_t default_port = kInfluxHttpPort;
  if (scheme == "https") {
    return makeError(
        "TLS (https) is not supported: use http:// to InfluxDB on a trusted "
        "network, or a local relay such as Telegraf");
  } else if (scheme == "udp") {
    target.transport = InfluxTarget::Transport::kUdp;
    default_port = kInfluxUdpPort;
  } else if (scheme != "http") {
    return makeError(fmt::format("unknown scheme in '{}': write {} or udp://host:8089",
                                 url.substr(0, 64), kHttpExample));
  }
  std::string_view rest = url.substr(scheme_end + 3);
  size_t authority_end = rest.find_first_of("/?");
  auto authority = parseAuthority(rest.substr(0, authority_end), default_port);
  if (!authority) return authority.error();
  std::string_view path_and_query =
      authority_end == std::string_view::npos ? "" : rest.substr(authority_end);
  if (target.transport == InfluxTarget::Transport::kUdp) {
    if (!path_and_query.empty() && path_and_query != "/") {
      return makeError(
          "udp:// takes no path or query: InfluxDB's [[udp]] listener names the "
          "database");
    }
  } else {
    size_t question = path_and_query.find('?');
    std::string_view query =
        question == std::string_view::npos ? "" : path_and_query.substr(question + 1);
    auto request_target = writeTarget(path_and_query.substr(0, question), query, *authority);
    if (!request_target) return request_target.error();
    target.request_target = std::move(*request_target);
    if (!authority->user.empty() || authority->password) {
      target.authorization =
          "Basic " + base64Encode(authority->user + ":" + authority->password.value_or(""));
    }
  }
  target.host = authority->host;
  target.port = authority->port;
  target.host_header = authority->host_header;
  target.display = fmt::format(
      "{}://{}{}", scheme, authority->host_header,
      target.transport == InfluxTarget::Transport::kHttp ? target.request_target : std::string());
  if (!target.authorization.empty()) target.display += " (as user " + authority->user + ")";
  return target;
}

}  // namespace sy::admin
