#include "server/client_session.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "command/command.h"
#include "common/check.h"
#include "resp/encoder.h"
#include "resp/errors.h"
#include "server/local_commands.h"
#include "server/pending_request.h"
#include "server/proxy_stats.h"
#include "server/session_host.h"
#include "server/subscriptions.h"

namespace sy::server {
namespace {

constexpr size_t kStashReadChunk = 16 * 1024;

bool wouldBlock(int error) { return error == EAGAIN || error == EWOULDBLOCK; }

// What Redis runs for a RESP2 client in the subscribed context.
bool allowedWhenSubscribed(const command::CommandInfo& command) {
  return command.handling == command::Handling::kSubscribe || command.name == "ping" ||
         command.name == "quit" || command.name == "reset";
}

resp::ParserLimits parserLimits(const config::PoolConfig& pool) {
  resp::ParserLimits limits;
  limits.max_args = static_cast<size_t>(pool.max_request_args);
  limits.max_bulk_bytes = static_cast<size_t>(pool.max_argument_bytes);
  limits.max_request_bytes = static_cast<size_t>(pool.max_request_bytes);
  return limits;
}

}  // namespace

ClientSession::ClientSession(SessionHost& host, int fd, bool is_tcp, uint32_t pool_index,
                             PoolCounters& counters, std::atomic<int64_t>& open_clients,
                             uint64_t id)
    : host_(host),
      fd_(fd),
      pool_index_(pool_index),
      counters_(counters),
      open_clients_(open_clients),
      id_(id),
      last_read_(common::now()) {
  if (pool_index_ != kNoPool) {
    const config::PoolConfig& pool = *host.pool(pool_index_).config;
    db = pool.redis_db;
    parser_.setLimits(parserLimits(pool));
  }
  if (is_tcp) {
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
}

ClientSession::~ClientSession() {
  if (fd_ >= 0) ::close(fd_);
}

void ClientSession::start() { updateInterest(); }

// Keeps the epoll registration in step with what the session waits for: input unless
// paused or done reading, writability only while the socket is full.
void ClientSession::updateInterest() {
  if (closing_) return;
  uint32_t wanted = 0;
  if (!paused_ && !input_closed_ && !blocked_ && !barrier_ && !master_wait_) wanted |= EPOLLIN;
  if (blocked_ || master_wait_) wanted |= EPOLLRDHUP;  // a client that leaves ends the block
  if (write_blocked_) wanted |= EPOLLOUT;
  if (wanted == interest_) return;
  host_.watchClient(fd_, *this, interest_, wanted);
  interest_ = wanted;
}

std::span<char> ClientSession::onEvents(uint32_t events, std::span<char> scratch) {
  if (closing_) return {};
  if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && write_blocked_) {
    write_blocked_ = false;
    flush();
    if (closing_) return {};
  }
  if ((blocked_ || master_wait_) && (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
    counters_[common::PoolStat::client_eof].add();
    close("client closed the connection while blocked");  // the backend stops waiting for it
    return {};
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
    std::span<char> space = readSpace(scratch);
    if (!space.empty()) return space;  // onRead() follows
  }
  updateInterest();
  return {};
}

void ClientSession::endOp() {
  SY_ASSERT(ops_ > 0);
  --ops_;
  if (closing_ && ops_ == 0) host_.destroySession(*this);  // last use of `this`
}

// The stash when a request spans reads, else the worker's scratch.
std::span<char> ClientSession::readSpace(std::span<char> scratch) {
  if (closing_ || paused_ || input_closed_ || blocked_ || barrier_ || master_wait_) return {};
  if (!stash_) return scratch;
  size_t stashed = stash_->size();
  size_t wanted = parser_.bytesNeeded() > stashed ? parser_.bytesNeeded() - stashed : 0;
  // Room for what the request still needs, but never more than doubling what has arrived:
  // a client announcing a 500 MB argument gets memory only as it sends bytes.
  size_t room = std::clamp(wanted, kStashReadChunk, std::max(kStashReadChunk, stashed));
  return stash_->prepare(room);
}

void ClientSession::onRead(std::span<char> space, ssize_t result) {
  if (closing_) return;
  if (result == -EINTR || wouldBlock(static_cast<int>(-result))) {
    updateInterest();
    return;  // level-triggered: reported again when there is something
  }
  if (result <= 0) {
    bool failed = result < 0;
    if (failed) {
      counters_[common::PoolStat::client_err].add();
    } else {
      counters_[common::PoolStat::client_eof].add();
    }
    close(failed ? std::strerror(static_cast<int>(-result)) : "client closed the connection");
    return;
  }
  size_t got = static_cast<size_t>(result);
  last_read_ = common::eventTime();
  if (stash_) {  // readSpace() gave the stash: nothing between it and here changes that
    SY_ASSERT(space.data() == stash_->data() + stash_->size());
    stash_->commit(got);
    processStash();
  } else {
    takeInput(std::string_view(space.data(), got));
  }
  updateInterest();
}

// Processes a chunk read outside the stash; what cannot be processed yet is stashed.
void ClientSession::takeInput(std::string_view chunk) {
  if (stash_) {
    stash_->append(chunk);
    processStash();
    return;
  }
  size_t used = processInput(chunk);
  if (used < chunk.size() && !closing_ && !input_closed_) {
    stash_ = host_.buffers().acquire();
    stash_->append(chunk.substr(used));
  }
}

void ClientSession::processStash() {
  size_t used = processInput(stash_->view());
  if (!stash_) return;  // closed meanwhile
  stash_->consume(used);
  if (stash_->empty()) host_.buffers().release(std::move(stash_));
}

// Parses and dispatches every complete request in `data`; returns the bytes used.
size_t ClientSession::processInput(std::string_view data) {
  processing_ = true;
  resp::Request& request = host_.parsedRequest();
  size_t offset = 0;
  while (offset < data.size() && !paused_ && !closing_ && !input_closed_ && !blocked_ &&
         !barrier_ && !master_wait_) {
    size_t consumed = 0;
    auto status = parser_.parse(data.substr(offset), consumed, request);
    if (status == resp::ParseStatus::kNeedMore) break;
    if (status == resp::ParseStatus::kError) {
      protocolError(parser_.error());
      offset = data.size();
      break;
    }
    if (request.args.empty()) {
      offset += consumed;
      continue;
    }
    if (!dispatch(request)) break;  // held back: parsed again once the session may go on
    offset += consumed;
    if (pending_.size() >= kMaxPending || outputBytes() >= kMaxOutputBytes) paused_ = true;
  }
  processing_ = false;
  return offset;
}

// Redis 7.0's order: an unknown command, subcommand or wrong arity gets its own error even
// before authentication; any other command but AUTH, HELLO and QUIT (flagged no-auth) gets
// NOAUTH.
bool ClientSession::needsAuth(const route::Plan& plan) const {
  if (authenticated || !plan.well_formed || !host_.poolRequiresAuth(pool_index_)) return false;
  return !plan.command->hasFlag(command::kFlagNoAuth);
}

// The connection a planned request travels on (see barrier_): the shared connections of the
// session's setup (database and protocol), a private one, or none (answered here).
int ClientSession::laneOf(const route::Plan& plan, bool on_lease) const {
  if (on_lease) return kPrivateLane;
  if (plan.kind == route::PlanKind::kLocal && plan.command->name == "reset") return kResetLane;
  switch (plan.kind) {
    case route::PlanKind::kForward:
    case route::PlanKind::kSplit:
      return sharedLane();
    case route::PlanKind::kFanout:
      // A kill goes around the shared connections; it waits for the session's earlier replies.
      return plan.command->handling == command::Handling::kFanoutPrivate ? kPrivateLane
                                                                         : sharedLane();
    case route::PlanKind::kTransaction:
    case route::PlanKind::kBlocking:
      return kPrivateLane;
    case route::PlanKind::kSubscribe:
      return kSubscriberLane;
    case route::PlanKind::kLocal:
    case route::PlanKind::kError:
      return kNoLane;
  }
  return kNoLane;
}

bool ClientSession::dispatch(const resp::Request& parsed) {
  std::span<const std::string_view> args(parsed.args);
  route::Plan& plan = host_.plan();
  host_.router().plan(host_.pool(pool_index_), args, plan);
  // Redis runs a client's requests in order. Requests on one connection stay in order; a
  // request for another connection (another database after SELECT, a private connection
  // for MULTI or BLPOP, or back) waits until every earlier request has been answered.
  const bool needs_auth = needsAuth(plan);
  // RESP3 has no subscribed context: messages come as push replies between the others.
  if (!needs_auth && plan.well_formed && protocol == 2 && subscribed() &&
      !allowedWhenSubscribed(*plan.command)) {
    plan.kind = route::PlanKind::kError;
    plan.error = fmt::format(resp::kErrSubscribedContext, plan.command->name);
  }
  const bool on_lease = !needs_auth && pinned() && onLease(plan);
  const int lane = needs_auth ? kNoLane : laneOf(plan, on_lease);
  const bool other_lane = lane != kNoLane && lane != lane_;
  const bool other_lease =
      lane == kPrivateLane && lease_ != nullptr && (!pinned() || multi_unsent_) && !leaseFits(plan);
  if ((other_lane || other_lease) && !pending_.empty()) {
    barrier_ = true;
    updateInterest();
    return false;
  }
  if (!needs_auth && pool_index_ != kNoPool) {
    const uint32_t lease_server = leaseWanted(plan, args, on_lease);
    if (lease_server != route::kAnyServer && waitForMaster(lease_server)) return false;
  }
  if (lane != kNoLane) lane_ = lane;
  PendingRequest& request = host_.requests().acquire();  // the session's hold
  request.session = this;
  request.received = common::eventTime();
  pending_.push(&request);
  if (needs_auth) {
    countRejected(plan.command);
    if (in_multi_) dirty_ = true;  // Redis flags the transaction too
    request.completeWithError(resp::kErrNoAuth);
    return true;
  }
  if (plan.well_formed) host_.noteScript(*plan.command, args);  // refused ones are harmless
  if (on_lease) {
    dispatchPinned(request, plan, parsed);
  } else {
    dispatchShared(request, plan, parsed);
  }
  return true;
}

// Where requests go outside a transaction: the shared connections, the proxy itself, or (a
// blocking command, MULTI, WATCH) a private connection.
void ClientSession::dispatchShared(PendingRequest& request, const route::Plan& plan,
                                   const resp::Request& parsed) {
  std::span<const std::string_view> args(parsed.args);
  if (plan.kind == route::PlanKind::kError) {
    counters_[common::PoolStat::forward_error].add();
    countRejected(plan.command);
    request.completeWithError(plan.error);
    return;
  }
  request.command_id = command::commandId(*plan.command);
  switch (plan.kind) {
    case route::PlanKind::kLocal:
      executeLocal(*this, request, args, *plan.command);
      return;
    case route::PlanKind::kForward:
      forward(request, plan, parsed);
      return;
    case route::PlanKind::kSplit:
      split(request, plan, args);
      return;
    case route::PlanKind::kFanout:
      fanout(request, plan, args);
      return;
    case route::PlanKind::kTransaction:
      startTransaction(request, plan, parsed);
      return;
    case route::PlanKind::kBlocking:
      sendBlocking(request, plan, parsed);
      return;
    case route::PlanKind::kSubscribe:
      subscribe(request, plan, args);
      return;
    case route::PlanKind::kError:
      return;
  }
}

void ClientSession::countRejected(const command::CommandInfo* command) {
  if (command != nullptr) {
    counters_.countRejected(command::commandId(*command));
  }
}

void ClientSession::forward(PendingRequest& request, const route::Plan& plan,
                            const resp::Request& parsed) {
  request.hold();  // the backend's hold, given back with the reply
  std::string_view raw = parsed.is_inline ? std::string_view() : parsed.raw;
  const uint32_t server = plan.server;
  if (plan.retry_read) {
    if (raw.empty()) {
      resp::appendCommand(request.retry_request, parsed.args);
    } else {
      request.retry_request.append(raw);
    }
    request.retry_pool = pool_index_;
    request.retry_server = server;
  }
  if (plan.slot != route::kNoSlot) keepForRedirection(request, raw, parsed.args, plan.slot);
  const std::string* error = host_.sendRequest(pool_index_, server, id_, setup(), plan.read_only,
                                               raw, parsed.args, request, request.received);
  if (error != nullptr) {
    request.release();
    counters_[common::PoolStat::forward_error].add();
    request.completeWithError(*error);
  }
}

// Sends one sub-request per backend; the parent completes when the last fragment does.
void ClientSession::split(PendingRequest& parent, const route::Plan& plan,
                          std::span<const std::string_view> args) {
  const command::CommandInfo& command = *plan.command;
  parent.merge = command.merge;
  parent.key_count = static_cast<uint32_t>(plan.keys.size());
  // Group keys per backend, in order of first appearance.
  // A cluster pool: per hash slot (Redis Cluster runs a multi-key command within one slot).
  auto& servers = host_.fragmentServers();
  auto& fragment_slots = host_.fragmentSlots();
  servers.clear();
  fragment_slots.clear();
  const bool cluster = host_.pool(pool_index_).config->cluster;
  for (uint32_t ordinal = 0; ordinal < plan.keys.size(); ++ordinal) {
    const route::KeyRoute& key = plan.keys[ordinal];
    size_t slot = 0;
    while (slot < servers.size() &&
           (servers[slot] != key.server || fragment_slots[slot] != key.slot)) {
      ++slot;
    }
    if (slot == servers.size()) {
      servers.push_back(key.server);
      fragment_slots.push_back(key.slot);
      PendingRequest& fragment = host_.requests().acquire();  // the parent's hold
      fragment.parent = &parent;
      fragment.received = parent.received;  // a redirected fragment waits from the client's send
      parent.fragments.push_back(&fragment);
    }
    parent.fragments[slot]->key_ordinals.push_back(ordinal);
  }
  parent.fragments_left = static_cast<uint32_t>(parent.fragments.size());
  parent.hold();  // kept until the last fragment completes
  counters_[common::PoolStat::fragments].add(parent.fragments.size());
  bool with_values = command.merge == command::MergeRule::kMsetOk;
  common::TimePoint parent_received = parent.received;
  // Fragments may complete (and the parent with them) inside this loop when a backend is
  // unavailable, so iterate over a copy of what is needed and never touch `parent` after.
  auto& fragment_args = host_.fragmentArgs();
  size_t fragment_count = parent.fragments.size();
  auto& fragments = host_.fragmentList();
  fragments.assign(parent.fragments.begin(), parent.fragments.end());
  for (size_t f = 0; f < fragment_count; ++f) {
    PendingRequest& fragment = *fragments[f];
    fragment_args.clear();
    fragment_args.push_back(args[0]);
    for (uint32_t ordinal : fragment.key_ordinals) {
      uint32_t position = plan.keys[ordinal].position;
      fragment_args.push_back(args[position]);
      if (with_values) fragment_args.push_back(args[position + 1]);
    }
    if (cluster) keepForRedirection(fragment, {}, fragment_args, fragment_slots[f]);
    fragment.hold();  // the backend's hold
    const std::string* error =
        host_.sendRequest(pool_index_, servers[f], id_, setup(), plan.read_only, {}, fragment_args,
                          fragment, parent_received);
    if (error != nullptr) {
      fragment.release();
      fragment.completeWithError(*error);
    }
  }
}

void ClientSession::keepForRedirection(PendingRequest& request, std::string_view raw,
                                       std::span<const std::string_view> args, int32_t slot) {
  if (raw.empty()) {
    resp::appendCommand(request.cluster_request, args);
  } else {
    request.cluster_request.append(raw);
  }
  request.cluster_slot = static_cast<uint16_t>(slot);
}

void ClientSession::protocolError(std::string_view message) {
  counters_[common::PoolStat::client_err].add();
  if (parser_.overLimit()) counters_.requests_over_limit.add();
  PendingRequest& request = host_.requests().acquire();
  request.session = this;
  request.close_after = true;
  pending_.push(&request);
  input_closed_ = true;
  std::string text = "ERR ";
  text += message;
  request.completeWithError(text);
}

common::ByteBuffer& ClientSession::out() {
  if (!out_) out_ = host_.buffers().acquire();
  return *out_;
}

void ClientSession::writeReply(PendingRequest& request, std::string_view reply) {
  SY_ASSERT(!pending_.empty() && pending_.front() == &request);
  out().append(reply);
  pending_.pop();
  if (barrier_ && pending_.empty()) {
    barrier_ = false;
    unblocked_ = true;  // the next flush resumes reading (maybeResume)
  }
  if (request.close_after || (leaving_pool_ && pending_.empty())) {
    close_after_flush_ = true;
    input_closed_ = true;
  }
  request.release();  // the session's hold
}

void ClientSession::onRequestDone(PendingRequest& request, std::string_view reply) {
  if (closing_) return;
  counters_.countReply(request.command_id, request.received, common::eventTime(),
                       !reply.empty() && reply[0] == '-');
  if (pending_.front() != &request) {
    request.reply.append(reply);
    request.done = true;
    if (lease_ != nullptr || blocked_) tendLease();
    return;
  }
  writeReply(request, reply);
  drainReady();
  scheduleFlush();
  if (lease_ != nullptr || blocked_) tendLease();
}

// Writes every reply at the head of the queue that is already complete.
void ClientSession::drainReady() {
  while (!pending_.empty() && pending_.front()->done && !close_after_flush_) {
    PendingRequest& request = *pending_.front();
    writeReply(request, request.reply.view());
  }
}

void ClientSession::scheduleFlush() {
  if (flush_posted_ || closing_) return;
  flush_posted_ = true;
  beginOp();  // ended by runDeferredFlush
  host_.deferFlush(*this);
}

std::span<const char> ClientSession::takeDeferredFlush() {
  flush_posted_ = false;
  if (closing_) return {};
  if (draining_ && !close_after_flush_ && betweenRequests()) {
    // Decided before the replies leave: a client that waits for them has sent nothing more.
    // Corked, they leave with the FIN (TCP; a UNIX socket ignores it): the client cannot read
    // them, send again and find the connection closed only then.
    closeOnceFlushed();
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
    flush();
    return {};
  }
  if (!write_blocked_ && out_ && !out_->empty()) return {out_->data(), out_->size()};
  flush();  // nothing to write now: releases the buffer, closes or resumes as flush() does
  return {};
}

void ClientSession::finishDeferredFlush(ssize_t result) {
  if (closing_) return;
  if (result < 0 && result != -EINTR && !wouldBlock(static_cast<int>(-result))) {
    counters_[common::PoolStat::client_err].add();
    close(std::strerror(static_cast<int>(-result)));
    return;
  }
  if (result > 0) out_->consume(static_cast<size_t>(result));
  if (wouldBlock(static_cast<int>(-result))) {
    write_blocked_ = true;
    updateInterest();
  }
  flush();  // the rest, if the socket took only part; then the buffer is released
}

void ClientSession::endDeferredFlush() {
  endOp();  // may destroy this session: nothing after it
}

void ClientSession::flush() {
  while (out_ && !out_->empty() && !write_blocked_) {
    ssize_t n = ::send(fd_, out_->data(), out_->size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && wouldBlock(errno)) {
      write_blocked_ = true;
      updateInterest();
      return;
    }
    if (n < 0) {
      counters_[common::PoolStat::client_err].add();
      close(std::strerror(errno));
      return;
    }
    out_->consume(static_cast<size_t>(n));
  }
  if (out_ && out_->empty()) host_.buffers().release(std::move(out_));
  if (close_after_flush_ && !out_) {
    close("closed after reply");
    return;
  }
  maybeResume();
}

// Resumes reading once the queue and the output have drained to half their limits.
void ClientSession::maybeResume() {
  if (closing_ || blocked_ || barrier_ || master_wait_) return;
  if (paused_) {
    if (pending_.size() > kMaxPending / 2 || outputBytes() > kMaxOutputBytes / 2) return;
    paused_ = false;
  } else if (!unblocked_) {
    return;
  }
  unblocked_ = false;
  if (processing_) return;  // the running processInput loop carries on
  if (stash_) processStash();
  updateInterest();
}

void ClientSession::closeOnceFlushed() {
  close_after_flush_ = true;
  input_closed_ = true;
  updateInterest();
}

bool ClientSession::betweenRequests() const {
  if (!pending_.empty() || stash_ || processing_ || pinned() || lease_ != nullptr || blocked_ ||
      barrier_ || master_wait_ || resend_ != nullptr) {
    return false;
  }
  int unread = 0;
  return ::ioctl(fd_, FIONREAD, &unread) == 0 && unread == 0;
}

void ClientSession::drain(common::TimePoint now) {
  if (closing_ || close_after_flush_) return;
  if (!draining_) {
    draining_ = true;
    drain_since_ = now;
  }
  if (now - std::max(drain_since_, last_read_) < kDrainIdleClose || !betweenRequests()) return;
  if (out_ && !out_->empty()) {  // the socket was full: close once the rest is written
    closeOnceFlushed();
    return;
  }
  close("drained while idle");
}

void ClientSession::followPool(uint32_t pool_index, const config::PoolConfig& pool) {
  pool_index_ = pool_index;
  parser_.setLimits(parserLimits(pool));
}

bool ClientSession::closeIfIdle(common::TimePoint now, common::Millis timeout) {
  if (closing_ || close_after_flush_ || !pending_.empty() || blocked_ || master_wait_ ||
      subscribed() || now - last_read_ < timeout) {
    return false;
  }
  counters_.clients_idle_closed.add();
  close("idle for client_idle_timeout");
  return true;
}

void ClientSession::leavePool() {
  pool_index_ = kNoPool;
  leaving_pool_ = true;
  input_closed_ = true;  // requests already read but not parsed are dropped with the session
  updateInterest();
  if (pending_.empty()) {
    close_after_flush_ = true;
    scheduleFlush();  // writes what is left in out_, then closes
  }
}

void ClientSession::close(std::string_view reason) {
  if (closing_) return;
  closing_ = true;
  spdlog::debug("client {} closed: {}", id_, reason);
  if (interest_ != 0) host_.watchClient(fd_, *this, interest_, 0);
  interest_ = 0;
  ::close(fd_);
  fd_ = -1;
  while (!pending_.empty()) {
    PendingRequest* request = pending_.pop();
    request->session = nullptr;
    request->release();  // the session's hold; backends still hold requests in flight
  }
  if (lease_ != nullptr) {
    // Closing a connection that is blocked or in a transaction makes the backend forget the
    // client at once (an element pushed later is not popped for nobody).
    backend::BackendConnection* leased = std::exchange(lease_, nullptr);
    bool reusable = !pinned() && !blocked_ && leased->inFlight() == 0;
    host_.returnConnection(*leased, reusable, resp::kErrReasonLeaseEnded);
  }
  if (resend_ != nullptr) std::exchange(resend_, nullptr)->release();  // its backend hold
  if (subscriptions_) subscriptions_->close();
  host_.buffers().release(std::move(stash_));
  host_.buffers().release(std::move(out_));
  beginOp();
  host_.deferCall([this] { endOp(); });  // destroyed from a fresh call, never mid-dispatch
}

}  // namespace sy::server
