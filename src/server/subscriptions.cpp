#include "server/subscriptions.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "common/byte_buffer.h"
#include "hash/key_tag.h"
#include "resp/encoder.h"
#include "resp/errors.h"
#include "resp/reply_inspect.h"
#include "route/cluster_redirect.h"
#include "server/client_session.h"
#include "server/pending_request.h"
#include "server/proxy_stats.h"
#include "server/session_host.h"

namespace sy::server {
namespace {

struct Verb {
  std::string_view name;   // as sent to the backend
  std::string_view reply;  // the first element of Redis's reply
};
constexpr Verb kSubscribeVerbs[] = {
    {"SUBSCRIBE", "subscribe"}, {"PSUBSCRIBE", "psubscribe"}, {"SSUBSCRIBE", "ssubscribe"}};
constexpr Verb kUnsubscribeVerbs[] = {{"UNSUBSCRIBE", "unsubscribe"},
                                      {"PUNSUBSCRIBE", "punsubscribe"},
                                      {"SUNSUBSCRIBE", "sunsubscribe"}};

// A (un)subscription's confirmation: an array in RESP2, a push message in RESP3.
void appendNotice(common::ByteBuffer& out, int protocol, std::string_view verb,
                  const std::string_view* channel, size_t count) {
  if (protocol == 3) {
    resp::appendPushHeader(out, 3);
  } else {
    resp::appendArrayHeader(out, 3);
  }
  resp::appendBulk(out, verb);
  if (channel != nullptr) {
    resp::appendBulk(out, *channel);
  } else if (protocol == 3) {
    resp::appendNull(out);
  } else {
    resp::appendNullBulk(out);
  }
  resp::appendInteger(out, static_cast<int64_t>(count));
}

}  // namespace

Subscriptions::Subscriptions(ClientSession& session, SessionHost& host)
    : session_(session), host_(host), retry_timer_(host.io()) {}

Subscriptions::~Subscriptions() { close(); }

uint32_t Subscriptions::serverOf(std::string_view channel) const {
  const topology::PoolTopology& pool = host_.pool(pool_);
  return pool.servers.size() == 1 ? 0 : pool.serverForKey(channel);
}

size_t Subscriptions::countFor(Kind kind) const {
  if (kind == Kind::kShardChannel) return shard_channels_.size();
  return channels_.size() + patterns_.size();
}

Subscriptions::Link& Subscriptions::link(uint32_t server) {
  if (!links_[server]) links_[server] = std::make_unique<Link>(*this, server);
  return *links_[server];
}

void Subscriptions::handle(PendingRequest& request, uint32_t pool,
                           const command::CommandInfo& command,
                           std::span<const std::string_view> args) {
  if (links_.empty()) {
    pool_ = pool;
    pool_servers_ = host_.pool(pool).servers.size();
    links_.resize(pool_servers_);
  }
  const std::string_view name = command.name;
  const bool subscribe = !name.ends_with("unsubscribe");
  const Kind kind = name.starts_with('p')                            ? Kind::kPattern
                    : name == "ssubscribe" || name == "sunsubscribe" ? Kind::kShardChannel
                                                                     : Kind::kChannel;
  const Verb verb = (subscribe ? kSubscribeVerbs : kUnsubscribeVerbs)[static_cast<int>(kind)];
  std::vector<std::vector<std::string>> per_server(links_.size());
  common::ByteBuffer reply;

  if (subscribe) {
    // Every connection the new subscriptions need, before any state changes: a client that
    // cannot be subscribed gets an error and keeps what it had.
    for (size_t i = 1; i < args.size(); ++i) {
      for (uint32_t server = 0; server < links_.size(); ++server) {
        if (kind == Kind::kPattern ? !carriesPatterns(server) : server != serverOf(args[i])) {
          continue;
        }
        Link& needed = link(server);
        const std::string* error = nullptr;
        if (needed.connection == nullptr && !resubscribe(needed, "it was lost", error)) {
          request.completeWithError(*error);
          endIfIdle();
          return;
        }
      }
    }
    for (size_t i = 1; i < args.size(); ++i) {
      const std::string_view channel = args[i];
      if (kind == Kind::kPattern) {
        if (patterns_.emplace(channel).second) {
          for (uint32_t server = 0; server < per_server.size(); ++server) {
            if (carriesPatterns(server)) per_server[server].emplace_back(channel);
          }
        }
      } else {
        const uint32_t server = serverOf(channel);
        if (channelsOf(kind).emplace(channel, server).second) {
          per_server[server].emplace_back(channel);
        }
      }
      appendNotice(reply, session_.protocol, verb.reply, &channel, countFor(kind));
    }
  } else {
    std::vector<std::string> targets;
    if (args.size() > 1) {
      targets.assign(args.begin() + 1, args.end());
    } else if (kind == Kind::kPattern) {
      targets.assign(patterns_.begin(), patterns_.end());
    } else {
      for (const auto& [channel, server] : channelsOf(kind)) targets.push_back(channel);
    }
    if (targets.empty())
      appendNotice(reply, session_.protocol, verb.reply, nullptr, countFor(kind));
    for (const std::string& target : targets) {
      if (kind == Kind::kPattern) {
        if (patterns_.erase(target) > 0) {
          for (uint32_t server = 0; server < per_server.size(); ++server) {
            if (carriesPatterns(server)) per_server[server].push_back(target);
          }
        }
      } else {
        auto found = channelsOf(kind).find(target);
        if (found != channelsOf(kind).end()) {
          per_server[found->second].push_back(target);
          channelsOf(kind).erase(found);
          if (kind == Kind::kShardChannel) displaced_.erase(target);
        }
      }
      const std::string_view channel = target;
      appendNotice(reply, session_.protocol, verb.reply, &channel, countFor(kind));
    }
  }

  const uint64_t ticket = first_ticket_ + waiting_.size();
  uint32_t links_sent = 0;
  std::vector<std::string_view> channels;
  for (uint32_t server = 0; server < per_server.size(); ++server) {
    if (per_server[server].empty() || !links_[server] || links_[server]->connection == nullptr) {
      continue;  // a lost link subscribes again to what the client has when it is back
    }
    channels.assign(per_server[server].begin(), per_server[server].end());
    if (sendOn(*links_[server], kind, subscribe, channels, ticket)) ++links_sent;
  }
  if (links_sent == 0) {
    request.complete(reply.view());
    endIfIdle();
    return;
  }
  request.hold();  // ours, until the confirmations are in
  waiting_.push_back(Waiting{&request, std::string(reply.view()), links_sent});
}

bool Subscriptions::connect(Link& target, const std::string*& error) {
  backend::BackendConnection* connection = host_.leaseConnection(
      pool_, target.server, session_.setup(), session_.takeMasterWaited(), error);
  if (connection == nullptr) return false;
  // A subscription waits for messages for ever: no request deadline applies.
  connection->updateKnobs(-1, connection->options().keepalive);
  connection->setSubscriber(&target);
  target.connection = connection;
  target.confirmed = false;
  target.lost = false;
  return true;
}

bool Subscriptions::clusterPool() const {
  return pool_ != ClientSession::kNoPool && host_.pool(pool_).config->cluster;
}

bool Subscriptions::carriesPatterns(uint32_t server) const { return !clusterPool() || server == 0; }

bool Subscriptions::sendOn(Link& target, Kind kind, bool subscribe,
                           std::span<const std::string_view> channels, uint64_t ticket) {
  const std::string_view verb =
      (subscribe ? kSubscribeVerbs : kUnsubscribeVerbs)[static_cast<int>(kind)].name;
  const bool by_slot = kind == Kind::kShardChannel && clusterPool();
  std::vector<std::string_view> sorted(channels.begin(), channels.end());
  if (by_slot) {
    std::stable_sort(sorted.begin(), sorted.end(), [](std::string_view a, std::string_view b) {
      return hash::clusterSlot(a) < hash::clusterSlot(b);
    });
  }
  std::vector<std::string_view> request;
  for (size_t begin = 0; begin < sorted.size();) {
    size_t end = by_slot ? begin + 1 : sorted.size();
    while (end < sorted.size() &&
           hash::clusterSlot(sorted[end]) == hash::clusterSlot(sorted[begin])) {
      ++end;
    }
    request.assign(1, verb);
    request.insert(request.end(), sorted.begin() + begin, sorted.begin() + end);
    if (!target.connection->sendUnpaired(request)) {
      target.failure = target.connection->unavailableMessage();
      onLost(target, target.failure);
      return false;
    }
    Expected expected{ticket, static_cast<uint32_t>(end - begin), end == sorted.size(), false, {}};
    if (kind == Kind::kShardChannel) {
      expected.shard_subscribe = subscribe;
      for (size_t i = begin; i < end; ++i) {
        if (subscribe) {
          if (auto found = displaced_.find(sorted[i]); found != displaced_.end()) {
            displaced_.erase(found);
          }
        } else {
          ++target.unsubscribing[std::string(sorted[i])];
        }
        if (by_slot) expected.shard_channels.emplace_back(sorted[i]);
      }
    }
    target.expected.push_back(std::move(expected));
    begin = end;
  }
  return true;
}

void Subscriptions::Link::onBackendReply(std::string_view framed_reply) {
  owner.onFrame(*this, framed_reply);
}

void Subscriptions::Link::onBackendFailure(std::string_view message) {
  owner.onLost(*this, message);
}

void Subscriptions::onFrame(Link& from, std::string_view frame) {
  thread_local std::vector<std::string_view> elements;
  if (!resp::splitArray(frame, elements) || elements.size() < 3) {
    if (from.expected.empty()) return;
    const Expected refused = std::move(from.expected.front());
    from.expected.pop_front();
    onRefused(from, refused, frame);
    if (refused.completes_ticket) confirm(refused.ticket);
    return;
  }
  const auto type = resp::bulkReply(elements[0]);
  const auto channel = resp::bulkReply(elements[1]);
  if (!type || !channel) return;
  if (*type == "message" || *type == "smessage" || *type == "pmessage") {
    const bool wanted = *type == "message"    ? channels_.contains(*channel)
                        : *type == "smessage" ? shard_channels_.contains(*channel)
                                              : patterns_.contains(*channel);
    if (wanted) session_.pushMessage(frame);
    return;
  }
  if (*type == "sunsubscribe" && !confirmsUnsubscription(from, *channel)) return;
  // A confirmation of a (un)subscription.
  if (!from.confirmed) {
    from.confirmed = true;
    retry_delay_ = kFirstRetryDelay;
  }
  if (from.expected.empty()) return;
  Expected& head = from.expected.front();
  if (--head.frames > 0) return;
  const uint64_t ticket = head.ticket;
  const bool completes_ticket = head.completes_ticket;
  from.expected.pop_front();
  if (completes_ticket) confirm(ticket);
}

void Subscriptions::onRefused(Link& from, const Expected& refused, std::string_view frame) {
  const std::optional<route::Redirection> moved = route::parseSlotMove(frame);
  if (moved && !refused.shard_channels.empty() && pool_ != ClientSession::kNoPool) {
    // The table was stale: the node named takes the channels' slot.
    host_.noteRedirection(pool_, *moved);
    for (const std::string& channel : refused.shard_channels) {
      if (refused.shard_subscribe) {
        displace(from.server, channel);
      } else {
        confirmsUnsubscription(from, channel);  // the node had dropped it already
      }
    }
    return;
  }
  // An error for a whole (un)subscribe request (ACL, OOM ...): its confirmations will not
  // come; the client's view stays the proxy's.
  spdlog::warn("client {}: backend refused a subscription request: {}", session_.id(),
               resp::lineReplyText(frame));
}

bool Subscriptions::confirmsUnsubscription(Link& from, std::string_view channel) {
  auto due = from.unsubscribing.find(channel);
  if (due != from.unsubscribing.end()) {
    if (--due->second == 0) from.unsubscribing.erase(due);
    return true;
  }
  displace(from.server, channel);
  return false;
}

void Subscriptions::displace(uint32_t server, std::string_view channel) {
  auto found = shard_channels_.find(channel);
  if (found == shard_channels_.end() || found->second != server ||
      !displaced_.emplace(channel).second || pool_ == ClientSession::kNoPool) {
    return;
  }
  spdlog::info(
      "client {}: shard channel {} left server {} of pool {} (its slot moved); it is "
      "subscribed again where the slot lives now",
      session_.id(), channel, host_.pool(pool_).servers[server].stats_name,
      host_.pool(pool_).config->name);
  host_.slotTableStale(pool_);
  scheduleRetry();
}

void Subscriptions::placeShardChannels() {
  if (!clusterPool() || shard_channels_.empty()) return;
  std::vector<std::vector<std::string_view>> leaving(links_.size()), joining(links_.size());
  for (auto& [channel, server] : shard_channels_) {
    const uint32_t owner = serverOf(channel);
    const bool displaced = displaced_.contains(channel);
    if (owner == server && !displaced) continue;
    if (!displaced) leaving[server].push_back(channel);  // the old node still serves it
    server = owner;
    joining[owner].push_back(channel);
  }
  for (uint32_t server = 0; server < links_.size(); ++server) {
    if (!leaving[server].empty() && connected(server)) {
      sendOn(*links_[server], Kind::kShardChannel, false, leaving[server], kNoTicket);
    }
  }
  for (uint32_t server = 0; server < links_.size(); ++server) {
    if (joining[server].empty()) continue;
    Link& target = link(server);
    const std::string* error = nullptr;
    if (!connected(server)) {
      resubscribe(target, "shard channels moved there with their slots", error);
    } else {
      if (!sendOn(target, Kind::kShardChannel, true, joining[server], kNoTicket)) continue;
      host_.proxyStats().resubscribes.fetch_add(1, std::memory_order_relaxed);
      spdlog::info(
          "client {}: {} shard channels subscribed on server {} of pool {}, where their "
          "slots live now",
          session_.id(), joining[server].size(), host_.pool(pool_).servers[server].stats_name,
          host_.pool(pool_).config->name);
    }
  }
}

void Subscriptions::confirm(uint64_t ticket) {
  if (ticket != kNoTicket && ticket >= first_ticket_ && ticket - first_ticket_ < waiting_.size()) {
    Waiting& waiting = waiting_[ticket - first_ticket_];
    if (waiting.request != nullptr && --waiting.links_left == 0) {
      PendingRequest* request = std::exchange(waiting.request, nullptr);
      request->complete(waiting.reply);
      request->release();
    }
  }
  while (!waiting_.empty() && waiting_.front().request == nullptr) {
    waiting_.pop_front();
    ++first_ticket_;
  }
  endIfIdle();
}

bool Subscriptions::holdsAnything(const Link& target) const {
  auto on_server = [&](const auto& entry) { return entry.second == target.server; };
  return (!patterns_.empty() && carriesPatterns(target.server)) ||
         std::any_of(channels_.begin(), channels_.end(), on_server) ||
         std::any_of(shard_channels_.begin(), shard_channels_.end(), on_server);
}

void Subscriptions::onLost(Link& lost, std::string_view reason) {
  const bool was_confirmed = lost.confirmed;
  drop(lost, reason);
  if (!holdsAnything(lost) || pool_ == ClientSession::kNoPool) return;
  spdlog::warn("client {}: subscription connection to server {} lost: {}", session_.id(),
               host_.pool(pool_).servers[lost.server].stats_name, reason);
  lost.lost = true;
  if (was_confirmed) {
    const std::string* error = nullptr;
    resubscribe(lost, "its connection was lost", error);
  } else {
    scheduleRetry();
  }
}

void Subscriptions::drop(Link& target, std::string_view reason) {
  if (target.connection != nullptr) {
    backend::BackendConnection* connection = std::exchange(target.connection, nullptr);
    connection->setSubscriber(nullptr);
    host_.returnConnection(*connection, false, reason);
  }
  target.unsubscribing.clear();
  std::deque<Expected> expected;
  expected.swap(target.expected);
  for (const Expected& entry : expected) {
    if (entry.completes_ticket) confirm(entry.ticket);
  }
}

bool Subscriptions::resubscribe(Link& target, std::string_view why, const std::string*& error) {
  drop(target, resp::kErrReasonMasterChanged);
  if (pool_ == ClientSession::kNoPool) {
    target.failure = resp::kErrReasonServerRemoved;
    error = &target.failure;
    return false;
  }
  std::vector<std::string_view> channels, shard_channels;
  for (const auto& [channel, server] : channels_) {
    if (server == target.server) channels.push_back(channel);
  }
  for (const auto& [channel, server] : shard_channels_) {
    if (server == target.server) shard_channels.push_back(channel);
  }
  std::vector<std::string_view> patterns;
  if (carriesPatterns(target.server)) patterns.assign(patterns_.begin(), patterns_.end());
  const bool again =
      target.lost || !channels.empty() || !patterns.empty() || !shard_channels.empty();
  if (!connect(target, error)) {
    spdlog::debug("client {}: cannot subscribe on server {} yet: {}", session_.id(),
                  host_.pool(pool_).servers[target.server].stats_name, *error);
    target.lost = again;
    if (again) scheduleRetry();
    return false;
  }
  if (channels.empty() && patterns.empty() && shard_channels.empty()) return true;
  const bool sent =
      (channels.empty() || sendOn(target, Kind::kChannel, true, channels, kNoTicket)) &&
      (patterns.empty() || sendOn(target, Kind::kPattern, true, patterns, kNoTicket)) &&
      (shard_channels.empty() ||
       sendOn(target, Kind::kShardChannel, true, shard_channels, kNoTicket));
  if (!sent) {  // onLost scheduled the next attempt
    error = &target.failure;
    return false;
  }
  host_.proxyStats().resubscribes.fetch_add(1, std::memory_order_relaxed);
  const topology::ServerInfo& server = host_.pool(pool_).servers[target.server];
  spdlog::info(
      "client {}: subscribed again to {} channels, {} patterns and {} shard channels on server "
      "{} of pool {} ({}), as {}",
      session_.id(), channels.size(), patterns.size(), shard_channels.size(), server.stats_name,
      host_.pool(pool_).config->name, target.connection->options().address_text, why);
  return true;
}

void Subscriptions::checkConnections(uint32_t pool) {
  if (links_.empty()) return;
  if (pool == ClientSession::kNoPool) {
    pool_ = pool;
    return;
  }
  pool_ = pool;
  if (host_.pool(pool).servers.size() != pool_servers_) {
    // The pool has other backends now: every channel is placed again, by the new distribution.
    for (auto& entry : links_) {
      if (entry) drop(*entry, resp::kErrReasonMasterChanged);
    }
    links_.clear();
    displaced_.clear();
    pool_servers_ = host_.pool(pool).servers.size();
    links_.resize(pool_servers_);
    for (ChannelMap* map : {&channels_, &shard_channels_}) {
      for (auto& [channel, server] : *map) {
        server = serverOf(channel);
        link(server).lost = true;
      }
    }
    if (!patterns_.empty()) {
      for (uint32_t server = 0; server < links_.size(); ++server) {
        if (carriesPatterns(server)) link(server).lost = true;
      }
    }
    retryLost();
    return;
  }
  placeShardChannels();
  for (auto& entry : links_) {
    if (!entry) continue;
    const std::string* error = nullptr;
    if (entry->connection != nullptr &&
        !host_.leaseServes(*entry->connection, pool, entry->server)) {
      resubscribe(*entry, "its node no longer takes the writes (a failover)", error);
    } else if (entry->lost) {
      resubscribe(*entry, "its connection was lost", error);
    }
  }
}

void Subscriptions::scheduleRetry() {
  if (retry_armed_) return;
  retry_armed_ = true;
  retry_timer_.expires_after(retry_delay_);
  retry_delay_ = std::min(retry_delay_ * 2, kMaxRetryDelay);
  std::weak_ptr<int> alive = alive_;
  retry_timer_.async_wait([this, alive](const std::error_code& error) {
    if (error || alive.expired()) return;
    retry_armed_ = false;
    retryLost();
  });
}

void Subscriptions::retryLost() {
  if (pool_ == ClientSession::kNoPool) return;
  if (!displaced_.empty()) placeShardChannels();
  for (auto& entry : links_) {
    const std::string* error = nullptr;
    if (entry && entry->lost) resubscribe(*entry, "its connection was lost", error);
  }
}

void Subscriptions::endIfIdle() {
  if (active() || !waiting_.empty()) return;
  for (auto& entry : links_) {
    if (entry && !entry->expected.empty()) return;
  }
  for (auto& entry : links_) {
    if (entry) drop(*entry, resp::kErrReasonSubscriptionsEnded);
  }
}

void Subscriptions::close() {
  channels_.clear();
  shard_channels_.clear();
  displaced_.clear();
  patterns_.clear();
  for (auto& entry : links_) {
    if (entry) {
      drop(*entry, resp::kErrReasonSubscriptionsEnded);
      entry->lost = false;
    }
  }
  for (Waiting& waiting : waiting_) {
    if (PendingRequest* request = std::exchange(waiting.request, nullptr)) {
      request->complete(waiting.reply);
      request->release();
    }
  }
  waiting_.clear();
  alive_ = std::make_shared<int>(0);  // a retry already queued finds its token expired
  retry_timer_.cancel();
  retry_armed_ = false;
}

}  // namespace sy::server
