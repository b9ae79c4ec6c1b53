#include "topology/control_connection.h"

#include <netinet/in.h>
#include <asio/connect.hpp>
#include <asio/write.hpp>

#include <string_view>
#include <utility>

#include "common/byte_buffer.h"
#include "resp/encoder.h"

namespace sy::topology {
namespace {

std::string encodeCommand(const std::vector<std::string>& args) {
  std::vector<std::string_view> views(args.begin(), args.end());
  common::ByteBuffer buffer;
  resp::appendCommand(buffer, views);
  return std::string(buffer.view());
}

}  // namespace

std::shared_ptr<ControlConnection> ControlConnection::create(asio::io_context& io,
                                                             NodeAddress address,
                                                             ControlConnectionOptions options) {
  return std::make_shared<ControlConnection>(io, std::move(address), std::move(options));
}

std::shared_ptr<ControlConnection> ControlConnection::create(asio::io_context& io,
                                                             Endpoint endpoint, std::string name,
                                                             ControlConnectionOptions options) {
  return std::make_shared<ControlConnection>(io, std::move(endpoint), std::move(name),
                                             std::move(options));
}

ControlConnection::ControlConnection(asio::io_context& io, NodeAddress address,
                                     ControlConnectionOptions options)
    : io_(io),
      address_(std::move(address)),
      name_(address_.toString()),
      options_(std::move(options)),
      resolver_(io),
      socket_(io),
      timer_(io) {}

ControlConnection::ControlConnection(asio::io_context& io, Endpoint endpoint, std::string name,
                                     ControlConnectionOptions options)
    : io_(io),
      endpoint_(std::move(endpoint)),
      name_(std::move(name)),
      options_(std::move(options)),
      resolver_(io),
      socket_(io),
      timer_(io) {}

ControlConnection::~ControlConnection() { reset(); }

void ControlConnection::request(std::vector<std::string> args, ReplyHandler handler) {
  enqueue(args, std::move(handler));
}

void ControlConnection::requestTimed(std::vector<std::string> args, TimedReplyHandler handler) {
  if (state_ == State::kReady) {
    sendTimed(std::move(args), std::move(handler));
    return;
  }
  // A handler runs only while the connection is alive and open (close() drops it), so `this`
  // is valid when the PING is answered.
  enqueue({"PING"}, [this, args = std::move(args),
                     handler = std::move(handler)](common::Result<std::string> pong) mutable {
    if (!pong.ok()) {
      handler(std::move(pong), -1);
      return;
    }
    sendTimed(std::move(args), std::move(handler));
  });
}

void ControlConnection::sendTimed(std::vector<std::string> args, TimedReplyHandler handler) {
  common::TimePoint sent = common::now();
  enqueue(args, [sent, handler = std::move(handler)](common::Result<std::string> reply) {
    int64_t rtt_usec = reply.ok() ? common::microsSince(sent) : -1;
    handler(std::move(reply), rtt_usec);
  });
}

void ControlConnection::subscribe(const std::vector<std::string>& channels, ReplyHandler confirmed,
                                  MessageHandler on_message, ClosedHandler on_closed) {
  std::vector<std::string> args{"SUBSCRIBE"};
  args.insert(args.end(), channels.begin(), channels.end());
  on_message_ = std::move(on_message);
  on_closed_ = std::move(on_closed);
  subscribed_ = true;
  enqueue(args, std::move(confirmed));
}

void ControlConnection::enqueue(const std::vector<std::string>& args, ReplyHandler handler) {
  if (state_ == State::kIdle) {
    startConnect();
  }
  out_ += encodeCommand(args);
  common::Millis allowed = options_.request_timeout;
  if (state_ != State::kReady) allowed += options_.connect_timeout;
  pending_.push_back({std::move(handler), common::now() + allowed});
  if (pending_.size() == 1) {
    armDeadline();
  }
  flush();
}

void ControlConnection::startConnect() {
  state_ = State::kConnecting;
  if (!options_.auth_password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!options_.auth_user.empty()) auth.push_back(options_.auth_user);
    auth.push_back(options_.auth_password);
    out_ += encodeCommand(auth);
    auto self = weak_from_this();
    pending_.push_back({[self](common::Result<std::string> reply) {
                          auto conn = self.lock();
                          if (!conn || !reply.ok() || !reply->starts_with("-")) return;
                          conn->fail("AUTH refused: " + reply->substr(1, reply->find('\r') - 1));
                        },
                        common::now() + options_.connect_timeout + options_.request_timeout});
  }
  // Connecting has no timer of its own: the deadline of the first pending request (which
  // includes connect_timeout) bounds it.
  if (endpoint_) {
    connectTo({*endpoint_});
    return;
  }
  auto self = shared_from_this();
  uint64_t generation = generation_;
  resolver_.async_resolve(address_.host, std::to_string(address_.port),
                          asio::ip::tcp::resolver::numeric_service,
                          [self, generation](const std::error_code& error,
                                             asio::ip::tcp::resolver::results_type results) {
                            if (generation != self->generation_) return;
                            self->onResolved(error, std::move(results));
                          });
}

void ControlConnection::onResolved(const std::error_code& error,
                                   asio::ip::tcp::resolver::results_type results) {
  if (error) {
    fail("cannot resolve " + address_.host + ": " + error.message());
    return;
  }
  std::vector<Endpoint> endpoints;
  for (const auto& entry : results) endpoints.emplace_back(entry.endpoint());
  connectTo(endpoints);
}

