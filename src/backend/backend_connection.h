// BackendConnection: one pipelined connection from a worker to a backend Redis.
//
//   send(bytes, target) --> out_ ==flush once per loop turn==> socket ==> Redis
//                           in_flight_ FIFO: [target, deadline] [..] [..]
//   Redis ==> socket ==> in_ --ReplyFramer--> one reply --> pop FIFO --> target->onBackendReply
//
// Whatever a client's request makes the backend answer affects that client only: a reply of
// any depth is framed, and one past max_reply_bytes is read to its end without being kept and
// answered to its target as an error. Only bytes that are not RESP close the connection.
//
// Replies come back in the order requests were written, so the FIFO pairs them without ids.
// A request whose deadline passes gets an error at once; its entry stays in the FIFO (its
// target cleared) so the late reply is read and dropped and the pairing stays aligned. The
// connection itself is kept: one slow request is no reason to fail the others. Only a
// connection with no reply for `stall limit` is reset.
//
// States: idle --send--> connecting --connected+handshake--> ready --error--> backoff
//         backoff --send after retry time--> connecting. While backing off, send() refuses at
// once so clients get a prompt error instead of a hang.
//
// Scripts (BackendOptions::scripts, script_registry.h). Contract: a request handed this
// connection reaches a node that has every script registered before the hand-out, unless the
// backend refused one. On every (re)connect, SCRIPT LOAD of every registered script is
// queued right after AUTH/SELECT, ahead of any request, so whatever is sent afterwards runs
// after the scripts are in the node's cache (one connection is FIFO). The connection
// remembers the registry version it loaded; loadNewScripts() queues the scripts registered
// since, and the pool calls it whenever it hands the connection out: a shared connection on
// every request, a private one when leased (idle or new). It is not called while a lease
// runs: a SCRIPT LOAD inside the lease's MULTI would be queued into its transaction, and a
// subscribed connection accepts no SCRIPT LOAD. A lease that began before a script was
// registered does not get it: its client sent that script through another connection, and a
// node that lost its cache since (restart, failover) broke this connection too. The replies
// are checked (an error is counted and logged once) and never forwarded; they never fail
// the connection, and their requests are not counted as client requests.
//
// Flushing: by default a connection posts its own flush once per loop turn and writes with
// send(2). Given a FlushGatherer, it hands the flush to the gatherer instead, which writes
// the output of many connections (and client sessions) with one kernel entry and reports
// each outcome back (takeGatheredFlush / finishGatheredFlush).
//
// Counters: the connection adds into a BackendCounters block it borrows (one block per server
// per worker, shared by that server's connections and outliving them); its share of the
// gauges is withdrawn when it closes or is destroyed.
//
// Thread: the owning worker's thread only. Lifetime: owned by its worker's backend table;
// after a topology swap retires it, it lives on until its requests in flight are answered
// (or time out), is then closed, and is destroyed only once its cancelled handlers have run.
#pragma once

#include <sys/types.h>

#include <asio/generic/stream_protocol.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include <spdlog/common.h>

#include "backend/reply_target.h"
#include "backend/script_registry.h"
#include "common/byte_buffer.h"
#include "common/clock.h"
#include "common/counter.h"
#include "common/handler_memory.h"
#include "common/ring_queue.h"
#include "common/stats_registry.h"
#include "resp/reply_framer.h"

namespace sy::backend {

using Endpoint = asio::generic::stream_protocol::endpoint;

// Told by a server's connections how the server is doing, for auto_eject_hosts. Calls come
// from the connection's worker thread; onServerRecovered() follows only a reported failure,
// so a healthy connection costs one branch per reply.
class HealthObserver {
 public:
  // A connect failed, the connection was lost, or a request timed out.
  virtual void onServerFailure() = 0;
  // A reply arrived after this connection reported a failure.
  virtual void onServerRecovered() = 0;

 protected:
  ~HealthObserver() = default;
};

class BackendConnection;

// Writes the end-of-turn output of many connections together. Calls come from the
// connections' worker thread.
class FlushGatherer {
 public:
  // `connection` has output: before this loop turn ends, call its takeGatheredFlush() and,
  // when that is not empty, write it and pass the outcome to finishGatheredFlush(). Asked
  // at most once per connection until takeGatheredFlush() is called.
  virtual void gatherFlush(BackendConnection& connection) = 0;
  // `connection` is being destroyed while gathered: drop it.
  virtual void forgetFlush(BackendConnection& connection) = 0;

