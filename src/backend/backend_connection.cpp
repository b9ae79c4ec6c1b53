#include "backend/backend_connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <asio/post.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <string>

#include "common/handler_memory.h"
#include "resp/encoder.h"
#include "resp/errors.h"
#include "resp/reply_inspect.h"

namespace sy::backend {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr int kMaxReadsPerEvent = 16;  // then yield to other connections
constexpr common::Millis kFirstBackoff{100};
constexpr common::Millis kMaxBackoff{2000};
constexpr int64_t kMinStallLimitMs = 10000;
constexpr common::TimePoint kNoDeadline = common::TimePoint::max();
// A backend that stopped answering must not make the proxy grow without bound: past these,
// new requests are refused at once. Requests that timed out still count until their replies
// are read or the connection is reset.
constexpr size_t kMaxInFlight = 65536;
constexpr uint64_t kMaxInFlightBytes = 64 * 1024 * 1024;

}  // namespace

void BackendConnection::HandshakeStep::onBackendReply(std::string_view framed_reply) {
  if (resp::isErrorReply(framed_reply)) {
    owner_.fail(fmt::format(resp::kErrReasonHandshakeRejected, command_,
                            resp::lineReplyText(framed_reply)));
  }
}

void BackendConnection::ScriptStep::onBackendReply(std::string_view framed_reply) {
  if (resp::isErrorReply(framed_reply)) {
    owner_.options_.scripts->noteLoadError(owner_.options_.name, resp::lineReplyText(framed_reply));
  }
}

void BackendConnection::HandshakeStep::onBackendFailure(std::string_view /*message*/) {
  // The connection failed while the handshake was in flight; fail() already reports it.
}

BackendConnection::BackendConnection(asio::io_context& io, BackendOptions options)
    : BackendConnection(io, std::move(options), own_counters_) {}

BackendConnection::BackendConnection(asio::io_context& io, BackendOptions options,
                                     BackendCounters& counters)
    : io_(io),
      options_(std::move(options)),
      socket_(io),
      connect_timer_(io),
      out_(16 * 1024),
      in_(kReadChunk),
      framer_(resp::FramerLimits{.max_reply_bytes = options_.max_reply_bytes}),
      counters_(&counters) {}

BackendConnection::~BackendConnection() {
  if (flush_gathered_) options_.flush_gatherer->forgetFlush(*this);
  std::error_code ignored;
  socket_.close(ignored);
  // The counters outlive this connection: withdraw its share of the gauges.
  setConnectedGauge(false);
  unsent_requests_ = 0;
  in_flight_bytes_ = 0;
  in_flight_.clear();
  out_.clear();
  updateQueueGauges();
}

void BackendConnection::setConnectedGauge(bool connected) {
  if (connected == counted_connected_) return;
  counted_connected_ = connected;
  if (connected) {
    (*counters_)[common::ServerStat::server_connections].add();
  } else {
    (*counters_)[common::ServerStat::server_connections].sub();
  }
}

void BackendConnection::reportFailure() {
  if (options_.on_failure) options_.on_failure();
  if (options_.health == nullptr) return;
  failure_reported_ = true;
  options_.health->onServerFailure();
}

void BackendConnection::updateKnobs(int64_t timeout_ms, bool keepalive) {
  options_.timeout_ms = timeout_ms;
  if (timeout_ms > 0) options_.connect_timeout_ms = timeout_ms;
  if (keepalive != options_.keepalive && state_ == State::kReady &&
      options_.endpoint.protocol().protocol() == IPPROTO_TCP) {
    int value = keepalive ? 1 : 0;
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_KEEPALIVE, &value, sizeof(value));
  }
  options_.keepalive = keepalive;
}

common::TimePoint BackendConnection::deadlineFromNow() const {
  if (options_.timeout_ms < 0) return kNoDeadline;
  return common::coarseNow() + common::Millis(options_.timeout_ms);
}

bool BackendConnection::admit() {
  switch (state_) {
    case State::kReady:
    case State::kConnecting:
      if (in_flight_.size() < kMaxInFlight && in_flight_bytes_ < kMaxInFlightBytes) return true;
      unavailable_message_ =
          fmt::format(resp::kErrBackendOverloaded, options_.name, options_.address_text,
                      in_flight_.size(), in_flight_bytes_);
      return false;
    case State::kBackoff:
      if (common::now() < retry_at_) return false;
      [[fallthrough]];
    case State::kIdle:
      startConnect();
      return state_ == State::kConnecting;
  }
  return false;
}

