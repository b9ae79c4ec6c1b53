#include "topology/sentinel_replies.h"

#include <charconv>
#include <utility>

#include "resp/reply_inspect.h"

namespace sy::topology {
namespace {

using common::makeError;
using common::Result;

std::optional<int64_t> toInteger(std::string_view text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

common::Error replyError(std::string_view what, std::string_view framed) {
  if (resp::isErrorReply(framed)) {
    return makeError(std::string(what) + ": " + std::string(resp::lineReplyText(framed)));
  }
  return makeError(std::string(what) + ": unexpected reply");
}

Result<RoleReply> parseMasterRole(const std::vector<std::string_view>& items) {
  RoleReply role;
  role.kind = RoleReply::Kind::kMaster;
  std::optional<int64_t> offset =
      items.size() == 3 ? resp::integerOrDecimalReply(items[1]) : std::nullopt;
  std::vector<std::string_view> replicas;
  if (!offset || !resp::splitArray(items[2], replicas)) {
    return makeError("ROLE: malformed master reply");
  }
  role.offset = *offset;
  std::vector<std::string_view> fields;
  for (std::string_view replica : replicas) {
    std::optional<std::string_view> host, port;
    std::optional<int64_t> replica_offset;
    if (resp::splitArray(replica, fields) && fields.size() == 3) {
      host = resp::textReply(fields[0]);
      port = resp::textReply(fields[1]);
      replica_offset = resp::integerOrDecimalReply(fields[2]);
    }
    Result<NodeAddress> address =
        host && port ? makeNodeAddress(*host, *port) : Result<NodeAddress>(makeError("no address"));
    if (!address || !replica_offset) {
      return makeError("ROLE: malformed replica entry in a master reply");
    }
    role.replicas.push_back({std::move(address.value()), *replica_offset});
  }
  return role;
}

Result<RoleReply> parseReplicaRole(const std::vector<std::string_view>& items) {
  if (items.size() != 5) {
    return makeError("ROLE: malformed replica reply");
  }
  std::optional<std::string_view> host = resp::textReply(items[1]);
  std::optional<int64_t> port = resp::integerOrDecimalReply(items[2]);
  std::optional<std::string_view> state = resp::textReply(items[3]);
  std::optional<int64_t> offset = resp::integerOrDecimalReply(items[4]);
  if (!host || !port || !state || !offset || *port < 1 || *port > 65535) {
    return makeError("ROLE: malformed replica reply");
  }
  RoleReply role;
  role.kind = RoleReply::Kind::kReplica;
  role.master = {std::string(*host), static_cast<uint16_t>(*port)};
  role.link_state = std::string(*state);
  role.offset = *offset;
  return role;
}

// "ip=127.0.0.1,port=6380,state=online,offset=42,lag=0"
std::optional<ReplicaLine> parseReplicaLine(std::string_view text) {
  std::string_view ip, port, offset, lag;
  ReplicaLine line;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view pair = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    size_t equals = pair.find('=');
    if (equals == std::string_view::npos) return std::nullopt;
    std::string_view key = pair.substr(0, equals);
    std::string_view value = pair.substr(equals + 1);
    if (key == "ip") ip = value;
    if (key == "port") port = value;
    if (key == "state") line.state = std::string(value);
    if (key == "offset") offset = value;
    if (key == "lag") lag = value;
  }
  Result<NodeAddress> address = makeNodeAddress(ip, port);
  std::optional<int64_t> offset_value = toInteger(offset);
  if (!address || !offset_value) return std::nullopt;
  line.address = std::move(address.value());
  line.offset = *offset_value;
  line.lag_seconds = toInteger(lag).value_or(-1);
  return line;
}

bool isIpv6(std::string_view host) { return host.find(':') != std::string_view::npos; }

}  // namespace

std::string NodeAddress::toString() const {
  std::string port_text = std::to_string(port);
  return isIpv6(host) ? "[" + host + "]:" + port_text : host + ":" + port_text;
}

Result<NodeAddress> makeNodeAddress(std::string_view host, std::string_view port) {
  std::optional<int64_t> number = toInteger(port);
  if (host.empty() || !number || *number < 1 || *number > 65535) {
    return makeError("invalid address '" + std::string(host) + ":" + std::string(port) + "'");
  }
  return NodeAddress{std::string(host), static_cast<uint16_t>(*number)};
}

Result<std::optional<NodeAddress>> parseMasterAddrReply(std::string_view framed) {
  if (framed.starts_with("*-1\r\n") || framed.starts_with("$-1\r\n")) {
    return std::optional<NodeAddress>();
  }
  std::vector<std::string_view> items;
  if (!resp::splitArray(framed, items) || items.size() != 2) {
    return replyError("SENTINEL get-master-addr-by-name", framed);
  }
  std::optional<std::string_view> host = resp::textReply(items[0]);
  std::optional<std::string_view> port = resp::textReply(items[1]);
  if (!host || !port) {
    return makeError("SENTINEL get-master-addr-by-name: malformed address");
  }
  Result<NodeAddress> address = makeNodeAddress(*host, *port);
  if (!address) {
    return makeError("SENTINEL get-master-addr-by-name: " + address.error().message);
  }
  return std::optional<NodeAddress>(std::move(address.value()));
}

bool SentinelInstance::hasFlag(std::string_view flag) const {
  std::string_view rest = flags;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    if (rest.substr(0, comma) == flag) return true;
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return false;
}

bool SentinelInstance::flaggedDown() const {
  return hasFlag("s_down") || hasFlag("o_down") || hasFlag("disconnected");
}

Result<std::vector<SentinelInstance>> parseInstanceList(std::string_view framed) {
  std::vector<std::string_view> entries;
  if (!resp::splitArray(framed, entries)) {
    return replyError("SENTINEL replicas/sentinels", framed);
  }
  std::vector<SentinelInstance> instances;
  std::vector<std::string_view> fields;
  for (std::string_view entry : entries) {
    if (!resp::splitArray(entry, fields) || fields.size() % 2 != 0) {
      return makeError("SENTINEL replicas/sentinels: malformed entry");
    }
    SentinelInstance instance;
    std::string_view ip, port;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      std::optional<std::string_view> key = resp::textReply(fields[i]);
      std::optional<std::string_view> value = resp::textReply(fields[i + 1]);
      if (!key || !value) {
        return makeError("SENTINEL replicas/sentinels: malformed field");
      }
      if (*key == "ip") ip = *value;
      if (*key == "port") port = *value;
      if (*key == "flags") instance.flags = std::string(*value);
      if (*key == "master-link-status") instance.master_link_status = std::string(*value);
      if (*key == "master-link-down-time") {
        instance.master_link_down_time_ms = toInteger(*value).value_or(0);
      }
      if (*key == "slave-repl-offset") instance.repl_offset = toInteger(*value).value_or(-1);
    }
    Result<NodeAddress> address = makeNodeAddress(ip, port);
    if (!address) {
      return makeError("SENTINEL replicas/sentinels: " + address.error().message);
    }
    instance.address = std::move(address.value());
    instances.push_back(std::move(instance));
  }
  return instances;
}

