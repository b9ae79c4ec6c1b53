// ControlConnection: the control plane's one small asynchronous Redis client (Sentinel
// queries, ROLE / INFO probes, Sentinel event subscriptions, the auto_eject_hosts probes of
// server::Ejector). Not for the data path.
//
//   request(args, handler) --> [connect + AUTH on first use] --> pipelined on one socket
//   socket --ReplyFramer--> one framed reply --> the oldest pending handler (FIFO)
//   after subscribe(): replies with no pending request go to the message handler
//
// The peer is a NodeAddress (its host resolved on every connect) or an endpoint resolved
// beforehand: TCP or a unix socket, as a configured server's ServerInfo::endpoint.
//
// Every request has a deadline: request_timeout from when it is issued, plus connect_timeout
// when the connection must be (re)established first. An error, a closed
// socket or a missed deadline closes the connection and fails every pending request with
// the reason (an error value, never an exception); the next request reconnects. An error
// *reply* from Redis is not a failure: the handler gets it as a framed reply.
//
// Thread: the control thread that runs `io`. Owned through shared_ptr because asio handlers
// keep it alive until they have run; close() drops every handler without calling it, so a
// closed connection never calls back into its owner: an owner closes its connections before
// it goes away (NodeConnections does so for the connections it holds).
#pragma once

#include <asio/generic/stream_protocol.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "resp/reply_framer.h"
#include "topology/sentinel_replies.h"

namespace sy::topology {

struct ControlConnectionOptions {
  std::string auth_user;      // AUTH user password when both are set
  std::string auth_password;  // AUTH password when only it is set; nothing when empty
  // Added to a request's deadline when the connection must be opened first; with 0 the
  // request_timeout bounds connecting, AUTH and the request together.
  common::Millis connect_timeout{1000};
  common::Millis request_timeout{1000};
};

class ControlConnection : public std::enable_shared_from_this<ControlConnection> {
 public:
  // The framed reply (an error reply included), or why the request failed.
  using ReplyHandler = std::function<void(common::Result<std::string>)>;
  using MessageHandler = std::function<void(std::string_view framed)>;
  using ClosedHandler = std::function<void(std::string_view reason)>;
  // The reply or failure, and the request's round trip in microseconds (-1 on failure).
  using TimedReplyHandler = std::function<void(common::Result<std::string>, int64_t rtt_usec)>;

  using Endpoint = asio::generic::stream_protocol::endpoint;

  static std::shared_ptr<ControlConnection> create(asio::io_context& io, NodeAddress address,
                                                   ControlConnectionOptions options);
  // To an endpoint resolved beforehand (TCP or unix socket); `name` names it in errors.
  static std::shared_ptr<ControlConnection> create(asio::io_context& io, Endpoint endpoint,
                                                   std::string name,
                                                   ControlConnectionOptions options);
  ControlConnection(asio::io_context& io, NodeAddress address, ControlConnectionOptions options);
  ControlConnection(asio::io_context& io, Endpoint endpoint, std::string name,
                    ControlConnectionOptions options);
  ~ControlConnection();
  ControlConnection(const ControlConnection&) = delete;
  ControlConnection& operator=(const ControlConnection&) = delete;

  // Sends `args` as one command; `handler` gets its reply or failure exactly once (unless
  // close() drops it).
  void request(std::vector<std::string> args, ReplyHandler handler);

  // request() that also measures the round trip on the steady clock, on an established
  // connection only: when the connection must be (re)opened first, a PING opens it (connect
  // and AUTH are not counted) and `args` are sent once it is answered. If the PING fails,
  // `handler` gets that failure.
  void requestTimed(std::vector<std::string> args, TimedReplyHandler handler);

  // SUBSCRIBE to `channels`. `confirmed` gets the first subscribe confirmation (or the
  // failure); afterwards every reply that answers no request goes to `on_message`, and
  // `on_closed` is called once when the connection is lost.
  void subscribe(const std::vector<std::string>& channels, ReplyHandler confirmed,
                 MessageHandler on_message, ClosedHandler on_closed);

  // Closes the socket and forgets every handler without calling it.
  void close();

  // The node's address; empty (port 0) for a connection made from an endpoint.
  const NodeAddress& address() const { return address_; }
  bool isConnected() const { return state_ == State::kReady; }

 private:
  enum class State { kIdle, kConnecting, kReady };
  struct Pending {
    ReplyHandler handler;
    common::TimePoint deadline;
  };

  void enqueue(const std::vector<std::string>& args, ReplyHandler handler);
  void sendTimed(std::vector<std::string> args, TimedReplyHandler handler);
  void startConnect();
  void onResolved(const std::error_code& error, asio::ip::tcp::resolver::results_type results);
  void connectTo(const std::vector<Endpoint>& endpoints);
  void onConnected(const std::error_code& error, const Endpoint& endpoint);
  void flush();
  void armRead();
  void onRead(const std::error_code& error, size_t bytes);
  void dispatch(std::string reply);
  void armDeadline();
  void onDeadline(const std::error_code& error);
  void fail(const std::string& reason);
  void reset();

  asio::io_context& io_;
  NodeAddress address_;
  std::optional<Endpoint> endpoint_;  // when set, connects there without resolving address_
  std::string name_;                  // the peer in error messages: host:port or socket path
  ControlConnectionOptions options_;
  asio::ip::tcp::resolver resolver_;
  asio::generic::stream_protocol::socket socket_;
  asio::steady_timer timer_;
  State state_ = State::kIdle;
  uint64_t generation_ = 0;  // bumped by every close; handlers of an older one do nothing
  std::string out_;          // encoded requests not yet handed to the socket
  std::string writing_;      // bytes of the write in progress
  bool write_in_progress_ = false;
  std::string in_;
  char read_chunk_[16384];
  resp::ReplyFramer framer_;
  std::deque<Pending> pending_;
  bool subscribed_ = false;
  MessageHandler on_message_;
  ClosedHandler on_closed_;
};

// One ControlConnection per data node, created on first use and kept open between requests
// (each reconnects by itself on the next request after a failure). Owns its connections and
// closes them when destroyed. Thread: the control thread that runs `io`.
class NodeConnections {
 public:
  NodeConnections(asio::io_context& io, ControlConnectionOptions options)
      : io_(io), options_(std::move(options)) {}
  ~NodeConnections() { closeAllBut({}); }
  NodeConnections(const NodeConnections&) = delete;
  NodeConnections& operator=(const NodeConnections&) = delete;

  ControlConnection& to(const NodeAddress& address);
  // Closes (dropping their handlers) and forgets every connection to a node not in `kept`.
  void closeAllBut(const std::set<NodeAddress>& kept);

 private:
  asio::io_context& io_;
  ControlConnectionOptions options_;
  std::map<NodeAddress, std::shared_ptr<ControlConnection>> connections_;
};

}  // namespace sy::topology
