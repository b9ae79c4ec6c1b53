// ClientSession: one client connection on one worker.
//
//   fd (level-triggered in the worker's client epoll set) --read--> worker scratch
//                                                     (or stash_ when a request spans reads)
//          --RequestParser--> request --Router--> backend / split / local answer
//   each request takes a slot in pending_ at once, so replies leave in request order:
//   pending_: [A done] [B waiting] [C done]  -> A is written; C waits for B.
//   out_ --flush once per loop turn, with the other sessions' flushes--> socket
//
// Backpressure: past kMaxPending requests in flight or kMaxOutputBytes of unsent replies the
// session stops reading (bytes already read wait in stash_) and resumes once both drain to
// half. A slow client therefore costs bounded memory, and so does a slow backend.
//
// Memory: an idle session holds no buffer; it borrows the input stash and the output buffer
// from the worker's BufferPool only while it has bytes in them. Reads are synchronous, from
// the worker's event dispatch, straight into a slice of the worker's scratch buffer; the
// worker issues the reads (and the end-of-turn writes) of many sessions as one SocketBatch.
//
// Pool: a session belongs to its pool by name. A topology swap that moves the pool to
// another index calls followPool(); one that removes the pool calls leavePool(): the session
// reads nothing more, writes the replies still pending, then closes.
//
// Private connections (session_private.cpp): MULTI or WATCH pin the session to a connection
// it leases to the master of one backend until the transaction and its WATCH end; a blocking
// command goes alone on a leased connection, and the session reads nothing more until it is
// answered (as Redis makes a blocked client wait).
//
// Fan-out (session_fanout.cpp): DBSIZE, KEYS, SCAN, SCRIPT LOAD ... go to every shard as
// fragments of one parent (as a split MGET does), merged by server/merge.h; SCRIPT KILL goes
// on private connections leased for it alone and given back with the reply.
//
// Host: the Worker in the proxy; anything implementing SessionHost in a unit test.
//
// Lifetime: owned by its host (the Worker). close() stops everything; the object is destroyed from
// a fresh handler once no asynchronous operation refers to it any more (ops_ == 0). Thread: the
// owning worker's only.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backend/backend_connection.h"
#include "command/command.h"
#include "common/byte_buffer.h"
#include "common/clock.h"
#include "common/ring_queue.h"
#include "resp/request_parser.h"
#include "route/router.h"

namespace sy::server {

class SessionHost;
class PendingRequest;
class Subscriptions;
struct PoolCounters;

class ClientSession {
 public:
  static constexpr size_t kMaxPending = 1024;
  static constexpr size_t kMaxOutputBytes = 16 * 1024 * 1024;

  // poolIndex() of a session whose pool was removed by a topology swap.
  static constexpr uint32_t kNoPool = std::numeric_limits<uint32_t>::max();

  // Takes ownership of `fd`, a connected stream socket. `counters` and `open_clients` are the
  // pool's (by name); they outlive the session.
  ClientSession(SessionHost& host, int fd, bool is_tcp, uint32_t pool_index, PoolCounters& counters,
                std::atomic<int64_t>& open_clients, uint64_t id);
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  void start();
  // Closes the connection at once, dropping unsent replies (shutdown, fatal errors).
  void close(std::string_view reason);

  // `request`, queued in this session, is complete with `reply` (valid during the call).
  void onRequestDone(PendingRequest& request, std::string_view reply);

  // The host's end-of-turn flush (see SessionHost::deferFlush), in three steps so that the
  // writes of many sessions go to the kernel together:
  //   takeDeferredFlush()      the replies to write now (empty: nothing to write)
  //   finishDeferredFlush(n)   only after a non-empty take: what send(2) gave (bytes, -errno)
  //   endDeferredFlush()       always last; may destroy the session
  std::span<const char> takeDeferredFlush();
  void finishDeferredFlush(ssize_t result);
  void endDeferredFlush();

  // Readiness reported by the worker's client epoll set (EPOLLIN, EPOLLOUT, EPOLLERR ...).
  // Returns the buffer the worker should read the socket into (the stash, or `scratch`),
  // empty when no read is wanted. After a non-empty return the worker calls onRead() with
  // that buffer and what recv(2) gave (bytes, or -errno).
  std::span<char> onEvents(uint32_t events, std::span<char> scratch);
  void onRead(std::span<char> space, ssize_t result);
  int fd() const { return fd_; }