void BackendConnection::enqueue(ReplyTarget& target, size_t bytes, common::TimePoint received) {
  in_flight_.push(InFlight{&target, deadlineFromNow(), bytes, false, received});
  (*counters_)[common::ServerStat::requests].add();
  (*counters_)[common::ServerStat::request_bytes].add(bytes);
  ++unsent_requests_;
  in_flight_bytes_ += bytes;
  scheduleFlush();
}

bool BackendConnection::send(std::string_view request, ReplyTarget& target,
                             common::TimePoint received) {
  if (!admit()) return false;
  out_.append(request);
  enqueue(target, request.size(), received);
  return true;
}

bool BackendConnection::sendCommand(std::span<const std::string_view> args, ReplyTarget& target,
                                    common::TimePoint received) {
  if (!admit()) return false;
  size_t before = out_.size();
  resp::appendCommand(out_, args);
  enqueue(target, out_.size() - before, received);
  return true;
}

bool BackendConnection::sendUnpaired(std::span<const std::string_view> args) {
  if (!admit()) return false;
  size_t before = out_.size();
  resp::appendCommand(out_, args);
  (*counters_)[common::ServerStat::requests].add();
  (*counters_)[common::ServerStat::request_bytes].add(out_.size() - before);
  scheduleFlush();
  return true;
}

void BackendConnection::connectIfIdle() {
  if (state_ == State::kIdle || (state_ == State::kBackoff && common::now() >= retry_at_)) {
    startConnect();
  }
}

void BackendConnection::startConnect() {
  ++generation_;
  std::error_code error;
  socket_.close(error);
  socket_ = asio::generic::stream_protocol::socket(io_);
  socket_.open(options_.endpoint.protocol(), error);
  if (!error) socket_.non_blocking(true, error);
  if (error) {
    state_ = State::kIdle;
    fail(fmt::format(resp::kErrReasonNoSocket, error.message()));
    return;
  }
  state_ = State::kConnecting;
  out_.clear();
  in_.clear();
  framer_.reset();
  queueHandshake();
  uint64_t generation = generation_;
  socket_.async_connect(options_.endpoint, [this, generation](const std::error_code& ec) {
    if (generation == generation_) onConnected(ec);
  });
  connect_timer_.expires_after(common::Millis(options_.connect_timeout_ms));
  connect_timer_.async_wait([this, generation](const std::error_code& ec) {
    if (ec || generation != generation_ || state_ != State::kConnecting) return;
    fail(fmt::format(resp::kErrReasonConnectTimedOut, options_.connect_timeout_ms));
  });
}

void BackendConnection::queueHandshake() {
  // Pipelined ahead of every request: if a step fails, its reply fails the connection
  // before any request's reply is read.
  if (!options_.auth.empty()) {
    std::string_view args[] = {"AUTH", options_.auth};
    resp::appendCommand(out_, args);
    in_flight_.push(InFlight{&auth_step_, kNoDeadline, 0, true, {}});
  }
  if (options_.protocol == 3) {
    std::string_view args[] = {"HELLO", "3"};
    resp::appendCommand(out_, args);
    in_flight_.push(InFlight{&hello_step_, kNoDeadline, 0, true, {}});
  }
  if (options_.cluster_readonly) {
    std::string_view args[] = {"READONLY"};
    resp::appendCommand(out_, args);
    in_flight_.push(InFlight{&readonly_step_, kNoDeadline, 0, true, {}});
  }
  if (options_.db != 0) {
    std::string db = std::to_string(options_.db);
    std::string_view args[] = {"SELECT", db};
    resp::appendCommand(out_, args);
    in_flight_.push(InFlight{&select_step_, kNoDeadline, 0, true, {}});
  }
  if (options_.scripts != nullptr) {
    scripts_version_ = 0;  // a new connection may reach a node that has lost every script
    appendScriptLoads();
  }
}

void BackendConnection::appendScriptLoads() {
  uint64_t loads = 0;
  scripts_version_ = options_.scripts->forEachSince(scripts_version_, [&](std::string_view body) {
    std::string_view args[] = {"SCRIPT", "LOAD", body};
    resp::appendCommand(out_, args);
    // Internal, like AUTH, but with a deadline: a node that never answers it is stalled.
    in_flight_.push(InFlight{&script_step_, deadlineFromNow(), 0, true, {}});
    ++loads;
  });
  options_.scripts->reloaded.fetch_add(loads, std::memory_order_relaxed);
}

