#include "server/subscriptions.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "common/byte_buffer.h"
#include "resp/encoder.h"
#include "resp/errors.h"
#include "resp/reply_inspect.h"
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
        if (kind != Kind::kPattern && server != serverOf(args[i])) continue;
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
          for (auto& list : per_server) list.emplace_back(channel);
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
          for (auto& list : per_server) list.push_back(target);
        }
      } else {
        auto found = channelsOf(kind).find(target);
        if (found != channelsOf(kind).end()) {
          per_server[found->second].push_back(target);
          channelsOf(kind).erase(found);
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
    if (sendOn(*links_[server], verb.name, channels, ticket)) ++links_sent;
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

bool Subscriptions::sendOn(Link& target, std::string_view verb,
                           std::span<const std::string_view> channels, uint64_t ticket) {
  std::vector<std::string_view> request;
  request.reserve(channels.size() + 1);
  request.push_back(verb);
  request.insert(request.end(), channels.begin(), channels.end());
  if (!target.connection->sendUnpaired(request)) {
    target.failure = target.connection->unavailableMessage();
    onLost(target, target.failure);
    return false;
  }
  target.expected.push_back(Expected{ticket, static_cast<uint32_t>(channels.size())});
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
    // An error for a whole (un)subscribe request (ACL, OOM ...): its confirmations will not
    // come; the client's view stays the proxy's.
    spdlog::warn("client {}: backend refused a subscription request: {}", session_.id(),
                 resp::lineReplyText(frame));
    if (!from.expected.empty()) {
      const uint64_t ticket = from.expected.front().ticket;
      from.expected.pop_front();
      confirm(ticket);
    }
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
  // A confirmation of a (un)subscription.
  if (!from.confirmed) {
    from.confirmed = true;
    retry_delay_ = kFirstRetryDelay;
  }
  if (from.expected.empty()) return;
  Expected& head = from.expected.front();
  if (--head.frames > 0) return;
  const uint64_t ticket = head.ticket;
  from.expected.pop_front();
  confirm(ticket);
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
  return !patterns_.empty() || std::any_of(channels_.begin(), channels_.end(), on_server) ||
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
  std::deque<Expected> expected;
  expected.swap(target.expected);
  for (const Expected& entry : expected) confirm(entry.ticket);
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
  std::vector<std::string_view> patterns(patterns_.begin(), patterns_.end());
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
      (channels.empty() || sendOn(target, "SUBSCRIBE", channels, kNoTicket)) &&
      (patterns.empty() || sendOn(target, "PSUBSCRIBE", patterns, kNoTicket)) &&
      (shard_channels.empty() || sendOn(target, "SSUBSCRIBE", shard_channels, kNoTicket));
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
    pool_servers_ = host_.pool(pool).servers.size();
    links_.resize(pool_servers_);
    for (ChannelMap* map : {&channels_, &shard_channels_}) {
      for (auto& [channel, server] : *map) {
        server = serverOf(channel);
        link(server).lost = true;
      }
    }
    if (!patterns_.empty()) {
      for (uint32_t server = 0; server < links_.size(); ++server) link(server).lost = true;
    }
    retryLost();
    return;
  }
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