  // The process stops (Worker::drain): the session is closed at its first moment between
  // requests: every request it read answered and written, no byte of a next one read or
  // waiting in the socket, no transaction, WATCH or blocking command under way. A session
  // with requests is closed as its last replies leave (decided before they are written: a
  // client that waits for its replies before sending more has nothing in flight then); an
  // idle one (nothing read for kDrainIdleClose, counted from the drain's start) at the
  // host's next tick. Called on drain and on each of the host's ticks until closed.
  static constexpr common::Millis kDrainIdleClose{300};
  void drain(common::TimePoint now);

  // client_idle_timeout: closed when nothing was read for `timeout` and no request is
  // pending, blocked or waiting for a master, and the client is not subscribed (as Redis's
  // `timeout`). Called by the host every second or so; true when it closed the session.
  bool closeIfIdle(common::TimePoint now, common::Millis timeout);

  // Topology swaps (worker thread, between events). The pool's limits apply from the next
  // byte read.
  void followPool(uint32_t pool_index, const config::PoolConfig& pool);
  void leavePool();
  // After a swap: a leased connection whose node no longer takes its server's writes is
  // closed, and the transaction it carried fails; subscriptions move to the new node.
  void checkLease();

  // Failovers (session_private.cpp). A request that needs a private connection to a group
  // whose master is being switched waits, reading nothing more, until the new master is
  // known (at most the pool's failover_wait), as a write is parked. A blocking command whose
  // block ends on the old master before any reply (its connection closed, or the node
  // answered UNBLOCKED when it became a replica: nothing was popped) is sent again to the
  // new master with the time that is left; the client stays blocked.
  //
  // The host's call after waitForMaster(): a topology swap or a tick.
  void onMasterWait();
  // `request`, this session's blocking command, ended before any reply. True when the session
  // will send it again (it keeps the backend's hold); false: the caller answers it.
  bool resendBlocked(PendingRequest& request);
  // `request`, this session's blocking command in a cluster pool, was answered `framed_reply`,
  // an error. When that is a MOVED or an ASK it may follow (at most route::kMaxClusterHops),
  // the session sends it again, with the time that is left, on a lease to the node the
  // slot table names for its slot once it names another than the lease's (MOVED), or to the
  // node named, after ASKING (ASK), and returns true (it keeps the backend's hold); else
  // false, and the caller answers it.
  bool redirectBlocked(PendingRequest& request, std::string_view framed_reply);
  // A cluster pool's transaction whose slot moved (session_cluster.cpp). `request`, queued in
  // it, was answered `framed_reply`, an error: true when that is a MOVED or an ASK (to the
  // same node as any other of the transaction's), and the caller answers +QUEUED instead.
  bool redirectQueued(PendingRequest& request, std::string_view framed_reply);
  // `exec`, the EXEC of such a transaction, was answered `framed_reply`, an error. When that is
  // its EXECABORT, the transaction runs again, whole, on a connection of its own to the node
  // named (after ASKING for an ASK), and that EXEC's reply answers `exec`; under WATCH (the
  // watched keys moved) `exec` is answered nil, as a WATCH that failed. True when the session
  // answers `exec` (and has released its backend's hold, or will); false: the caller does.
  bool replayTransaction(PendingRequest& exec, std::string_view framed_reply);

  // Pub/Sub (server/subscriptions.h). A message (or any reply nobody asked for) to write to
  // the client in turn: after the replies still pending. A client that lets more than
  // kMaxSubscriberOutputBytes of them wait unsent is closed.
  static constexpr size_t kMaxSubscriberOutputBytes = 32 * 1024 * 1024;
  void pushMessage(std::string_view message);
  // The client has subscriptions: Redis's subscribed context.
  bool subscribed() const;
  // RESET: ends the transaction, the subscriptions and the SELECT, and forgets the name and
  // the authentication, as a new connection starts. Runs once every earlier reply is out.
  void resetConnection(PendingRequest& request);

  uint64_t id() const { return id_; }
  // The pool's index in the worker's current topology, or kNoPool.
  uint32_t poolIndex() const { return pool_index_; }
  PoolCounters& poolCounters() { return counters_; }
  std::atomic<int64_t>& openClients() { return open_clients_; }
  SessionHost& host() { return host_; }
  // How long the request about to lease waited for a new master in vain (0: it did not),
  // for the refusal's text; read once.
  int64_t takeMasterWaited() { return std::exchange(master_waited_ms_, 0); }

  // Connection state that local commands read and change.
  bool authenticated = false;
  int db = 0;        // SELECTed; starts as the pool's redis_db
  int protocol = 2;  // HELLO's: 2 (RESP2) or 3 (RESP3)
  backend::Setup setup() const { return {db, protocol}; }
  std::string client_name;