void ControlConnection::connectTo(const std::vector<Endpoint>& endpoints) {
  auto self = shared_from_this();
  uint64_t generation = generation_;
  asio::async_connect(socket_, endpoints,
                      [self, generation](const std::error_code& error, const Endpoint& endpoint) {
                        if (generation != self->generation_) return;
                        self->onConnected(error, endpoint);
                      });
}

void ControlConnection::onConnected(const std::error_code& error, const Endpoint& endpoint) {
  if (error) {
    fail("cannot connect to " + name_ + ": " + error.message());
    return;
  }
  std::error_code ignored;
  if (endpoint.protocol().protocol() == IPPROTO_TCP) {
    socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  }
  socket_.set_option(asio::socket_base::keep_alive(true), ignored);
  state_ = State::kReady;
  armRead();
  flush();
}

void ControlConnection::flush() {
  if (state_ != State::kReady || write_in_progress_ || out_.empty()) return;
  writing_.swap(out_);
  out_.clear();
  write_in_progress_ = true;
  auto self = shared_from_this();
  uint64_t generation = generation_;
  asio::async_write(socket_, asio::buffer(writing_),
                    [self, generation](const std::error_code& error, size_t) {
                      if (generation != self->generation_) return;
                      self->write_in_progress_ = false;
                      self->writing_.clear();
                      if (error) {
                        self->fail("write to " + self->name_ + " failed: " + error.message());
                        return;
                      }
                      self->flush();
                    });
}

void ControlConnection::armRead() {
  auto self = shared_from_this();
  uint64_t generation = generation_;
  socket_.async_read_some(asio::buffer(read_chunk_),
                          [self, generation](const std::error_code& error, size_t bytes) {
                            if (generation != self->generation_) return;
                            self->onRead(error, bytes);
                          });
}

void ControlConnection::onRead(const std::error_code& error, size_t bytes) {
  if (error) {
    fail(error == asio::error::eof ? name_ + " closed the connection"
                                   : "read from " + name_ + " failed: " + error.message());
    return;
  }
  in_.append(read_chunk_, bytes);
  uint64_t generation = generation_;
  size_t offset = 0;
  while (offset < in_.size()) {
    size_t consumed = 0;
    resp::ParseStatus status = framer_.frame(std::string_view(in_).substr(offset), consumed);
    if (status == resp::ParseStatus::kNeedMore && !framer_.oversized()) break;
    if (status == resp::ParseStatus::kError) {
      fail("malformed reply from " + name_ + ": " + std::string(framer_.error()));
      return;
    }
    // Control replies (ROLE, SENTINEL, INFO) are small: one past the framer's limit is not
    // held while it comes.
    if (framer_.oversized() || framer_.lastReplyOversized()) {
      fail("reply from " + name_ + " larger than the limit");
      return;
    }
    std::string reply = in_.substr(offset, consumed);
    offset += consumed;
    dispatch(std::move(reply));
    if (generation != generation_) return;  // a handler closed or failed the connection
  }
  in_.erase(0, offset);
  armRead();
}

void ControlConnection::dispatch(std::string reply) {
  if (pending_.empty()) {
    if (subscribed_ && on_message_) {
      on_message_(reply);
      return;
    }
    fail("unexpected reply from " + name_);
    return;
  }
  ReplyHandler handler = std::move(pending_.front().handler);
  pending_.pop_front();
  armDeadline();
  if (handler) handler(std::move(reply));
}

void ControlConnection::armDeadline() {
  if (pending_.empty()) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(pending_.front().deadline);
  auto self = shared_from_this();
  uint64_t generation = generation_;
  timer_.async_wait([self, generation](const std::error_code& error) {
    if (generation != self->generation_) return;
    self->onDeadline(error);
  });
}

void ControlConnection::onDeadline(const std::error_code& error) {
  if (error == asio::error::operation_aborted || pending_.empty()) return;
  if (pending_.front().deadline > common::now()) {
    armDeadline();
    return;
  }
  fail(name_ +
       (state_ == State::kReady ? " did not answer within " : " could not be reached within ") +
       std::to_string(options_.request_timeout.count()) + " ms");
}

void ControlConnection::fail(const std::string& reason) {
  std::deque<Pending> failed;
  failed.swap(pending_);
  ClosedHandler on_closed = subscribed_ ? std::move(on_closed_) : nullptr;
  reset();
  auto keep_alive = shared_from_this();  // a handler may drop the owner's reference
  for (Pending& pending : failed) {
    if (pending.handler) pending.handler(common::makeError(reason));
  }
  if (on_closed) on_closed(reason);
}

void ControlConnection::close() { reset(); }

void ControlConnection::reset() {
  ++generation_;
  std::error_code ignored;
  resolver_.cancel();
  socket_.close(ignored);
  timer_.cancel();
  state_ = State::kIdle;
  out_.clear();
  writing_.clear();
  write_in_progress_ = false;
  in_.clear();
  framer_.reset();
  pending_.clear();
  subscribed_ = false;
  on_message_ = nullptr;
  on_closed_ = nullptr;
}

ControlConnection& NodeConnections::to(const NodeAddress& address) {
  auto [it, inserted] = connections_.try_emplace(address);
  if (inserted) it->second = ControlConnection::create(io_, address, options_);
  return *it->second;
}

void NodeConnections::closeAllBut(const std::set<NodeAddress>& kept) {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (kept.contains(it->first)) {
      ++it;
    } else {
      it->second->close();
      it = connections_.erase(it);
    }
  }
}

}  // namespace sy::topology
