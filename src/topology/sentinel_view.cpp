#include "topology/sentinel_view.h"

#include <arpa/inet.h>

#include <algorithm>
#include <map>

namespace sy::topology {
namespace {

bool isIpLiteral(const std::string& host) {
  in6_addr v6{};
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

std::string masterText(const GroupView& view) {
  if (!view.master) return "unknown";
  return view.master->toString() + (view.master_confirmed ? " confirmed" : " unconfirmed");
}

}  // namespace

bool mayBeSameNode(const NodeAddress& named, const NodeAddress& known) {
  if (named.port != known.port) return false;
  return named.host == known.host || !isIpLiteral(named.host) || !isIpLiteral(known.host);
}

const char* replicaHealthName(ReplicaHealth health) {
  switch (health) {
    case ReplicaHealth::kHealthy:
      return "healthy";
    case ReplicaHealth::kLagging:
      return "lagging";
    case ReplicaHealth::kLinkDown:
      return "link down";
    case ReplicaHealth::kNotFollowing:
      return "replicating from another node";
    case ReplicaHealth::kFlaggedDown:
      return "down according to Sentinel";
    case ReplicaHealth::kUnreachable:
      return "unreachable";
    case ReplicaHealth::kNotReplica:
      return "not a replica";
  }
  return "unknown";
}

size_t GroupView::healthyReplicas() const {
  return static_cast<size_t>(std::count_if(replicas.begin(), replicas.end(),
                                           [](const ReplicaView& r) { return r.healthy(); }));
}

size_t GroupView::reachableSentinels() const {
  return static_cast<size_t>(std::count_if(sentinels.begin(), sentinels.end(),
                                           [](const SentinelView& s) { return s.reachable; }));
}

bool sameState(const GroupView& a, const GroupView& b) {
  if (a.name != b.name || a.master != b.master || a.master_confirmed != b.master_confirmed ||
      a.from_sentinel != b.from_sentinel || a.claimed_masters != b.claimed_masters ||
      a.failover_in_progress != b.failover_in_progress || a.replicas.size() != b.replicas.size() ||
      a.sentinels.size() != b.sentinels.size()) {
    return false;
  }
  for (size_t i = 0; i < a.replicas.size(); ++i) {
    const ReplicaView& x = a.replicas[i];
    const ReplicaView& y = b.replicas[i];
    if (x.address != y.address || x.health != y.health || x.link_up != y.link_up ||
        x.sentinel_flags != y.sentinel_flags) {
      return false;
    }
  }
  for (size_t i = 0; i < a.sentinels.size(); ++i) {
    if (a.sentinels[i].address != b.sentinels[i].address ||
        a.sentinels[i].reachable != b.sentinels[i].reachable) {
      return false;
    }
  }
  return true;
}

std::string describeChange(const GroupView* before, const GroupView& after) {
  std::string text = "group '" + after.name + "' generation " + std::to_string(after.generation) +
                     ": master " + masterText(after);
  if (before != nullptr &&
      (before->master != after.master || before->master_confirmed != after.master_confirmed)) {
    text += " (was " + masterText(*before) + ")";
  }
  if (!after.claimed_masters.empty()) {
    text += "; " + std::to_string(after.claimed_masters.size()) + " nodes claim master (";
    for (size_t i = 0; i < after.claimed_masters.size(); ++i) {
      text += (i == 0 ? "" : ", ") + after.claimed_masters[i].toString();
    }
    text += "): writes refused";
  }
  if (after.failover_in_progress) text += "; failover under way, writes wait";
  std::map<NodeAddress, const ReplicaView*> old_replicas;
  if (before != nullptr) {
    for (const ReplicaView& replica : before->replicas) old_replicas[replica.address] = &replica;
  }
  for (const ReplicaView& replica : after.replicas) {
    auto old = old_replicas.find(replica.address);
    text += "; replica " + replica.address.toString() + " " + replicaHealthName(replica.health);
    if (old != old_replicas.end() && old->second->health != replica.health) {
      text += std::string(" (was ") + replicaHealthName(old->second->health) + ")";
    } else if (before != nullptr && old == old_replicas.end()) {
      text += " (new)";
    }
    if (old != old_replicas.end()) old_replicas.erase(old);
  }
  for (const auto& [address, replica] : old_replicas) {
    text += "; replica " + address.toString() + " gone";
  }
  if (after.sentinels.empty()) return text;  // a role-probed group
  text += "; Sentinels " + std::to_string(after.reachableSentinels()) + "/" +
          std::to_string(after.sentinels.size()) + " reachable";
  for (const SentinelView& sentinel : after.sentinels) {
    if (!sentinel.reachable) text += ", " + sentinel.address.toString() + " unreachable";
  }
  if (!after.from_sentinel) text += "; no Sentinel answered, keeping the last known state";
  return text;
}

ReplicaView assessReplica(const NodeAddress& address, const SentinelInstance* sentinel,
                          const RoleReply* role, bool role_answered, const NodeAddress& master,
                          const RoleReply* master_role, const InfoReplication* master_info,
                          int64_t max_lag_seconds) {
  ReplicaView view;
  view.address = address;
  if (sentinel != nullptr) view.sentinel_flags = sentinel->flags;
  if (sentinel != nullptr && sentinel->flaggedDown()) {
    view.health = ReplicaHealth::kFlaggedDown;
    return view;
  }
  if (!role_answered || role == nullptr) {
    view.health = ReplicaHealth::kUnreachable;
    return view;
  }
  if (role->kind != RoleReply::Kind::kReplica) {
    view.health = ReplicaHealth::kNotReplica;
    return view;
  }
  view.link_up = role->link_state == "connected";
  if (master_role != nullptr && master_role->kind == RoleReply::Kind::kMaster) {
    view.lag_bytes = std::max<int64_t>(0, master_role->offset - role->offset);
  }
  if (master_info != nullptr) {
    for (const ReplicaLine& line : master_info->replicas) {
      if (line.address.port == address.port && mayBeSameNode(line.address, address)) {
        view.lag_seconds = line.lag_seconds;
      }
    }
  }
  if (!mayBeSameNode(role->master, master)) {
    view.health = ReplicaHealth::kNotFollowing;
  } else if (!view.link_up) {
    view.health = ReplicaHealth::kLinkDown;
  } else if (max_lag_seconds >= 0 && view.lag_seconds > max_lag_seconds) {
    view.health = ReplicaHealth::kLagging;
  } else {
    view.health = ReplicaHealth::kHealthy;
  }
  return view;
}

}  // namespace sy::topology