 private:
  void updateInterest();
  std::span<char> readSpace(std::span<char> scratch);
  void takeInput(std::string_view chunk);
  void processStash();
  size_t processInput(std::string_view data);
  // False when the request must wait (barrier_): it was not taken, and is parsed again later.
  bool dispatch(const resp::Request& request);
  static constexpr int kNoLane = -1;
  static constexpr int kPrivateLane = -2;
  static constexpr int kSubscriberLane = -3;
  static constexpr int kResetLane = -4;
  int laneOf(const route::Plan& plan, bool on_lease) const;
  int sharedLane() const { return db * 2 + (protocol == 3 ? 1 : 0); }
  // The private connection still held (its last replies to come) serves `plan` too.
  bool leaseFits(const route::Plan& plan) const;
  void dispatchShared(PendingRequest& request, const route::Plan& plan,
                      const resp::Request& parsed);
  void forward(PendingRequest& request, const route::Plan& plan, const resp::Request& parsed);
  void split(PendingRequest& parent, const route::Plan& plan,
             std::span<const std::string_view> args);
  // A request to a cluster pool keeps its bytes (`raw`, or `args` encoded) and its slot, to
  // follow the cluster's redirections (SessionHost::redirect).
  static void keepForRedirection(PendingRequest& request, std::string_view raw,
                                 std::span<const std::string_view> args, int32_t slot);
  // Commands sent to every shard (session_fanout.cpp).
  void fanout(PendingRequest& parent, const route::Plan& plan,
              std::span<const std::string_view> args);
  void sendFanoutPrivate(PendingRequest& fragment, std::span<const std::string_view> args,
                         common::TimePoint received);
  void protocolError(std::string_view message);
  void subscribe(PendingRequest& request, const route::Plan& plan,
                 std::span<const std::string_view> args);
  // Private connections (session_private.cpp).
  bool pinned() const { return in_multi_ || watching_; }

 public:
  // A transaction or WATCH holds a private connection (whose database is fixed).
  bool inTransaction() const { return pinned(); }

 private:
  // While pinned, whether `plan`'s request goes on the lease: everything inside MULTI; with
  // only WATCH, transaction commands and requests for the lease's backend.
  bool onLease(const route::Plan& plan) const;
  void dispatchPinned(PendingRequest& request, const route::Plan& plan,
                      const resp::Request& parsed);
  void startTransaction(PendingRequest& request, const route::Plan& plan,
                        const resp::Request& parsed);
  void pinnedTransactionCommand(PendingRequest& request, const route::Plan& plan,
                                const resp::Request& parsed);
  void execPinned(PendingRequest& request, const resp::Request& parsed);
  void sendBlocking(PendingRequest& request, const route::Plan& plan, const resp::Request& parsed);
  bool pinTo(uint32_t server, PendingRequest& request);
  // The server whose master `plan`'s request would lease a new connection to, or kAnyServer.
  // For a subscription: the first of the servers it needs a new connection to whose master
  // is pending (the others need no wait).
  uint32_t leaseWanted(const route::Plan& plan, std::span<const std::string_view> args,
                       bool on_lease);
  uint32_t subscriptionWaits(const command::CommandInfo& command,
                             std::span<const std::string_view> args);
  // True when a request needing a lease to `server` must wait for its group's new master
  // (the session is then registered with the host and reads nothing more).
  bool waitForMaster(uint32_t server);
  bool masterWaitOver();
  void keepWatchForRedirection(PendingRequest& request, const route::Plan& plan,
                               std::span<const std::string_view> args);
  void keepForResend(PendingRequest& request, uint32_t server, int32_t slot,
                     std::span<const std::string_view> args, const command::CommandInfo& command);
  void resendNow();
  void sendHeld();
  void sendOnLease(PendingRequest& request, const resp::Request& parsed);
  void sendOnLease(PendingRequest& request, std::string_view raw,
                   std::span<const std::string_view> args);
  void refuseQueued(PendingRequest& request, std::string_view error);
  void resetTransaction();
  // Cluster pools: a new transaction's log; one of its commands, sent on the lease, logged.
  void beginTransactionLog();
  void logQueued(PendingRequest& request, const resp::Request& parsed);
  void logHeld(std::string_view command);
  // True while this session keeps its transaction's commands: a cluster pool's session whose
  // log has not outgrown kMaxReplayBytes.
  bool keepsTransactionLog() const;
  // After an append to tx_log_: false, and the log dropped for this transaction, once it
  // outgrew kMaxReplayBytes.
  bool transactionLogFits();
  void tendLease();
  void loseLease(std::string_view reason);
  bool needsAuth(const route::Plan& plan) const;
  // Counts a request of `command` (null: unknown) refused before execution.
  void countRejected(const command::CommandInfo* command);
  void drainReady();
  bool betweenRequests() const;
  // Reads nothing more; closes once the replies in out_ are written.
  void closeOnceFlushed();
  void writeReply(PendingRequest& request, std::string_view reply);
  common::ByteBuffer& out();
  size_t outputBytes() const { return out_ ? out_->size() : 0; }
  void scheduleFlush();
  void flush();
  void maybeResume();
  void beginOp() { ++ops_; }
  void endOp();