// A connection that is not connected or connecting loads every script when it connects.
void BackendConnection::queueScriptLoads() {
  if (state_ != State::kReady && state_ != State::kConnecting) return;
  if (subscriber_ != nullptr) return;
  appendScriptLoads();
  scheduleFlush();
}

void BackendConnection::onConnected(const std::error_code& error) {
  connect_timer_.cancel();
  if (error) {
    fail(error.message());
    return;
  }
  std::error_code ignored;
  if (options_.endpoint.protocol().protocol() == IPPROTO_TCP) {
    int one = 1;
    ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (options_.keepalive) {
      ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    }
  }
  state_ = State::kReady;
  backoff_ = common::Millis(0);
  setConnectedGauge(true);
  counters_->connects.add();
  spdlog::log(options_.log_level, "backend {} ({}) connected", options_.name,
              options_.address_text);
  armRead();
  flush();
}

void BackendConnection::scheduleFlush() {
  if (state_ != State::kReady) return;
  if (options_.flush_gatherer != nullptr) {
    if (!flush_gathered_) {
      flush_gathered_ = true;
      options_.flush_gatherer->gatherFlush(*this);
    }
    return;
  }
  if (flush_posted_) return;
  flush_posted_ = true;
  uint64_t generation = generation_;
  asio::post(io_, common::bindHandlerMemory(flush_memory_, [this, generation] {
               flush_posted_ = false;
               if (generation == generation_) flush();
             }));
}

void BackendConnection::flush() {
  if (state_ != State::kReady || waiting_writable_) return;
  while (!out_.empty()) {
    std::error_code error;
    size_t written = socket_.write_some(asio::buffer(out_.data(), out_.size()), error);
    if (error == asio::error::would_block || error == asio::error::try_again) {
      waitWritable();
      break;
    }
    if (error) return fail(fmt::format(resp::kErrReasonWriteFailed, error.message()));
    out_.consume(written);
  }
  if (out_.empty()) unsent_requests_ = 0;
  updateQueueGauges();
}

void BackendConnection::waitWritable() {
  waiting_writable_ = true;
  uint64_t generation = generation_;
  socket_.async_wait(
      asio::socket_base::wait_write,
      common::bindHandlerMemory(write_memory_, [this, generation](const std::error_code& ec) {
        if (generation != generation_) return;
        waiting_writable_ = false;
        if (ec) return fail(ec.message());
        flush();
      }));
}

std::span<const char> BackendConnection::takeGatheredFlush() {
  flush_gathered_ = false;
  if (state_ != State::kReady || waiting_writable_) return {};
  return {out_.data(), out_.size()};
}

void BackendConnection::finishGatheredFlush(ssize_t result) {
  if (result == -EAGAIN) {  // EWOULDBLOCK is the same number on Linux
    waitWritable();
    return;
  }
  if (result < 0) {
    return fail(fmt::format(resp::kErrReasonWriteFailed, std::strerror(static_cast<int>(-result))));
  }
  out_.consume(static_cast<size_t>(result));
  if (!out_.empty()) return flush();  // the socket took part: write the rest (or wait)
  unsent_requests_ = 0;
  updateQueueGauges();
}

// twemproxy's gauges: in_queue counts requests not yet fully written, out_queue those
// written and waiting for their reply.
void BackendConnection::updateQueueGauges() {
  uint64_t unsent = std::min<uint64_t>(unsent_requests_, in_flight_.size());
  uint64_t unsent_bytes = std::min<uint64_t>(out_.size(), in_flight_bytes_);
  // Unsigned wrap-around makes add(new - shown) a subtraction when the share shrinks.
  auto show = [](common::Counter& gauge, uint64_t& shown, uint64_t value) {
    gauge.add(value - shown);
    shown = value;
  };
  show((*counters_)[common::ServerStat::in_queue], shown_in_queue_, unsent);
  show((*counters_)[common::ServerStat::in_queue_bytes], shown_in_queue_bytes_, unsent_bytes);
  show((*counters_)[common::ServerStat::out_queue], shown_out_queue_, in_flight_.size() - unsent);
  show((*counters_)[common::ServerStat::out_queue_bytes], shown_out_queue_bytes_,
       in_flight_bytes_ - unsent_bytes);
}

