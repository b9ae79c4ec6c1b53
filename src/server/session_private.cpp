// ClientSession's private connections: transactions and blocking commands (see
// client_session.h).
//
//   ordinary --MULTI, WATCH--> pinned: every request goes on a connection leased to the master
//                              of one backend (the backend of WATCH's keys, else of the first
//                              keyed command); a request whose keys live elsewhere is refused
//   pinned --EXEC, DISCARD or UNWATCH answered, nothing in flight--> ordinary (lease returned)
//   ordinary --BLPOP ...--> blocked: the command alone on a leased connection without the
//                           pool's timeout; nothing more is dispatched until its reply
//
// The session tracks the transaction state the backend holds for the lease, so that it can
// answer as Redis does when the backend cannot: MULTI in a sharded pool does not know its
// backend until its first key, so it is answered "+OK" here and keyless commands "+QUEUED",
// and both are sent ahead of the first keyed command once it names the backend. A command
// refused while queuing (unknown, wrong arity, another backend's key) makes EXEC abort:
// EXEC goes out as DISCARD and its reply becomes EXECABORT. A lease that is lost (backend
// failure, a failover making its node a replica) fails the transaction; nothing queued is
// ever sent to another node.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <utility>

#include <spdlog/spdlog.h>

#include "command/command.h"
#include "resp/encoder.h"
#include "resp/errors.h"
#include "route/cluster_redirect.h"
#include "server/client_session.h"
#include "server/local_commands.h"
#include "server/pending_request.h"
#include "server/proxy_stats.h"
#include "server/session_host.h"
#include "server/subscriptions.h"