  SessionHost& host_;
  int fd_;
  uint32_t pool_index_;
  PoolCounters& counters_;
  std::atomic<int64_t>& open_clients_;
  uint64_t id_;
  resp::RequestParser parser_;
  std::unique_ptr<common::ByteBuffer> stash_;  // unparsed input carried between reads
  std::unique_ptr<common::ByteBuffer> out_;    // replies not yet written
  common::RingQueue<PendingRequest*> pending_;
  int ops_ = 0;                 // deferred calls that refer to this
  uint32_t interest_ = 0;       // events registered in the worker's client epoll set
  bool write_blocked_ = false;  // the socket was full: waiting for EPOLLOUT
  bool flush_posted_ = false;
  bool paused_ = false;        // backpressure: not reading
  bool processing_ = false;    // inside processInput (guards re-entry from completions)
  bool input_closed_ = false;  // after QUIT or a protocol error: read nothing more
  bool close_after_flush_ = false;
  bool leaving_pool_ = false;  // its pool was removed: close once nothing is pending
  bool closing_ = false;
  bool draining_ = false;            // drain(): close once between requests
  common::TimePoint drain_since_{};  // when drain() was first called
  common::TimePoint last_read_;      // the event time of the last read with data (or start)

  // Private connections (session_private.cpp).
  backend::BackendConnection* lease_ = nullptr;  // leased from the host, to lease_server_
  uint32_t lease_server_ = 0;
  bool blocked_ = false;    // a blocking command is out: dispatch nothing more until its reply
  bool unblocked_ = false;  // its reply came (or the barrier fell): resume at next flush
  // Ordering across connections: lane_ is the connection kind of the last request sent (the
  // database of the shared connections, or kPrivateLane); a request for another lane waits,
  // with barrier_ up, until every earlier request has been answered.
  int lane_ = kNoLane;
  bool barrier_ = false;
  bool in_multi_ = false;          // MULTI accepted: commands are queued by the backend
  bool multi_unsent_ = false;      // MULTI answered here; its backend is not known yet
  bool multi_lost_ = false;        // the lease was lost after MULTI: EXEC fails
  bool watching_ = false;          // WATCH sent on the lease
  bool watch_lost_ = false;        // the lease was lost while watching: EXEC answers nil
  bool dirty_ = false;             // a command was refused while queuing: EXEC aborts
  std::vector<std::string> held_;  // keyless commands queued while multi_unsent_

  // A cluster pool's transaction, kept so that it can run again where its slot went
  // (session_cluster.cpp).
  static constexpr size_t kMaxReplayBytes = 4 * 1024 * 1024;
  uint32_t tx_number_ = 0;           // of the transaction in MULTI (counts them; never 0)
  common::ByteBuffer tx_log_;        // its commands after MULTI, as sent
  bool tx_log_full_ = false;         // past kMaxReplayBytes: it will not run again
  uint32_t tx_redirected_ = 0;       // the transaction whose commands a node redirected
  uint32_t tx_target_ = 0;           // the server named (SessionHost::kNoServer: unknown)
  bool tx_asking_ = false;           // by ASK
  bool tx_target_conflict_ = false;  // two different nodes named: it will not run again

  // Failovers (onMasterWait).
  bool master_wait_ = false;               // a request waits for a group's new master
  common::TimePoint master_wait_since_{};  // when the wait (or the resends) began; {}: none
  int64_t master_waited_ms_ = 0;           // see takeMasterWaited()
  PendingRequest* resend_ = nullptr;       // the blocking command to send again (backend hold)
  uint32_t block_server_ = 0;              // where the blocking command in flight went
  int32_t block_slot_ = route::kNoSlot;    // a cluster pool's: its keys' hash slot
  bool block_asking_ = false;              // resent to block_server_ after ASKING (an ASK)
  std::vector<std::string> block_args_;    // its arguments, kept while it may be sent again
  command::BlockTimeout block_timeout_;    // where its timeout is
  common::TimePoint block_sent_{};         // when it was first sent

  std::unique_ptr<Subscriptions> subscriptions_;  // made by the first SUBSCRIBE
};

}  // namespace sy::server