// Reads straight into in_: a read that drains the socket re-arms without an epoll_ctl call.
void BackendConnection::armRead() {
  uint64_t generation = generation_;
  auto space = in_.prepare(kReadChunk);
  socket_.async_read_some(
      asio::buffer(space.data(), space.size()),
      common::bindHandlerMemory(read_memory_,
                                [this, generation](const std::error_code& error, size_t bytes) {
                                  if (generation != generation_) return;
                                  onReadable(error, bytes);
                                }));
}

void BackendConnection::onReadable(const std::error_code& first_error, size_t first_bytes) {
  common::stampEventTime();  // every reply of this read completes at this time
  uint64_t generation = generation_;
  std::error_code error = first_error;
  size_t n = first_bytes;
  size_t space = kReadChunk;
  for (int reads = 0;; ++reads) {
    if (error || n == 0) {
      (*counters_)[common::ServerStat::server_eof].add();
      return fail(error && error != asio::error::eof
                      ? error.message()
                      : std::string(resp::kErrReasonClosedByBackend));
    }
    in_.commit(n);
    if (!processReplies() || generation != generation_) return;
    if (n < space || reads + 1 >= kMaxReadsPerEvent) break;
    auto more = in_.prepare(kReadChunk);
    space = more.size();
    n = socket_.read_some(asio::buffer(more.data(), more.size()), error);
    if (error == asio::error::would_block || error == asio::error::try_again) break;
  }
  armRead();
}

// Pairs every complete reply in in_ with the oldest in-flight request. Returns false when
// the connection failed meanwhile (it has been reset: stop touching buffers).
bool BackendConnection::processReplies() {
  uint64_t generation = generation_;
  while (!in_.empty()) {
    size_t consumed = 0;
    auto status = framer_.frame(in_.view(), consumed);
    if (status == resp::ParseStatus::kNeedMore) {
      // An oversized reply will not be forwarded: hold none of it (in_ is all its bytes).
      if (framer_.oversized()) {
        size_t drop = framer_.droppable();
        in_.consume(drop);
        framer_.dropped(drop);
      }
      break;
    }
    if (status == resp::ParseStatus::kError) {
      (*counters_)[common::ServerStat::server_err].add();
      fail(fmt::format(resp::kErrReasonMalformedReply, framer_.error()));
      return false;
    }
    if (in_.view()[0] == '>' && subscriber_ == nullptr) {
      // Out of band in RESP3 (e.g. a tracking invalidation): never a request's reply.
      spdlog::debug("backend {} ({}): dropped a push message on a shared connection", options_.name,
                    options_.address_text);
      in_.consume(consumed);
      continue;
    }
    if (in_flight_.empty()) {
      if (subscriber_ == nullptr) {
        (*counters_)[common::ServerStat::server_err].add();
        fail(resp::kErrReasonUnpairedReply);
        return false;
      }
      (*counters_)[common::ServerStat::responses].add();
      (*counters_)[common::ServerStat::response_bytes].add(framer_.lastReplySize());
      if (framer_.lastReplyOversized()) {
        // A message past max_reply_bytes cannot be forwarded, and dropping it silently
        // would be a lie: the subscription is failed, and the subscriber told.
        (*counters_)[common::ServerStat::server_err].add();
        fail(fmt::format(resp::kErrReplyTooLarge, framer_.lastReplySize(),
                         options_.max_reply_bytes));
        return false;
      }
      subscriber_->onBackendReply(in_.view().substr(0, consumed));
      if (generation != generation_) return false;
      in_.consume(consumed);
      continue;
    }
    InFlight entry = in_flight_.pop();
    if (expired_prefix_ > 0) --expired_prefix_;
    in_flight_bytes_ -= entry.bytes;
    if (!entry.internal) {
      (*counters_)[common::ServerStat::responses].add();
      (*counters_)[common::ServerStat::response_bytes].add(framer_.lastReplySize());
    }
    if (entry.received != common::TimePoint{}) {
      counters_->latency.record(common::elapsedMicros(entry.received, common::eventTime()));
    }
    if (failure_reported_) {
      failure_reported_ = false;
      options_.health->onServerRecovered();
    }
    std::string_view reply = in_.view().substr(0, consumed);
    std::string refusal;
    if (framer_.lastReplyOversized()) {
      refusal = oversizedReplyError(framer_.lastReplySize());
      reply = refusal;
    }
    if (reply[0] == '-' && options_.on_readonly && reply.starts_with("-READONLY")) {
      options_.on_readonly();
    }
    if (entry.target != nullptr) entry.target->onBackendReply(reply);
    if (generation != generation_) return false;
    in_.consume(consumed);
  }
  updateQueueGauges();
  return true;
}