namespace sy::server {
namespace {

constexpr std::string_view kOk = "+OK\r\n";
constexpr std::string_view kQueued = "+QUEUED\r\n";
constexpr std::string_view kEmptyArray = "*0\r\n";

enum class TransactionCommand { kMulti, kExec, kDiscard, kWatch, kUnwatch };

TransactionCommand transactionCommand(const command::CommandInfo& command) {
  if (command.name == "multi") return TransactionCommand::kMulti;
  if (command.name == "exec") return TransactionCommand::kExec;
  if (command.name == "discard") return TransactionCommand::kDiscard;
  if (command.name == "watch") return TransactionCommand::kWatch;
  return TransactionCommand::kUnwatch;
}

// Local commands that Redis queues inside MULTI like any other, and answers the same.
bool queuedByBackend(const command::CommandInfo& command) {
  return command.name == "ping" || command.name == "echo";
}

// The timeout `original` of a blocking command after `elapsed` of it has passed: 0 (for
// ever) stays 0, an elapsed one becomes the smallest positive timeout, so the node answers
// as it does when a block times out. False when `original` is not a timeout the node takes.
bool timeoutLeft(std::string_view original, bool milliseconds, common::Clock::duration elapsed,
                 std::string& out) {
  const char* end = original.data() + original.size();
  if (milliseconds) {
    int64_t block_ms = 0;
    auto [next, error] = std::from_chars(original.data(), end, block_ms);
    if (error != std::errc() || next != end || block_ms < 0) return false;
    if (block_ms == 0) return false;
    const int64_t elapsed_ms = std::chrono::duration_cast<common::Millis>(elapsed).count();
    out = std::to_string(std::max<int64_t>(1, block_ms - elapsed_ms));
    return true;
  }
  double seconds = 0;
  auto [next, error] = std::from_chars(original.data(), end, seconds);
  if (error != std::errc() || next != end || !(seconds > 0)) return false;
  const double left = seconds - std::chrono::duration<double>(elapsed).count();
  out = fmt::format("{:.3f}", std::max(0.001, left));
  return true;
}

}  // namespace

void ClientSession::startTransaction(PendingRequest& request, const route::Plan& plan,
                                     const resp::Request& parsed) {
  switch (transactionCommand(*plan.command)) {
    case TransactionCommand::kMulti:
      in_multi_ = true;
      dirty_ = false;
      beginTransactionLog();
      if (host_.pool(pool_index_).servers.size() == 1) {
        if (!pinTo(0, request)) {
          in_multi_ = false;
          return;
        }
        sendOnLease(request, parsed);
        return;
      }
      multi_unsent_ = true;
      request.complete(kOk);
      return;
    case TransactionCommand::kWatch:
      if (!pinTo(plan.server, request)) return;
      watching_ = true;
      watch_lost_ = false;
      if (plan.slot != route::kNoSlot) keepWatchForRedirection(request, plan, parsed.args);
      sendOnLease(request, parsed);
      return;
    case TransactionCommand::kUnwatch:
      watch_lost_ = false;
      request.complete(kOk);
      return;
    case TransactionCommand::kExec:
      request.completeWithError(resp::kErrExecWithoutMulti);
      return;
    case TransactionCommand::kDiscard:
      request.completeWithError(resp::kErrDiscardWithoutMulti);
      return;
  }
}

bool ClientSession::onLease(const route::Plan& plan) const {
  if (in_multi_ || plan.kind == route::PlanKind::kTransaction) return true;
  const bool keyed =
      plan.kind == route::PlanKind::kForward || plan.kind == route::PlanKind::kBlocking;
  return keyed && lease_ != nullptr && plan.server == lease_server_;
}

void ClientSession::dispatchPinned(PendingRequest& request, const route::Plan& plan,
                                   const resp::Request& parsed) {
  if (plan.command != nullptr) request.command_id = command::commandId(*plan.command);
  uint32_t server = route::kAnyServer;
  switch (plan.kind) {
    case route::PlanKind::kLocal:
      if (!in_multi_ || plan.command->name == "quit") {
        executeLocal(*this, request, parsed.args, *plan.command);
        return;
      }
      if (!queuedByBackend(*plan.command)) {
        refuseQueued(request, fmt::format(resp::kErrNotInTransaction, plan.command->name));
        return;
      }
      break;
    case route::PlanKind::kError:
      if (!plan.keyless) {
        countRejected(plan.command);
        refuseQueued(request, plan.error);
        return;
      }
      break;
    case route::PlanKind::kSplit:
      refuseQueued(request, resp::kErrTransactionCrossShard);
      return;
    case route::PlanKind::kFanout:
      // With one backend, "every shard" is the lease's; a sharded pool cannot run it here.
      if (host_.pool(pool_index_).servers.size() != 1) {
        refuseQueued(request, fmt::format(resp::kErrFanoutInTransaction, plan.command->name));
        return;
      }
      break;
    case route::PlanKind::kSubscribe:
      refuseQueued(request, fmt::format(resp::kErrSubscribeInTransaction, plan.command->name));
      return;
    case route::PlanKind::kForward:
    case route::PlanKind::kBlocking:
    case route::PlanKind::kTransaction:
      server = plan.server;
      break;
  }
  if (plan.kind == route::PlanKind::kTransaction) {
    const TransactionCommand which = transactionCommand(*plan.command);
    if (which != TransactionCommand::kUnwatch || !in_multi_) {
      pinnedTransactionCommand(request, plan, parsed);
      return;
    }
    // UNWATCH inside MULTI is queued like any command.
  }
  const bool pinned_to_server = (lease_ != nullptr && !multi_unsent_) || multi_lost_;
  if (server != route::kAnyServer && pinned_to_server && server != lease_server_) {
    refuseQueued(request, resp::kErrTransactionCrossShard);
    return;
  }
  if (multi_lost_) {
    refuseQueued(request, resp::kErrQueuedAfterLoss);
    return;
  }
  if (multi_unsent_) {  // the backend is named by the first key
    if (server == route::kAnyServer) {
      std::string& held = held_.emplace_back();
      if (parsed.is_inline) {
        common::ByteBuffer encoded;
        resp::appendCommand(encoded, parsed.args);
        held.assign(encoded.view());
      } else {
        held.assign(parsed.raw);
      }
      request.complete(kQueued);
      return;
    }
    if (!pinTo(server, request)) {
      dirty_ = true;
      return;
    }
    sendHeld();
  }
  if (plan.kind == route::PlanKind::kBlocking && !in_multi_) {
    // Inside MULTI a blocking command does not block; outside (after WATCH) it does.
    lease_->updateKnobs(-1, lease_->options().keepalive);
    blocked_ = true;
  }
  if (in_multi_) logQueued(request, parsed);
  sendOnLease(request, parsed);
}

// MULTI, EXEC, DISCARD, WATCH and UNWATCH (outside MULTI) while pinned.
void ClientSession::pinnedTransactionCommand(PendingRequest& request, const route::Plan& plan,
                                             const resp::Request& parsed) {
  const bool connected = lease_ != nullptr && !multi_unsent_;
  switch (transactionCommand(*plan.command)) {
    case TransactionCommand::kMulti:
      if (in_multi_) {  // Redis answers it and the transaction goes on
        if (connected) {
          sendOnLease(request, parsed);
        } else {
          request.completeWithError(resp::kErrMultiNested);
        }
        return;
      }
      in_multi_ = true;
      dirty_ = false;
      beginTransactionLog();
      sendOnLease(request, parsed);
      return;
    case TransactionCommand::kWatch:
      if (in_multi_) {
        if (connected) {
          sendOnLease(request, parsed);
        } else {
          request.completeWithError(resp::kErrWatchInMulti);
        }
        return;
      }
      if (plan.server != lease_server_) {
        request.completeWithError(resp::kErrTransactionCrossShard);
        return;
      }
      sendOnLease(request, parsed);
      return;
    case TransactionCommand::kUnwatch:  // outside MULTI: the lease ends with its reply
      watching_ = false;
      watch_lost_ = false;
      sendOnLease(request, parsed);
      return;
    case TransactionCommand::kExec:
      execPinned(request, parsed);
      return;
    case TransactionCommand::kDiscard:
      if (!in_multi_ || connected) {
        sendOnLease(request, parsed);  // without MULTI, Redis's own error
      } else {
        request.complete(kOk);
      }
      if (in_multi_) resetTransaction();
      return;
  }
}

void ClientSession::execPinned(PendingRequest& request, const resp::Request& parsed) {
  if (!in_multi_) {  // WATCH without MULTI: Redis answers "EXEC without MULTI"
    sendOnLease(request, parsed);
    return;
  }
  const bool aborted = dirty_;
  const bool watched = watching_;
  const bool watch_failed = watch_lost_;
  const bool lost = multi_lost_;
  const bool unsent = multi_unsent_;
  const bool have_held = !held_.empty();
  resetTransaction();
  if (lost) {
    request.completeWithError(resp::kErrTransactionLost);
    return;
  }
  if (aborted) {
    request.rewrite_error = resp::kErrExecAbort;
  } else if (watch_failed) {
    request.rewrite_nil = true;  // a watched key may have changed while the lease was lost
  }
  if (unsent) {
    if (aborted || watch_failed || !have_held) {
      if (aborted) {
        request.completeWithError(resp::kErrExecAbort);
      } else {
        request.complete(watch_failed ? resp::nullReply(protocol, true) : kEmptyArray);
      }
      held_.clear();
      return;
    }
    // Only keyless commands: any backend runs them (the one still leased, if any).
    if (!pinTo(lease_ != nullptr ? lease_server_ : 0, request)) {
      held_.clear();
      return;
    }
    sendHeld();
  }
  if (request.rewrite_nil || !request.rewrite_error.empty()) {
    const std::string_view discard[] = {"DISCARD"};
    sendOnLease(request, {}, discard);
    return;
  }
  if (tx_number_ != 0 && !tx_log_full_ && pool_index_ != kNoPool &&
      host_.pool(pool_index_).config->cluster) {
    // Kept until its reply: it runs again elsewhere if its slot moved (replayTransaction).
    request.cluster_tx = tx_number_;
    request.cluster_exec = true;
    request.cluster_watched = watched;
    request.cluster_request.append(tx_log_.view());
  }
  tx_log_.clear();
  sendOnLease(request, parsed);
}

void ClientSession::sendBlocking(PendingRequest& request, const route::Plan& plan,
                                 const resp::Request& parsed) {
  if (!pinTo(plan.server, request)) return;
  // The command's own timeout rules (0 blocks for ever), not the pool's.
  lease_->updateKnobs(-1, lease_->options().keepalive);
  blocked_ = true;
  keepForResend(request, plan.server, plan.slot, parsed.args, *plan.command);
  sendOnLease(request, parsed);
}

// A blocking command outside a transaction, to a group's master, with a timeout it can be
// sent again with: kept until its reply.
void ClientSession::keepForResend(PendingRequest& request, uint32_t server, int32_t slot,
                                  std::span<const std::string_view> args,
                                  const command::CommandInfo& command) {
  block_args_.clear();
  master_wait_since_ = {};
  block_slot_ = slot;
  block_asking_ = false;
  if (!host_.pool(pool_index_).servers[server].is_group) return;
  block_timeout_ = command::blockTimeout(command, args);
  if (!block_timeout_.index) return;
  block_args_.assign(args.begin(), args.end());
  block_server_ = server;
  block_sent_ = common::now();
  request.resend_blocked = true;
}

uint32_t ClientSession::leaseWanted(const route::Plan& plan, std::span<const std::string_view> args,
                                    bool on_lease) {
  uint32_t server = route::kAnyServer;
  if (plan.kind == route::PlanKind::kSubscribe) {  // refused inside a transaction
    return on_lease ? route::kAnyServer : subscriptionWaits(*plan.command, args);
  }
  if (on_lease) {
    // MULTI answered here: the first keyed command names the backend.
    const bool keyed =
        plan.kind == route::PlanKind::kForward || plan.kind == route::PlanKind::kBlocking;
    if (multi_unsent_ && keyed) server = plan.server;
  } else if (plan.kind == route::PlanKind::kBlocking) {
    server = plan.server;
  } else if (plan.kind == route::PlanKind::kTransaction) {
    const TransactionCommand which = transactionCommand(*plan.command);
    if (which == TransactionCommand::kWatch) server = plan.server;
    const bool one_server = host_.pool(pool_index_).servers.size() == 1;
    if (which == TransactionCommand::kMulti && one_server) server = 0;
  }
  if (server == route::kAnyServer) return server;
  const bool leased = lease_ != nullptr && lease_server_ == server && !lease_->hasFailed();
  return leased ? route::kAnyServer : server;
}

// Starts the wait's clock when it is not running; true once the pool's failover_wait has
// passed since it started.
bool ClientSession::masterWaitOver() {
  const common::TimePoint now = common::now();
  if (master_wait_since_ == common::TimePoint{}) {
    master_wait_since_ = now;
    return false;
  }
  return now - master_wait_since_ >=
         common::Millis(host_.pool(pool_index_).config->failover_wait_ms);
}

bool ClientSession::waitForMaster(uint32_t server) {
  if (!host_.masterPending(pool_index_, server, id_, setup())) {
    master_wait_since_ = {};
    master_waited_ms_ = 0;
    return false;
  }
  if (masterWaitOver()) {
    master_waited_ms_ = common::elapsedMillis(std::exchange(master_wait_since_, {}));
    return false;  // waited long enough: the lease is refused with the reason
  }
  master_wait_ = true;
  host_.waitForMaster(*this);
  updateInterest();
  return true;
}

bool ClientSession::resendBlocked(PendingRequest& request) {
  if (closing_ || resend_ != nullptr || block_args_.empty() || pool_index_ == kNoPool) {
    return false;
  }
  if (masterWaitOver()) return false;  // sent again already; no master took it in time
  resend_ = &request;
  host_.waitForMaster(*this);  // never from inside the failing connection's own call
  return true;
}

// The WATCH that pins a cluster pool's session, kept as a blocking command is: a node that
// redirects it (the table was stale) gets it sent on like one (redirectBlocked), and the
// client's next requests wait for it meanwhile.
void ClientSession::keepWatchForRedirection(PendingRequest& request, const route::Plan& plan,
                                            std::span<const std::string_view> args) {
  block_args_.assign(args.begin(), args.end());
  block_timeout_ = {};  // no timeout: sent again as it is
  block_server_ = plan.server;
  block_slot_ = plan.slot;
  block_asking_ = false;
  block_sent_ = common::now();
  master_wait_since_ = {};
  request.resend_blocked = true;
}

bool ClientSession::redirectBlocked(PendingRequest& request, std::string_view framed_reply) {
  if (block_slot_ == route::kNoSlot || closing_ || resend_ != nullptr || block_args_.empty() ||
      pool_index_ == kNoPool) {
    return false;
  }
  const std::optional<route::Redirection> redirection = route::parseSlotMove(framed_reply);
  if (!redirection) return false;
  if (request.cluster_hops >= route::kMaxClusterHops || masterWaitOver()) return false;
  ++request.cluster_hops;
  const uint32_t named = host_.noteRedirection(pool_index_, *redirection);
  block_asking_ =
      redirection->kind == route::Redirection::Kind::kAsk && named != SessionHost::kNoServer;
  if (block_asking_) block_server_ = named;
  blocked_ = true;  // a redirected WATCH: nothing more is dispatched until it is answered
  resend_ = &request;
  host_.waitForMaster(*this);  // never from inside the answering connection's own call
  return true;
}

void ClientSession::onMasterWait() {
  if (closing_) return;
  if (resend_ != nullptr) {
    resendNow();
    return;
  }
  if (!master_wait_) return;
  master_wait_ = false;
  unblocked_ = true;  // the waiting request is parsed and dispatched again
  maybeResume();
}

// The blocking command again, once its group has a master other than the node it blocked
// on (or failover_wait has passed): on a new lease, with the time that is left.
void ClientSession::resendNow() {
  PendingRequest& request = *resend_;
  if (pool_index_ == kNoPool) {
    resend_ = nullptr;
    request.completeWithError(resp::kErrPoolLeftWhileBlocked);
    request.release();  // the backend's hold
    return;
  }
  const common::TimePoint now = common::now();
  const bool waited_enough = masterWaitOver();
  const topology::PoolTopology& pool = host_.pool(pool_index_);
  // A cluster pool's command goes where the slot table puts its slot now (after an ASK: to
  // the node named, whatever the table says).
  if (block_slot_ != route::kNoSlot && !block_asking_ && pool.config->cluster) {
    block_server_ = pool.serverForSlot(static_cast<uint16_t>(block_slot_));
  }
  const bool old_master =
      !block_asking_ && lease_ != nullptr && host_.leaseServes(*lease_, pool_index_, block_server_);
  if (!waited_enough &&
      (old_master || host_.masterPending(pool_index_, block_server_, id_, setup()))) {
    host_.waitForMaster(*this);
    return;
  }
  resend_ = nullptr;
  if (lease_ != nullptr) {  // the old node's: nothing is in flight on it any more
    host_.returnConnection(*std::exchange(lease_, nullptr), false, resp::kErrReasonMasterChanged);
  }
  if (!old_master) master_wait_since_ = {};  // a new master: a later failover may resend too
  if (!pinTo(block_server_, request)) {      // answered
    request.release();                       // the backend's hold
    return;
  }
  std::string timeout;
  std::vector<std::string_view> args(block_args_.begin(), block_args_.end());
  if (block_timeout_.index &&
      timeoutLeft(block_args_[*block_timeout_.index], block_timeout_.milliseconds,
                  now - block_sent_, timeout)) {
    args[*block_timeout_.index] = timeout;
  }
  lease_->updateKnobs(-1, lease_->options().keepalive);
  host_.proxyStats().blocked_resends.fetch_add(1, std::memory_order_relaxed);
  if (request.cluster_hops == 0) {
    spdlog::info("client {}: {} sent again to the new master of {} after a failover", id_,
                 block_args_[0], pool.servers[block_server_].stats_name);
  }
  if (std::exchange(block_asking_, false) && !lease_->hasFailed()) {
    lease_->send(backend::kAskingRequest, backend::dropped_reply, request.received);
  }
  if (!lease_->hasFailed() && lease_->sendCommand(args, request, request.received)) return;
  request.completeWithError(lease_->unavailableMessage());
  request.release();  // the backend's hold
  loseLease(resp::kErrReasonLeaseEnded);
}

bool ClientSession::leaseFits(const route::Plan& plan) const {
  return (plan.server == route::kAnyServer || plan.server == lease_server_) &&
         lease_->options().db == db && lease_->options().protocol == protocol;
}

// Leases the connection the session pins itself to; on failure answers `request`. A lease
// still held for its last replies (EXEC sent, MULTI pipelined behind it) is used again when
// it fits (dispatch() waited for it to drain when it did not).
bool ClientSession::pinTo(uint32_t server, PendingRequest& request) {
  if (lease_ != nullptr) {
    if (lease_server_ == server && lease_->options().db == db &&
        lease_->options().protocol == protocol && !lease_->hasFailed()) {
      return true;
    }
    // An earlier mode's lease with late replies still to come (timed out): closed.
    host_.returnConnection(*std::exchange(lease_, nullptr), false, resp::kErrReasonLeaseEnded);
  }
  const std::string* error = nullptr;
  backend::BackendConnection* connection =
      host_.leaseConnection(pool_index_, server, setup(), takeMasterWaited(), error);
  if (connection == nullptr) {
    counters_[common::PoolStat::forward_error].add();
    request.completeWithError(*error);
    return false;
  }
  lease_ = connection;
  lease_server_ = server;
  return true;
}

// After MULTI was answered here: MULTI and the commands queued meanwhile go out first.
void ClientSession::sendHeld() {
  multi_unsent_ = false;
  lease_->send(backend::kMultiRequest, backend::dropped_reply);
  for (const std::string& held : held_) {
    logHeld(held);
    lease_->send(held, backend::dropped_reply);
  }
  held_.clear();
}

void ClientSession::sendOnLease(PendingRequest& request, const resp::Request& parsed) {
  sendOnLease(request, parsed.is_inline ? std::string_view() : parsed.raw, parsed.args);
}

// `raw` RESP bytes, or (when `raw` is empty) `args` encoded, as SessionHost::sendRequest.
void ClientSession::sendOnLease(PendingRequest& request, std::string_view raw,
                                std::span<const std::string_view> args) {
  request.hold();  // the backend's hold
  const bool sent =
      !lease_->hasFailed() && (raw.empty() ? lease_->sendCommand(args, request, request.received)
                                           : lease_->send(raw, request, request.received));
  if (sent) return;
  request.release();
  request.completeWithError(lease_->unavailableMessage());
  loseLease(resp::kErrReasonLeaseEnded);
}

// A command Redis would refuse while queuing (or that the proxy cannot queue): refused, and
// the transaction will abort as Redis aborts it.
void ClientSession::refuseQueued(PendingRequest& request, std::string_view error) {
  counters_[common::PoolStat::forward_error].add();
  if (in_multi_) dirty_ = true;
  request.completeWithError(error);
}

void ClientSession::resetTransaction() {
  in_multi_ = false;
  multi_unsent_ = false;
  multi_lost_ = false;
  watching_ = false;
  watch_lost_ = false;
  dirty_ = false;
}

// After a reply reached this session while it holds a lease or is blocked: notices a lost
// lease, ends a block whose reply came, and returns a lease nothing needs any more.
void ClientSession::tendLease() {
  if (lease_ != nullptr && lease_->hasFailed()) loseLease(resp::kErrReasonLeaseEnded);
  if (blocked_ && resend_ == nullptr && (lease_ == nullptr || lease_->inFlight() == 0)) {
    blocked_ = false;
    unblocked_ = true;  // the next flush resumes reading (maybeResume)
    if (lease_ != nullptr && pool_index_ != kNoPool) {
      lease_->updateKnobs(host_.pool(pool_index_).config->timeout_ms, lease_->options().keepalive);
    }
  }
  // While MULTI waits for its first key, a lease still held is an earlier transaction's.
  const bool lease_in_use = pinned() && !multi_unsent_;
  if (lease_ != nullptr && !lease_in_use && !blocked_ && lease_->inFlight() == 0) {
    host_.returnConnection(*std::exchange(lease_, nullptr), true, resp::kErrReasonLeaseEnded);
  }
}

// The lease no longer carries the session's backend state: closed (its requests in flight
// fail with `reason`), and the transaction it carried will fail.
void ClientSession::loseLease(std::string_view reason) {
  if (lease_ == nullptr) return;
  backend::BackendConnection* lost = std::exchange(lease_, nullptr);
  if (in_multi_) multi_lost_ = true;
  if (watching_) {
    watching_ = false;
    watch_lost_ = true;
  }
  host_.returnConnection(*lost, false, reason);
  if (blocked_) tendLease();
}

void ClientSession::checkLease() {
  if (subscriptions_) subscriptions_->checkConnections(pool_index_);
  if (lease_ == nullptr) return;
  if (pool_index_ != kNoPool && host_.leaseServes(*lease_, pool_index_, lease_server_)) return;
  loseLease(resp::kErrReasonMasterChanged);
}

}  // namespace sy::server
