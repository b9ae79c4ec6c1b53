#include "topology/role_prober.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <utility>

#include "resp/reply_inspect.h"

namespace sy::topology {

// One probe round of one group: what each of its nodes answered.
struct RoleProber::Round {
  GroupState* group = nullptr;
  std::vector<NodeProbe> probes;  // one per seed node, in config order; never resized
  size_t outstanding = 0;         // requests not yet answered (or failed)
};

GroupView assembleProbedView(const std::string& name, const std::vector<NodeProbe>& nodes,
                             const std::optional<NodeAddress>& last_master,
                             int64_t max_lag_seconds) {
  GroupView view;
  view.name = name;
  if (nodes.empty()) return view;
  std::vector<const NodeProbe*> claimants;
  for (const NodeProbe& node : nodes) {
    if (node.role && node.role->kind == RoleReply::Kind::kMaster) claimants.push_back(&node);
  }
  const NodeProbe* master = nullptr;
  if (claimants.size() == 1) {
    master = claimants.front();
    view.master = master->address;
    view.master_confirmed = true;
  } else {
    for (const NodeProbe* claimant : claimants) view.claimed_masters.push_back(claimant->address);
    std::sort(view.claimed_masters.begin(), view.claimed_masters.end());
    view.master = last_master ? *last_master : nodes.front().address;
    for (const NodeProbe& node : nodes) {
      if (node.address == *view.master) master = &node;
    }
  }
  view.master_rtt_usec = master != nullptr ? master->rtt_usec : -1;
  const RoleReply* master_role = view.master_confirmed ? &*master->role : nullptr;
  const InfoReplication* master_info =
      view.master_confirmed && master->info ? &*master->info : nullptr;
  std::set<NodeAddress> seen{*view.master};  // a node listed twice in the config counts once
  for (const NodeProbe& node : nodes) {
    if (!seen.insert(node.address).second) continue;
    const RoleReply* role = node.role ? &*node.role : nullptr;
    ReplicaView replica = assessReplica(node.address, nullptr, role, role != nullptr, *view.master,
                                        master_role, master_info, max_lag_seconds);
    replica.rtt_usec = node.rtt_usec;
    view.replicas.push_back(std::move(replica));
  }
  std::sort(view.replicas.begin(), view.replicas.end(),
            [](const ReplicaView& a, const ReplicaView& b) { return a.address < b.address; });
  return view;
}

RoleProberOptions roleProberOptionsFor(const config::PoolConfig& pool) {
  RoleProberOptions options;
  for (const config::ServerConfig& server : pool.servers) {
    RoleProbedGroupSeed seed{server.stats_name, {}};
    if (server.isRoleProbedGroup()) {
      for (const config::Address& node : server.group_nodes) {
        seed.nodes.push_back({node.host, node.port});
      }
    } else if (!server.address.isUnix()) {
      seed.nodes.push_back({server.address.host, server.address.port});
    }
    if (!seed.nodes.empty()) options.groups.push_back(std::move(seed));
  }
  options.node_password = pool.redis_auth;
  options.probe_interval = common::Millis(pool.role_probe_interval_ms);
  options.replica_max_lag_seconds = pool.replica_max_lag_s;
  return options;
}

RoleProber::RoleProber(asio::io_context& io, RoleProberOptions options, Listener listener)
    : PollingProvider(io,
                      {"", options.node_password, options.connect_timeout, options.request_timeout},
                      options.probe_interval),
      io_(io),
      options_(std::move(options)),
      listener_(std::move(listener)) {
  groups_.reserve(options_.groups.size());
  for (const RoleProbedGroupSeed& seed : options_.groups) {
    GroupState group;
    group.seed = seed;
    groups_.push_back(std::move(group));
  }
}

// stop() runs onStop(), which ~PollingProvider can no longer call.
RoleProber::~RoleProber() { stop(); }

void RoleProber::onStart() {
  for (GroupState& group : groups_) trigger(group);
}

void RoleProber::onStop() {
  for (GroupState& group : groups_) {
    group.running = false;
    group.again = false;
  }
}

void RoleProber::onPoll() {
  for (GroupState& group : groups_) trigger(group);
}

std::shared_ptr<const GroupView> RoleProber::current(const std::string& name) const {
  for (const GroupState& group : groups_) {
    if (group.seed.name == name) return group.published;
  }
  return nullptr;
}

void RoleProber::rediscover(const std::string& name) {
  for (GroupState& group : groups_) {
    if (group.seed.name == name) trigger(group);
  }
}

void RoleProber::trigger(GroupState& group) {
  if (!running()) return;
  if (group.running) {
    group.again = true;
    return;
  }
  startRound(group);
}

void RoleProber::startRound(GroupState& group) {
  group.running = true;
  group.again = false;
  auto round = std::make_shared<Round>();
  round->group = &group;
  for (const NodeAddress& address : group.seed.nodes) round->probes.push_back({address, {}, {}});
  round->outstanding = round->probes.size();
  if (round->probes.empty()) {
    finishRound(round);
    return;
  }
  for (size_t index = 0; index < round->probes.size(); ++index) probeNode(round, index);
}

void RoleProber::probeNode(const std::shared_ptr<Round>& round, size_t index) {
  std::weak_ptr<int> life = this->life();
  auto done = [this, life, round]() {
    if (!life.expired() && --round->outstanding == 0) finishRound(round);
  };
  const NodeAddress address = round->probes[index].address;
  nodes_.to(address).requestTimed(
      {"ROLE"}, [this, life, round, index, address, done](common::Result<std::string> reply,
                                                          int64_t rtt_usec) {
        if (life.expired()) return;
        auto role = reply.ok() ? parseRoleReply(*reply) : reply.error();
        if (!role.ok()) {
          bool refused = reply.ok() && resp::isErrorReply(*reply);
          nodeFailed(address, !reply.ok() ? reply.error().message
                              : refused   ? std::string(resp::lineReplyText(*reply))
                                          : role.error().message);
          done();
          return;
        }
        NodeProbe& probe = round->probes[index];
        probe.role = std::move(role.value());
        probe.rtt_usec = rtt_usec;
        if (probe.role->kind == RoleReply::Kind::kMaster) {
          ++round->outstanding;
          nodes_.to(address).request(
              {"INFO", "replication"}, [round, index, done](common::Result<std::string> info) {
                if (info.ok()) {
                  if (auto parsed = parseInfoReplication(*info); parsed.ok()) {
                    round->probes[index].info = std::move(parsed.value());
                  }
                }
                done();
              });
        }
        done();
      });
}

void RoleProber::nodeFailed(const NodeAddress& address, const std::string& error) {
  ++stats_.node_failures;
  uint64_t suppressed = 0;
  if (node_log_.allow(suppressed)) {
    spdlog::warn("role probe: node {}: {} ({} similar messages suppressed)", address.toString(),
                 error, suppressed);
  }
}

void RoleProber::finishRound(const std::shared_ptr<Round>& round) {
  GroupState& group = *round->group;
  ++stats_.rounds;
  std::optional<NodeAddress> last_master = group.published ? group.published->master : std::nullopt;
  auto view = std::make_shared<GroupView>(assembleProbedView(
      group.seed.name, round->probes, last_master, options_.replica_max_lag_seconds));
  group.running = false;
  if (group.published == nullptr || !sameState(*group.published, *view)) {
    view->generation = group.published ? group.published->generation + 1 : 1;
    spdlog::info("role probe {}", describeChange(group.published.get(), *view));
    group.published = view;
    ++stats_.published;
    std::weak_ptr<int> life = this->life();
    listener_(group.published);
    if (life.expired()) return;  // the listener stopped the prober
  }
  if (group.again) startRound(group);
}

}  // namespace sy::topology