// The whole reply was read (so later replies stay paired) and dropped on the way.
std::string BackendConnection::oversizedReplyError(uint64_t size) const {
  std::string reply = "-";
  fmt::format_to(std::back_inserter(reply), resp::kErrReplyTooLarge, size,
                 options_.max_reply_bytes);
  reply += "\r\n";
  return reply;
}

void BackendConnection::expireRequests(common::TimePoint now) {
  if (options_.timeout_ms < 0) return;
  common::setEventTime(now);  // requests failed here complete at `now`
  // Requests that time out together count as one failure, as nutcracker closes the
  // connection once for all of them.
  bool timed_out = false;
  while (expired_prefix_ < in_flight_.size()) {
    InFlight& entry = in_flight_[expired_prefix_];
    if (entry.deadline != kNoDeadline && entry.deadline > now) break;
    if (entry.deadline != kNoDeadline && entry.target != nullptr) {
      ReplyTarget* target = entry.target;
      entry.target = nullptr;
      (*counters_)[common::ServerStat::server_timedout].add();
      timed_out = true;
      target->onBackendFailure(fmt::format(resp::kErrBackendTimedOut, options_.name,
                                           options_.address_text, options_.timeout_ms));
    }
    ++expired_prefix_;
  }
  if (timed_out) reportFailure();
  if (expired_prefix_ == 0 || in_flight_.empty()) return;
  // The oldest request has waited stall_limit past its deadline: the backend is stuck.
  int64_t stall_ms = std::max<int64_t>(options_.timeout_ms * 10, kMinStallLimitMs);
  const InFlight& oldest = in_flight_.front();
  if (oldest.deadline != kNoDeadline && now - oldest.deadline > common::Millis(stall_ms)) {
    (*counters_)[common::ServerStat::server_err].add();
    fail(fmt::format(resp::kErrReasonStalled, stall_ms));
  }
}

void BackendConnection::close(std::string_view reason) {
  closing_ = true;
  fail(reason);
  closing_ = false;
  state_ = State::kIdle;
}

void BackendConnection::fail(std::string_view reason) {
  common::stampEventTime();  // the requests failed here complete now (a rare path)
  bool was_up = state_ == State::kReady;
  if (!closing_) reportFailure();
  ++generation_;
  std::error_code ignored;
  socket_.close(ignored);
  connect_timer_.cancel();
  waiting_writable_ = false;
  flush_posted_ = false;
  state_ = State::kBackoff;
  backoff_ = std::clamp(backoff_ * 2, kFirstBackoff, kMaxBackoff);
  retry_at_ = common::now() + backoff_;
  setConnectedGauge(false);
  unavailable_message_ =
      fmt::format(resp::kErrBackendUnavailable, options_.name, options_.address_text, reason);
  if (was_up && closing_) {
    spdlog::log(options_.log_level, "backend {} ({}) connection closed: {}", options_.name,
                options_.address_text, reason);
  } else if (was_up) {
    spdlog::warn("backend {} ({}) connection lost: {}", options_.name, options_.address_text,
                 reason);
  } else {
    spdlog::debug("backend {} ({}) connect failed: {}", options_.name, options_.address_text,
                  reason);
  }
  out_.clear();
  in_.clear();
  framer_.reset();
  expired_prefix_ = 0;
  std::string lost =
      fmt::format(resp::kErrBackendFailed, options_.name, options_.address_text, reason);
  // Targets may send new requests from their callbacks; state_ is kBackoff, so those are
  // refused and nothing is pushed while this loop drains the FIFO.
  while (!in_flight_.empty()) {
    InFlight entry = in_flight_.pop();
    if (entry.target != nullptr) entry.target->onBackendFailure(lost);
  }
  unsent_requests_ = 0;
  in_flight_bytes_ = 0;
  updateQueueGauges();
  if (subscriber_ != nullptr) subscriber_->onBackendFailure(lost);
}

}  // namespace sy::backend