Result<RoleReply> parseRoleReply(std::string_view framed) {
  std::vector<std::string_view> items;
  if (!resp::splitArray(framed, items) || items.empty()) {
    return replyError("ROLE", framed);
  }
  std::optional<std::string_view> kind = resp::textReply(items[0]);
  if (kind == "master") return parseMasterRole(items);
  if (kind == "slave") return parseReplicaRole(items);
  if (kind == "sentinel") {
    RoleReply role;
    role.kind = RoleReply::Kind::kSentinel;
    return role;
  }
  return makeError("ROLE: unknown role");
}

Result<InfoReplication> parseInfoReplication(std::string_view framed) {
  std::optional<std::string_view> text = resp::bulkReply(framed);
  if (!text) {
    return replyError("INFO replication", framed);
  }
  InfoReplication info;
  std::string_view rest = *text;
  while (!rest.empty()) {
    size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t colon = line.find(':');
    if (line.empty() || line.front() == '#' || colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    if (key == "role") info.role = std::string(value);
    if (key == "master_repl_offset") info.master_repl_offset = toInteger(value).value_or(-1);
    if (key == "master_link_status") info.master_link_status = std::string(value);
    if (key.starts_with("slave") && toInteger(key.substr(5))) {
      if (std::optional<ReplicaLine> replica = parseReplicaLine(value)) {
        info.replicas.push_back(std::move(*replica));
      }
    }
  }
  if (info.role.empty()) {
    return makeError("INFO replication: no role line");
  }
  return info;
}

const std::vector<std::string>& sentinelEventChannels() {
  static const std::vector<std::string> kChannels = {
      "+switch-master",
      "+sdown",
      "-sdown",
      "+odown",
      "-odown",
      "+slave",
      "+convert-to-slave",
      "+role-change",
      "-role-change",
      "+failover-end",
      "+failover-end-for-timeout",
      "-failover-abort-no-good-slave",
      "-failover-abort-not-elected",
      "-failover-abort-slave-timeout",
      "+try-failover",
      "+selected-slave",
      "+failover-state-send-slaveof-noone",
      "+slave-reconf-done",
      "+sentinel",
      "+reboot",
      "+fix-slave-config",
      "+promoted-slave",
      "+reset-master",
      "+monitor",
      "-monitor",
  };
  return kChannels;
}

std::optional<SentinelEvent> parseEventMessage(std::string_view framed) {
  std::vector<std::string_view> items;
  if (!resp::splitArray(framed, items) || items.size() != 3) {
    return std::nullopt;
  }
  std::optional<std::string_view> kind = resp::textReply(items[0]);
  std::optional<std::string_view> channel = resp::textReply(items[1]);
  std::optional<std::string_view> payload = resp::textReply(items[2]);
  if (kind != "message" || !channel || !payload) {
    return std::nullopt;
  }
  return describeEvent(std::string(*channel), std::string(*payload));
}

SentinelEvent describeEvent(std::string channel, std::string payload) {
  SentinelEvent event{std::move(channel), std::move(payload), {}, std::nullopt};
  std::vector<std::string_view> words;
  std::string_view rest = event.payload;
  while (!rest.empty()) {
    size_t space = rest.find(' ');
    if (space != 0) words.push_back(rest.substr(0, space));
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  }
  if (event.channel == "+switch-master") {
    if (words.size() == 5) {
      event.master_name = std::string(words[0]);
      if (Result<NodeAddress> address = makeNodeAddress(words[3], words[4])) {
        event.new_master = std::move(address.value());
      }
    }
    return event;
  }
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i] == "@" && i + 1 < words.size()) {
      event.master_name = std::string(words[i + 1]);
      // "+promoted-slave": "slave <ip:port> <ip> <port> @ <master> ...": the new master.
      if (event.channel == "+promoted-slave" && i >= 4) {
        if (Result<NodeAddress> address = makeNodeAddress(words[2], words[3])) {
          event.new_master = std::move(address.value());
        }
      }
      return event;
    }
  }
  if (words.size() >= 2 && words[0] == "master") {
    event.master_name = std::string(words[1]);
  }
  return event;
}

}  // namespace sy::topology