 protected:
  ~FlushGatherer() = default;
};

// What a connection's handshake sets up for the sessions it serves: the database it SELECTs
// and the protocol HELLO asks for (2: RESP2, sent no HELLO; 3: RESP3). Sessions that differ
// in either never share a connection.
struct Setup {
  int db = 0;
  int protocol = 2;
  friend bool operator==(const Setup&, const Setup&) = default;
};

struct BackendOptions {
  std::string name;          // the server's stats name, for errors and logs
  std::string address_text;  // host:port or socket path
  Endpoint endpoint;
  int64_t timeout_ms = -1;  // per request; -1 waits forever (twemproxy's default)
  int64_t connect_timeout_ms = 5000;
  std::string auth;  // sent as AUTH on connect when not empty
  int db = 0;        // sent as SELECT on connect when not 0
  int protocol = 2;  // 3: HELLO 3 is sent on connect, and replies come in RESP3
  // A Redis Cluster replica: READONLY is sent on connect, so that it serves reads of its
  // master's slots instead of redirecting them.
  bool cluster_readonly = false;
  bool keepalive = false;
  HealthObserver* health = nullptr;  // borrowed; must outlive the connection
  // Called (on the worker thread) when the backend answers READONLY: it is no longer the
  // master it was taken for. Empty: nobody asks.
  std::function<void()> on_readonly;
  // Called (on the worker thread) when a connect fails, the connection is lost or a request
  // times out, as HealthObserver::onServerFailure is. Empty: nobody asks.
  std::function<void()> on_failure;
  // Borrowed; must outlive the connection. Null: the connection flushes by itself.
  FlushGatherer* flush_gatherer = nullptr;
  // A longer reply is read to its end and dropped as it comes; its request gets an error.
  size_t max_reply_bytes = resp::FramerLimits{}.max_reply_bytes;
  // The scripts to load on connect and on hand-out (see above). Borrowed; must outlive the
  // connection. Null: none.
  ScriptRegistry* scripts = nullptr;
  // Where connects and deliberate closes are logged (a lost connection is always a warning):
  // private connections come and go with clients, so they log at debug.
  spdlog::level::level_enum log_level = spdlog::level::info;
};

// twemproxy's per-server statistics (common::ServerStat) and the latency of the requests
// answered (receipt by the proxy to reply), written by the owning worker only. Every
// connection of one server in one worker adds into the same BackendCounters, and the block
// outlives the connections (a replaced connection's counts stay): gauges are therefore kept
// as sums, each connection adding the change of its own share.
struct BackendCounters : common::StatArray<common::ServerStat> {
  common::LatencyHistogram latency;
  // Connections established, ever: not a twemproxy field, but nutcracker counts server
  // connections in its total_connections, and so does the stats JSON.
  common::Counter connects;
};

class BackendConnection {
 public:
  // Counts into a block of its own.
  BackendConnection(asio::io_context& io, BackendOptions options);
  // Counts into `counters`, which must outlive the connection.
  BackendConnection(asio::io_context& io, BackendOptions options, BackendCounters& counters);
  ~BackendConnection();
  BackendConnection(const BackendConnection&) = delete;
  BackendConnection& operator=(const BackendConnection&) = delete;

  // Queues `request` (complete RESP bytes) for the backend; `target` gets its reply.
  // Returns false, queuing nothing, when the backend cannot take requests now (it is
  // backing off after a failure); unavailableMessage() then says why. `received` is when
  // the proxy received the request: the reply's arrival minus it goes into
  // counters().latency (a default TimePoint records nothing).
  bool send(std::string_view request, ReplyTarget& target, common::TimePoint received = {});
  // Same, encoding `args` as a RESP multibulk request.
  bool sendCommand(std::span<const std::string_view> args, ReplyTarget& target,
                   common::TimePoint received = {});
  // Subscriber mode (Pub/Sub on a private connection). A connection given a `subscriber`
  // hands it every reply that no request waits for: the messages Redis pushes, and the
  // replies of requests sent with sendUnpaired(). When the connection is lost (or closed), the
  // subscriber gets onBackendFailure, once per loss. Null ends the mode. Requests sent with
  // send() keep their pairing, but only while no unpaired request is in flight before them.
  void setSubscriber(ReplyTarget* subscriber) { subscriber_ = subscriber; }
  // Queues `args` encoded as a request whose replies go to the subscriber. False, queuing
  // nothing, as send().
  bool sendUnpaired(std::span<const std::string_view> args);
  // Queues SCRIPT LOAD of the scripts registered since this connection last loaded them
  // (see Scripts above). Call only while the connection holds no MULTI or subscription: when
  // it is handed out. A connection not connected yet loads them all when it connects.
  void loadNewScripts() {
    if (options_.scripts != nullptr && options_.scripts->version() != scripts_version_) {
      queueScriptLoads();
    }
  }
  // Why the last send() was refused, as an error reply text ("ERR ...").
  const std::string& unavailableMessage() const { return unavailable_message_; }

  // Fails requests whose deadline has passed and resets a connection that has not
  // answered for its stall limit. Called by the worker's ticker.
  void expireRequests(common::TimePoint now);

  // Connects now unless connected, connecting or backing off (for `preconnect`).
  void connectIfIdle();
  // Closes the connection and fails every request in flight with `reason`.
  void close(std::string_view reason);
  // Applies `timeout_ms` (per request and for connecting; -1 waits forever) and TCP
  // keepalive to this connection as it stands. Requests already in flight keep the deadline
  // they were given.
  void updateKnobs(int64_t timeout_ms, bool keepalive);

