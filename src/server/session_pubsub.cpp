// ClientSession's Pub/Sub side and RESET (see client_session.h and server/subscriptions.h).
//
//   SUBSCRIBE ... --> subscriptions_ (made on first use) --> private connections
//   messages      --> pushMessage: written in turn, after the replies still pending
//   RESET         --> every connection-stateful mode ends; the session starts over
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <utility>

#include "resp/errors.h"
#include "server/client_session.h"
#include "server/pending_request.h"
#include "server/proxy_stats.h"
#include "server/session_host.h"
#include "server/subscriptions.h"

namespace sy::server {

bool ClientSession::subscribed() const { return subscriptions_ && subscriptions_->active(); }

uint32_t ClientSession::subscriptionWaits(const command::CommandInfo& command,
                                          std::span<const std::string_view> args) {
  const bool pattern = command.name == "psubscribe";
  if (!pattern && command.name != "subscribe" && command.name != "ssubscribe") {
    return route::kAnyServer;  // leaving needs no new connection
  }
  const topology::PoolTopology& pool = host_.pool(pool_index_);
  auto waits = [&](uint32_t server) {
    const bool connected = subscriptions_ && subscriptions_->connected(server);
    return !connected && host_.masterPending(pool_index_, server, id_, setup());
  };
  const auto servers = static_cast<uint32_t>(pool.servers.size());
  if (pattern) {  // every backend
    for (uint32_t server = 0; server < servers; ++server) {
      if (waits(server)) return server;
    }
    return route::kAnyServer;
  }
  for (size_t i = 1; i < args.size(); ++i) {
    const uint32_t server = servers == 1 ? 0 : pool.serverForKey(args[i]);
    if (waits(server)) return server;
  }
  return route::kAnyServer;
}

void ClientSession::subscribe(PendingRequest& request, const route::Plan& plan,
                              std::span<const std::string_view> args) {
  if (pinned()) {  // WATCH is active: its lease and the subscriptions would be two modes at once
    counters_[common::PoolStat::forward_error].add();
    request.completeWithError(fmt::format(resp::kErrSubscribeInTransaction, plan.command->name));
    return;
  }
  if (!subscriptions_) subscriptions_ = std::make_unique<Subscriptions>(*this, host_);
  subscriptions_->handle(request, pool_index_, *plan.command, args);
}

void ClientSession::pushMessage(std::string_view message) {
  if (closing_) return;
  if (pending_.empty()) {
    out().append(message);
    scheduleFlush();
  } else {
    // Behind the replies the client waits for, as Redis would have written it.
    PendingRequest& queued = host_.requests().acquire();  // the session's hold
    queued.session = this;
    queued.done = true;
    queued.reply.append(message);
    pending_.push(&queued);
  }
  const bool too_many_queued = pending_.size() > kMaxPending * 16;
  if (outputBytes() > kMaxSubscriberOutputBytes || too_many_queued) {
    const std::string reason =
        fmt::format(resp::kErrReasonSubscriberTooSlow, kMaxSubscriberOutputBytes);
    spdlog::warn("client {} closed: {}", id_, reason);
    counters_[common::PoolStat::client_err].add();
    close(reason);
  }
}

void ClientSession::resetConnection(PendingRequest& request) {
  // dispatch() ran RESET on a lane of its own: every earlier request has been answered, so a
  // lease still held carries only backend state (MULTI, WATCH) that must not be reused.
  if (lease_ != nullptr) {
    host_.returnConnection(*std::exchange(lease_, nullptr), false, resp::kErrReasonLeaseEnded);
  }
  resetTransaction();
  held_.clear();
  if (subscriptions_) subscriptions_->close();
  if (pool_index_ != kNoPool) {
    db = host_.pool(pool_index_).config->redis_db;
  }
  protocol = 2;
  authenticated = false;  // a pool with a password asks for it again
  client_name.clear();
  request.complete("+RESET\r\n");
}

}  // namespace sy::server
