#include "topology/sentinel_watcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <set>
#include <utility>

#include "resp/reply_inspect.h"

namespace sy::topology {

// One discovery round of one group: what the Sentinel said and what the nodes answered.
struct SentinelWatcher::Round {
  GroupState* group = nullptr;
  std::vector<SentinelState*> order;  // the Sentinels to ask, in order
  std::array<std::optional<common::Result<std::string>>, 3> answers;  // addr, replicas, sentinels
  bool from_sentinel = false;
  std::optional<NodeAddress> master;
  std::vector<SentinelInstance> replicas;  // from Sentinel, or the last known ones
  size_t outstanding = 0;
  std::optional<RoleReply> master_role;
  std::optional<InfoReplication> master_info;
  std::map<NodeAddress, std::optional<RoleReply>> replica_roles;  // nullopt: no answer
  int64_t master_rtt_usec = -1;                 // round trip of the master's ROLE request
  std::map<NodeAddress, int64_t> replica_rtts;  // of each replica's; absent: no answer
};

namespace {

std::string errorText(const common::Result<std::string>& reply) {
  if (!reply.ok()) return reply.error().message;
  return std::string(resp::lineReplyText(*reply));
}

// True when a Sentinel's reply to SENTINEL GET-MASTER-ADDR-BY-NAME says it monitors no master
// of that name (a nil).
bool namesNoMaster(const std::optional<common::Result<std::string>>& reply) {
  if (!reply || !reply->ok()) return false;
  auto master = parseMasterAddrReply(**reply);
  return master.ok() && !master->has_value();
}

}  // namespace

SentinelWatcherOptions sentinelWatcherOptionsFor(const config::PoolConfig& pool) {
  SentinelWatcherOptions options;
  for (const config::Address& sentinel : pool.sentinels) {
    options.sentinels.push_back({sentinel.host, sentinel.port});
  }
  for (const config::ServerConfig& server : pool.servers) {
    SentinelGroupSeed seed{server.name, std::nullopt};
    if (!server.address.isUnix())
      seed.guess = NodeAddress{server.address.host, server.address.port};
    options.groups.push_back(std::move(seed));
  }
  options.sentinel_user = pool.sentinel_auth_user;
  options.sentinel_password = pool.sentinel_auth_password;
  options.node_password = pool.redis_auth;
  options.replica_max_lag_seconds = pool.replica_max_lag_s;
  return options;
}

SentinelWatcher::SentinelWatcher(asio::io_context& io, SentinelWatcherOptions options,
                                 Listener listener)
    : PollingProvider(io,
                      {"", options.node_password, options.connect_timeout, options.request_timeout},
                      options.poll_interval),
      io_(io),
      options_(std::move(options)),
      listener_(std::move(listener)) {
  for (const NodeAddress& address : options_.sentinels) {
    addSentinel(address);
  }
  groups_.reserve(options_.groups.size());  // Rounds point into groups_: it never grows later
  for (const SentinelGroupSeed& seed : options_.groups) {
    GroupState group;
    group.seed = seed;
    group.retry_timer = std::make_unique<asio::steady_timer>(io_);
    groups_.push_back(std::move(group));
  }
}

// stop() runs onStop(), which ~PollingProvider can no longer call.
SentinelWatcher::~SentinelWatcher() { stop(); }

void SentinelWatcher::onStart() {
  for (auto& sentinel : sentinels_) subscribe(*sentinel);
  pingSentinels();
  triggerAll();
}

void SentinelWatcher::onStop() {
  for (auto& sentinel : sentinels_) {
    sentinel->commands->close();
    if (sentinel->events) sentinel->events->close();
    sentinel->subscribed = false;
    sentinel->resubscribe_timer.cancel();
  }
  for (GroupState& group : groups_) {
    group.retry_timer->cancel();
    group.running = false;
    group.again = false;
  }
}

void SentinelWatcher::onPoll() {
  pingSentinels();
  triggerAll();
}

std::shared_ptr<const GroupView> SentinelWatcher::current(const std::string& name) const {
  for (const GroupState& group : groups_) {
    if (group.seed.name == name) return group.published;
  }
  return nullptr;
}

std::vector<SentinelView> SentinelWatcher::sentinels() const {
  std::vector<SentinelView> views;
  for (const auto& sentinel : sentinels_) {
    views.push_back({sentinel->address, sentinel->reachable, sentinel->failures});
  }
  std::sort(views.begin(), views.end(),
            [](const SentinelView& a, const SentinelView& b) { return a.address < b.address; });
  return views;
}

SentinelWatcher::SentinelState& SentinelWatcher::addSentinel(const NodeAddress& address) {
  ControlConnectionOptions connection{options_.sentinel_user, options_.sentinel_password,
                                      options_.connect_timeout, options_.request_timeout};
  auto sentinel = std::make_unique<SentinelState>(io_, address);
  sentinel->commands = ControlConnection::create(io_, address, connection);
  sentinels_.push_back(std::move(sentinel));
  return *sentinels_.back();
}

void SentinelWatcher::subscribe(SentinelState& sentinel) {
  ControlConnectionOptions connection{options_.sentinel_user, options_.sentinel_password,
                                      options_.connect_timeout, options_.request_timeout};
  if (sentinel.events) sentinel.events->close();
  sentinel.events = ControlConnection::create(io_, sentinel.address, connection);
  std::weak_ptr<int> life = this->life();
  auto retry_later = [this, life, &sentinel]() {
    sentinel.subscribed = false;
    sentinel.resubscribe_timer.expires_after(options_.resubscribe_interval);
    sentinel.resubscribe_timer.async_wait([this, life, &sentinel](const std::error_code& error) {
      if (!error && !life.expired()) subscribe(sentinel);
    });
  };
  sentinel.events->subscribe(
      sentinelEventChannels(),
      [this, life, &sentinel, retry_later](common::Result<std::string> reply) {
        if (life.expired() || !reply.ok()) return;  // a lost connection reports via on_closed
        if (resp::isErrorReply(*reply)) {
          uint64_t suppressed = 0;
          if (sentinel_log_.allow(suppressed)) {
            spdlog::warn("sentinel {}: cannot subscribe to events: {}", sentinel.address.toString(),
                         errorText(reply));
          }
          sentinel.events->close();
          retry_later();
          return;
        }
        if (!sentinel.subscribed) {
          sentinel.subscribed = true;
          spdlog::debug("sentinel {}: subscribed to events", sentinel.address.toString());
          triggerAll();  // events may have been missed while not subscribed
        }
      },
      [this, life](std::string_view framed) {
        if (!life.expired()) onEvent(framed);
      },
      [this, life, retry_later](std::string_view) {
        if (!life.expired()) retry_later();
      });
}

void SentinelWatcher::onEvent(std::string_view framed) {
  std::optional<SentinelEvent> event = parseEventMessage(framed);
  if (!event) return;
  ++stats_.events;
  GroupState* group = event->master_name.empty() ? nullptr : findGroup(event->master_name);
  // Every Sentinel announces the same switch: log it once (the change itself is logged when
  // the round that follows publishes it).
  if (event->channel == "+switch-master" && group != nullptr &&
      group->last_switch != event->payload) {
    group->last_switch = event->payload;
    spdlog::info("sentinel event {} {}", event->channel, event->payload);
  } else {
    spdlog::debug("sentinel event {} {}", event->channel, event->payload);
  }
  if (group != nullptr) onFailoverEvent(*group, *event);
  if (event->master_name.empty()) {
    triggerAll();
  } else if (group != nullptr) {
    trigger(*group);
  }
}

void SentinelWatcher::onFailoverEvent(GroupState& group, const SentinelEvent& event) {
  const std::string& channel = event.channel;
  const GroupView* last = group.published.get();
  // A Sentinel naming the master this group already writes to reports a switch that is
  // followed (every Sentinel announces +switch-master, some after the others).
  bool names_new_master =
      (channel == "+promoted-slave" || channel == "+switch-master") && event.new_master &&
      !(last != nullptr && last->master_confirmed && last->master == event.new_master);
  bool starts = channel == "+try-failover" || channel == "+selected-slave" ||
                channel == "+failover-state-send-slaveof-noone" || names_new_master;
  // One Sentinel not elected leader says nothing about the leader's failover.
  bool aborts = channel == "-failover-abort-no-good-slave" ||
                channel == "-failover-abort-slave-timeout" ||
                channel == "+failover-end-for-timeout";
  if (aborts && group.failover_since) {
    spdlog::warn("group '{}': failover aborted ({}); writes go to the confirmed master again",
                 group.seed.name, channel);
    group.failover_since.reset();
    group.promoted.reset();
    republish(group);
    return;
  }
  if (names_new_master) group.promoted = event.new_master;
  if (starts && !group.failover_since) {
    group.failover_since = common::now();
    group.failover_from = last != nullptr ? last->master : std::nullopt;
    spdlog::info("group '{}': failover under way ({}); writes wait for the new master",
                 group.seed.name, channel);
    republish(group);
  }
}

void SentinelWatcher::republish(GroupState& group) {
  if (group.published == nullptr) return;
  bool in_progress = group.failover_since.has_value();
  if (group.published->failover_in_progress == in_progress) return;
  auto view = std::make_shared<GroupView>(*group.published);
  view->failover_in_progress = in_progress;
  view->failover_follow_usec = -1;
  publish(group, std::move(view));
}

void SentinelWatcher::publish(GroupState& group, std::shared_ptr<GroupView> view) {
  view->generation = group.published ? group.published->generation + 1 : 1;
  spdlog::info("sentinel {}", describeChange(group.published.get(), *view));
  group.published = std::move(view);
  ++stats_.published;
  listener_(group.published);
}

void SentinelWatcher::rediscover(const std::string& name) {
  GroupState* group = findGroup(name);
  if (group != nullptr) trigger(*group);
}

SentinelWatcher::GroupState* SentinelWatcher::findGroup(const std::string& name) {
  for (GroupState& group : groups_) {
    if (group.seed.name == name) return &group;
  }
  return nullptr;
}

void SentinelWatcher::trigger(GroupState& group) {
  if (!running()) return;
  if (group.running) {
    group.again = true;
    return;
  }
  startRound(group);
}

void SentinelWatcher::triggerAll() {
  for (GroupState& group : groups_) trigger(group);
}

void SentinelWatcher::pingSentinels() {
  for (auto& sentinel : sentinels_) pingSentinel(*sentinel);
}

void SentinelWatcher::pingSentinel(SentinelState& sentinel) {
  std::weak_ptr<int> life = this->life();
  sentinel.commands->request({"PING"}, [this, life, &sentinel](common::Result<std::string> r) {
    if (life.expired()) return;
    bool ok = r.ok() && !resp::isErrorReply(*r);
    markSentinel(sentinel, ok, ok ? "" : errorText(r));
  });
}

void SentinelWatcher::startRound(GroupState& group) {
  group.running = true;
  group.again = false;
  group.retry_timer->cancel();
  auto round = std::make_shared<Round>();
  round->group = &group;
  for (auto& sentinel : sentinels_) round->order.push_back(sentinel.get());
  askSentinel(round, 0);
}

void SentinelWatcher::askSentinel(const std::shared_ptr<Round>& round, size_t index) {
  if (index >= round->order.size()) {
    // No Sentinel answered: keep the last known state and re-probe it.
    const GroupView* last = round->group->published.get();
    round->master = last != nullptr ? last->master : round->group->seed.guess;
    if (last != nullptr) {
      for (const ReplicaView& replica : last->replicas) {
        round->replicas.push_back({replica.address, "", "", 0, -1});  // flags unknown
      }
    }
    probeNodes(round);
    return;
  }
  SentinelState& sentinel = *round->order[index];
  const std::string& name = round->group->seed.name;
  std::weak_ptr<int> life = this->life();
  auto store = [round](size_t slot) {
    return [round, slot](common::Result<std::string> reply) {
      round->answers[slot] = std::move(reply);
    };
  };
  sentinel.commands->request({"SENTINEL", "get-master-addr-by-name", name}, store(0));
  sentinel.commands->request({"SENTINEL", "replicas", name}, store(1));
  sentinel.commands->request(
      {"SENTINEL", "sentinels", name},
      [this, life, round, index, &sentinel](common::Result<std::string> reply) {
        if (life.expired()) return;
        round->answers[2] = std::move(reply);
        if (namesNoMaster(round->answers[0])) {
          // It answers, for a name it does not monitor: its other replies are errors that say
          // nothing about the Sentinel itself.
          round->answers = {};
          markSentinel(sentinel, true, "");
          warnUnknownName(sentinel, round->group->seed.name);
          askSentinel(round, index + 1);
          return;
        }
        for (const auto& answer : round->answers) {
          if (!answer || !answer->ok() || resp::isErrorReply(**answer)) {
            markSentinel(sentinel, false, answer ? errorText(*answer) : "no answer");
            askSentinel(round, index + 1);
            return;
          }
        }
        onSentinelAnswer(round, sentinel);
        if (!round->from_sentinel) askSentinel(round, index + 1);
      });
}

void SentinelWatcher::onSentinelAnswer(const std::shared_ptr<Round>& round,
                                       SentinelState& sentinel) {
  auto master = parseMasterAddrReply(**round->answers[0]);
  auto replicas = parseInstanceList(**round->answers[1]);
  auto others = parseInstanceList(**round->answers[2]);
  round->answers = {};
  if (!master || !replicas || !others) {
    markSentinel(sentinel, false,
                 !master     ? master.error().message
                 : !replicas ? replicas.error().message
                             : others.error().message);
    return;
  }
  markSentinel(sentinel, true, "");
  if (!master->has_value()) {
    warnUnknownName(sentinel, round->group->seed.name);
    return;
  }
  round->from_sentinel = true;
  round->master = **master;
  GroupState& group = *round->group;
  if (group.promoted && *group.promoted == **master) {
    group.promoted.reset();  // Sentinel reports the new master itself now
  } else if (group.promoted && group.failover_since) {
    round->master = *group.promoted;  // Sentinel still names the old one until +switch-master
  }
  round->replicas = std::move(replicas.value());
  learnSentinels(*others);
  // Ask the Sentinel that answered first next time (Redis's guideline for Sentinel clients).
  auto answered = std::find_if(sentinels_.begin(), sentinels_.end(),
                               [&](const auto& s) { return s.get() == &sentinel; });
  std::rotate(sentinels_.begin(), answered, answered + 1);
  probeNodes(round);
}

void SentinelWatcher::probeNodes(const std::shared_ptr<Round>& round) {
  if (!round->master) {
    finishRound(round);
    return;
  }
  std::weak_ptr<int> life = this->life();
  auto done = [this, life, round]() {
    if (!life.expired() && --round->outstanding == 0) finishRound(round);
  };
  auto node_failed = [this](const NodeAddress& address, const common::Result<std::string>& r) {
    ++stats_.node_failures;
    uint64_t suppressed = 0;
    if (node_log_.allow(suppressed)) {
      spdlog::warn("node {}: {} ({} similar messages suppressed)", address.toString(), errorText(r),
                   suppressed);
    }
  };
  NodeAddress master = *round->master;
  std::vector<NodeAddress> to_probe;
  for (const SentinelInstance& replica : round->replicas) {
    if (replica.address != master && !replica.flaggedDown()) to_probe.push_back(replica.address);
  }
  round->outstanding = 2 + to_probe.size();
  ControlConnection& master_connection = nodes_.to(master);
  master_connection.requestTimed(
      {"ROLE"}, [round, master, done, node_failed](auto reply, int64_t rtt_usec) {
        if (auto role = reply.ok() ? parseRoleReply(*reply) : reply.error(); role.ok()) {
          round->master_role = std::move(role.value());
          round->master_rtt_usec = rtt_usec;
        } else {
          node_failed(master, reply);
        }
        done();
      });
  master_connection.request({"INFO", "replication"}, [round, done](auto reply) {
    if (reply.ok()) {
      if (auto info = parseInfoReplication(*reply); info.ok()) {
        round->master_info = std::move(info.value());
      }
    }
    done();
  });
  for (const NodeAddress& address : to_probe) {
    nodes_.to(address).requestTimed(
        {"ROLE"}, [round, address, done, node_failed](auto reply, int64_t rtt_usec) {
          auto role = reply.ok() ? parseRoleReply(*reply) : reply.error();
          if (role.ok()) {
            round->replica_roles[address] = std::move(role.value());
            round->replica_rtts[address] = rtt_usec;
          } else {
            node_failed(address, reply);
            round->replica_roles[address] = std::nullopt;
          }
          done();
        });
  }
}

void SentinelWatcher::finishRound(const std::shared_ptr<Round>& round) {
  GroupState& group = *round->group;
  ++stats_.rounds;
  auto view = std::make_shared<GroupView>();
  view->name = group.seed.name;
  view->master = round->master;
  view->from_sentinel = round->from_sentinel;
  view->master_confirmed =
      round->master_role && round->master_role->kind == RoleReply::Kind::kMaster;
  view->master_rtt_usec = round->master_rtt_usec;
  const RoleReply* master_role = view->master_confirmed ? &*round->master_role : nullptr;
  const InfoReplication* master_info = round->master_info ? &*round->master_info : nullptr;
  for (const SentinelInstance& replica : round->replicas) {
    if (!round->master || replica.address == *round->master) continue;
    auto role = round->replica_roles.find(replica.address);
    bool answered = role != round->replica_roles.end() && role->second.has_value();
    view->replicas.push_back(
        assessReplica(replica.address, round->from_sentinel ? &replica : nullptr,
                      answered ? &*role->second : nullptr, answered, *round->master, master_role,
                      master_info, options_.replica_max_lag_seconds));
    if (auto rtt = round->replica_rtts.find(replica.address); rtt != round->replica_rtts.end()) {
      view->replicas.back().rtt_usec = rtt->second;
    }
  }
  std::sort(view->replicas.begin(), view->replicas.end(),
            [](const ReplicaView& a, const ReplicaView& b) { return a.address < b.address; });
  view->sentinels = sentinels();
  group.running = false;
  followFailover(group, *view);
  bool master_confirmed = view->master_confirmed;
  if (group.published == nullptr || !sameState(*group.published, *view)) {
    std::weak_ptr<int> life = this->life();
    publish(group, std::move(view));
    if (life.expired()) return;  // the listener stopped the watcher
  }
  dropUnusedNodeConnections();
  if (group.again) {
    startRound(group);
  } else if (!master_confirmed) {
    std::weak_ptr<int> life = this->life();
    group.retry_timer->expires_after(options_.retry_interval);
    group.retry_timer->async_wait([this, life, &group](const std::error_code& error) {
      if (!error && !life.expired()) trigger(group);
    });
  }
}

void SentinelWatcher::followFailover(GroupState& group, GroupView& view) {
  if (!group.failover_since) return;
  common::TimePoint now = common::now();
  // Followed: the promoted replica (or, before one is named, any other node than the master
  // of when the failover began) answers ROLE master.
  bool followed =
      view.master_confirmed && view.master &&
      (group.promoted ? *view.master == *group.promoted : view.master != group.failover_from);
  if (followed) {
    view.failover_follow_usec =
        static_cast<int64_t>(common::elapsedMicros(*group.failover_since, now));
    spdlog::info("group '{}': failover followed in {} ms: writes go to {}", group.seed.name,
                 view.failover_follow_usec / 1000, view.master->toString());
    group.failover_since.reset();
    group.promoted.reset();
    return;
  }
  if (now - *group.failover_since > options_.failover_give_up) {
    spdlog::warn(
        "group '{}': a failover announced {} ms ago has not completed; writes go to "
        "the confirmed master again",
        group.seed.name, common::elapsedMicros(*group.failover_since, now) / 1000);
    group.failover_since.reset();
    group.promoted.reset();
    return;
  }
  view.failover_in_progress = true;
}

void SentinelWatcher::markSentinel(SentinelState& sentinel, bool reachable,
                                   const std::string& error) {
  if (!reachable) {
    ++sentinel.failures;
    ++stats_.sentinel_failures;
    uint64_t suppressed = 0;
    if (sentinel_log_.allow(suppressed)) {
      spdlog::warn("sentinel {}: {} ({} similar messages suppressed)", sentinel.address.toString(),
                   error, suppressed);
    }
    if (sentinel.events && sentinel.subscribed) {
      // A Sentinel that does not answer may be hung with its event connection still open.
      sentinel.events->close();
      sentinel.subscribed = false;
      std::weak_ptr<int> life = this->life();
      sentinel.resubscribe_timer.expires_after(options_.resubscribe_interval);
      sentinel.resubscribe_timer.async_wait([this, life, &sentinel](const std::error_code& e) {
        if (!e && !life.expired()) subscribe(sentinel);
      });
    }
  }
  if (sentinel.reachable != reachable) {
    sentinel.reachable = reachable;
    triggerAll();  // every group's view lists the Sentinels' reachability
  }
}

void SentinelWatcher::warnUnknownName(const SentinelState& sentinel, const std::string& name) {
  uint64_t suppressed = 0;
  if (unknown_name_log_.allow(suppressed)) {
    spdlog::warn(
        "sentinel {} does not monitor a master named '{}'; the group is served at its "
        "configured address and follows no failover until a Sentinel monitors it ({} similar "
        "messages suppressed)",
        sentinel.address.toString(), name, suppressed);
  }
}

void SentinelWatcher::learnSentinels(const std::vector<SentinelInstance>& reported) {
  for (const SentinelInstance& other : reported) {
    bool known = std::any_of(sentinels_.begin(), sentinels_.end(),
                             [&](const auto& s) { return s->address == other.address; });
    if (known) continue;
    spdlog::info("sentinel {} discovered", other.address.toString());
    SentinelState& added = addSentinel(other.address);
    if (running()) {
      subscribe(added);
      pingSentinel(added);
    }
  }
}

void SentinelWatcher::dropUnusedNodeConnections() {
  std::set<NodeAddress> used;
  for (const GroupState& group : groups_) {
    if (group.running || group.published == nullptr) return;  // a round may be using them
    if (group.published->master) used.insert(*group.published->master);
    for (const ReplicaView& replica : group.published->replicas) used.insert(replica.address);
  }
  nodes_.closeAllBut(used);
}

}  // namespace sy::topology