  // The gathered flush (see FlushGatherer), in two steps around the gatherer's write:
  //   takeGatheredFlush()       the bytes to write now (empty: nothing to write)
  //   finishGatheredFlush(n)    only after a non-empty take, before any other call on the
  //                             connection: what send(2) gave (bytes, or -errno)
  std::span<const char> takeGatheredFlush();
  void finishGatheredFlush(ssize_t result);
  // The socket's descriptor while connected (for the gatherer's write).
  int fd() { return socket_.native_handle(); }

  bool isReady() const { return state_ == State::kReady; }
  // Lost (or refused, or timed out connecting) and not reconnected since. A private
  // connection in this state has lost its backend state (MULTI, WATCH, a block).
  bool hasFailed() const { return state_ == State::kBackoff; }
  // Backing off after a failure: send() would refuse at once.
  bool isBackingOff() const { return state_ == State::kBackoff && common::now() < retry_at_; }
  size_t inFlight() const { return in_flight_.size(); }
  const BackendCounters& counters() const { return *counters_; }
  const BackendOptions& options() const { return options_; }

 private:
  enum class State { kIdle, kConnecting, kReady, kBackoff };
  struct InFlight {
    ReplyTarget* target;  // null once the request has timed out: its reply is dropped
    common::TimePoint deadline;
    uint64_t bytes;              // request size, for the queue gauges
    bool internal;               // AUTH/SELECT sent on connect: not a client request in the stats
    common::TimePoint received;  // when the proxy received it; default: not timed
  };
  // Checks the reply to AUTH or SELECT sent on connect.
  class HandshakeStep final : public ReplyTarget {
   public:
    HandshakeStep(BackendConnection& owner, const char* command)
        : owner_(owner), command_(command) {}
    void onBackendReply(std::string_view framed_reply) override;
    void onBackendFailure(std::string_view message) override;

   private:
    BackendConnection& owner_;
    const char* command_;
  };

  // Checks the reply to a SCRIPT LOAD the connection sent on its own: never fails it.
  class ScriptStep final : public ReplyTarget {
   public:
    explicit ScriptStep(BackendConnection& owner) : owner_(owner) {}
    void onBackendReply(std::string_view framed_reply) override;
    void onBackendFailure(std::string_view /*message*/) override {}

   private:
    BackendConnection& owner_;
  };

  bool admit();
  // Appends SCRIPT LOAD of every script registered after scripts_version_ to out_.
  void appendScriptLoads();
  void queueScriptLoads();
  void enqueue(ReplyTarget& target, size_t bytes, common::TimePoint received);
  void startConnect();
  void onConnected(const std::error_code& error);
  void queueHandshake();
  void scheduleFlush();
  void flush();
  void waitWritable();
  void armRead();
  void onReadable(const std::error_code& first_error, size_t first_bytes);
  bool processReplies();
  void fail(std::string_view reason);
  std::string oversizedReplyError(uint64_t size) const;
  void updateQueueGauges();
  void setConnectedGauge(bool connected);
  void reportFailure();
  common::TimePoint deadlineFromNow() const;

  asio::io_context& io_;
  BackendOptions options_;
  asio::generic::stream_protocol::socket socket_;
  asio::steady_timer connect_timer_;
  State state_ = State::kIdle;
  uint64_t generation_ = 0;  // bumped on every (re)connect and close; stale handlers compare it
  bool flush_posted_ = false;
  bool flush_gathered_ = false;  // in the gatherer's list until takeGatheredFlush()
  bool waiting_writable_ = false;
  common::ByteBuffer out_;
  common::ByteBuffer in_;
  resp::ReplyFramer framer_;
  common::RingQueue<InFlight> in_flight_;
  size_t expired_prefix_ = 0;     // leading in_flight_ entries already timed out or internal
  uint64_t unsent_requests_ = 0;  // requests with bytes still in out_
  uint64_t in_flight_bytes_ = 0;  // bytes of every request in in_flight_
  common::TimePoint retry_at_{};
  common::Millis backoff_{0};
  std::string unavailable_message_;
  HandshakeStep auth_step_{*this, "AUTH"};
  HandshakeStep select_step_{*this, "SELECT"};
  HandshakeStep hello_step_{*this, "HELLO 3"};
  HandshakeStep readonly_step_{*this, "READONLY"};
  ScriptStep script_step_{*this};
  uint64_t scripts_version_ = 0;  // options_.scripts->version() when the last loads were queued
  BackendCounters own_counters_;
  BackendCounters* counters_;  // own_counters_ or the borrowed block
  // This connection's share of the gauges, as last added into *counters_.
  bool counted_connected_ = false;
  uint64_t shown_in_queue_ = 0, shown_in_queue_bytes_ = 0;
  uint64_t shown_out_queue_ = 0, shown_out_queue_bytes_ = 0;
  ReplyTarget* subscriber_ = nullptr;  // subscriber mode: gets the unpaired replies
  bool closing_ = false;               // close() is running: fail() logs it as a close, not a loss
  bool failure_reported_ = false;      // told options_.health of a failure; a reply clears it
  // One outstanding operation of each kind: re-arming costs no allocation.
  common::HandlerMemory read_memory_;
  common::HandlerMemory write_memory_;
  common::HandlerMemory flush_memory_;
};

}  // namespace sy::backend
