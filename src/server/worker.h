// Worker: one event loop on one thread, owning its client sessions, its backend
// connections and its counters. Requests never leave their worker; workers share only the
// immutable Topology snapshot, so the request path takes no lock.
//
//   control thread: Listener accepts --adopt(fd)--> Worker (post)
//   worker thread:  ClientSession -> Router -> NodeMap / read policy -> BackendPool node
//
// Client sockets sit in the worker's own level-triggered epoll set, which is registered
// with the io_context as one descriptor: a turn with readable clients costs one
// epoll_wait on that set. The reads of up to kReadsPerBatch ready clients then go to the
// kernel together as one SocketBatch (one io_uring_enter), and so do the end-of-turn writes
// of every backend connection with requests and every session with replies: system calls,
// not bytes, dominate a small request's cost. The backends' writes go first, in a batch of
// their own, so the servers start on their requests while the replies go out.
// A socket with input left after its read stays ready in the level-triggered set. asio's
// edge-triggered epoll would report the set again only because asio re-registers it on each
// wait, so a read that fills its buffer (or a full epoll batch) posts one more pass itself.
// Backend reads and connects, timers and posts use asio directly.
//
// Topology swaps. The control thread builds a new immutable Topology and calls
// swapTopology(), which posts it (with pointers to this worker's counter blocks for it, a
// WorkerView) to the worker; the worker applies it between two events, so no request ever
// sees half of a change:
//
//   backends:       the snapshot's nodes (servers, groups' masters and readable replicas)
//                   go to the BackendPool, keyed by ConnectionKey (pool, server identity,
//                   address, endpoint, auth, db, server_connections): an equal key keeps its
//                   connections with their requests in flight, the rest are retired and
//                   drain (backend/backend_pool.h); the NodeMap is rebuilt alongside.
//   sessions:       a session belongs to its pool by name: when the pool's index changes
//                   the session follows it; when the pool is gone, the session stops
//                   reading, writes the replies still pending and is closed.
//   counters:       kept by name (WorkerCounters), so the stats stay right across swaps.
//
// Accepted connections are posted by the control thread after any swap it posted before, so
// the pool index adopt() carries always refers to the snapshot the worker has by then.
//
// Thread: the constructor, start(), stop(), swapTopology(), adopt() and counters() belong to
// the control thread; everything else runs on the worker's own thread.
#pragma once

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "backend/backend_connection.h"
#include "backend/backend_pool.h"
#include "common/buffer_pool.h"
#include "common/handler_memory.h"
#include "resp/request_parser.h"
#include "route/node_map.h"
#include "route/read_policy.h"
#include "route/router.h"
#include "server/parked_writes.h"
#include "server/pending_request.h"
#include "server/proxy_stats.h"
#include "server/session_host.h"
#include "server/socket_batch.h"
#include "topology/topology.h"

namespace sy::server {

class ClientSession;
class Ejector;

// What a worker needs to serve one snapshot: the snapshot, and by its indexes the counter
// blocks to count into. Built on the control thread (Worker::swapTopology), then owned by
// the worker thread.
struct WorkerView {
  std::shared_ptr<const topology::Topology> topology;
  std::vector<PoolCounters*> pools;                             // [pool]
  std::vector<std::vector<backend::BackendCounters*>> servers;  // [pool][server]
  std::vector<std::vector<backend::HealthObserver*>> health;    // [pool][server], may be null
  // Open private connections of each server (a group's master), [pool][server].
  std::vector<std::vector<std::atomic<int64_t>*>> private_open;
  // Replication groups: the counters of each readable replica, [pool][server][replica].
  std::vector<std::vector<std::vector<backend::BackendCounters*>>> replicas;
};

// Told (on the worker thread) that a node of group `group` in pool `pool` answered READONLY;
// it posts to the control thread, which re-discovers the group.
using RediscoverRequest = std::function<void(const std::string& pool, const std::string& group)>;

class Worker final : public SessionHost, private backend::FlushGatherer {
 public:
  // `ejector` (may be null) gives the observers the connections report their health to.
  // `io_mode`: SocketBatch::Mode::kSyscalls turns io_uring off (--no-io-uring).
  Worker(uint32_t index, std::shared_ptr<const topology::Topology> topology, ProxyStats& stats,
         Ejector* ejector = nullptr, SocketBatch::Mode io_mode = SocketBatch::Mode::kIoUring);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Control thread.
  void start();
  void stop();  // closes every session and backend, then joins the thread
  // The process stops without a failed request: every session, also one adopted from now on,
  // is closed at its first moment between requests (ClientSession::drain); `drained` runs on
  // this worker's thread once no session is left (not after stop() has begun).
  void drain(std::function<void()> drained);
  // Hands an accepted connection (its fd) of pool `pool_index` to this worker. `open_clients`
  // (ProxyStats::poolClients of that pool) already counts it; the worker subtracts it again
  // when the session ends.
  void adopt(int fd, int protocol_family, uint32_t pool_index, std::atomic<int64_t>& open_clients);
  // Posts `topology` to the worker, which switches to it between two events.
  void swapTopology(std::shared_ptr<const topology::Topology> topology);
  // Before start(): who to tell when a group's node answers READONLY.
  void setRediscover(RediscoverRequest rediscover) { rediscover_ = std::move(rediscover); }
  // This worker's counter blocks, by name (reading the values is safe from any thread).
  WorkerCounters& counters() { return counters_; }
  const WorkerCounters& counters() const { return counters_; }

  // Worker thread only, from here on.
  // SessionHost (see session_host.h).
  const topology::PoolTopology& pool(uint32_t index) const override {
    return topology_->pools()[index];
  }
  //   plain server:  its connection.
  //   group, write (or read with read_from: master): its master while writes are open; parked
  //                  while its master is being switched or unreachable (at most the pool's
  //                  failover_wait); an error while several nodes claim master.
  //   group, read:   the node the pool's read_from picks (worker_groups.cpp).
  const std::string* sendRequest(uint32_t pool, uint32_t server, uint64_t session_id,
                                 backend::Setup setup, bool read_only, std::string_view raw,
                                 std::span<const std::string_view> args,
                                 backend::ReplyTarget& target, common::TimePoint received) override;
  //   private connections: to a plain server, or to a group's master while writes are
  //                  open; while they would be parked the session itself waits for the
  //                  new master (masterPending, waitForMaster), at most failover_wait.
  backend::BackendConnection* leaseConnection(uint32_t pool, uint32_t server, backend::Setup setup,
                                              int64_t waited_ms,
                                              const std::string*& error) override;
  void returnConnection(backend::BackendConnection& connection, bool reusable,
                        std::string_view reason) override;
  bool leaseServes(const backend::BackendConnection& connection, uint32_t pool,
                   uint32_t server) const override;
  bool masterPending(uint32_t pool, uint32_t server, uint64_t session_id,
                     backend::Setup setup) override;
  //   cluster redirections (worker_cluster.cpp): MOVED to the named node (else parked for
  //                  the slot until a snapshot names its shard), ASK with ASKING, TRYAGAIN
  //                  and CLUSTERDOWN parked for a short pause; MOVED and CLUSTERDOWN ask the
  //                  control thread to read the slot table again.
  bool redirect(PendingRequest& request, std::string_view framed_reply) override;
  uint32_t noteRedirection(uint32_t pool, const route::Redirection& redirection) override;
  void slotTableStale(uint32_t pool) override;
  void waitForMaster(ClientSession& session) override { master_waiters_.insert(&session); }
  void watchClient(int fd, ClientSession& session, uint32_t old_events,
                   uint32_t new_events) override;
  void deferFlush(ClientSession& session) override;
  void deferCall(std::function<void()> call) override;
  void destroySession(ClientSession& session) override;
  ProxyStats& proxyStats() override { return stats_; }
  asio::io_context& io() override { return io_; }

  PoolCounters& poolCounters(uint32_t index) { return *pool_counters_[index]; }
  // The connection a session uses for a server (a group's master): sessions are spread over
  // the server_connections connections, and one session always uses the same one, so its
  // requests to one server stay in order.
  backend::BackendConnection& backend(uint32_t pool, uint32_t server, uint64_t session_id,
                                      backend::Setup setup) {
    return backends_.connection(nodes_.master(pool, server), session_id, setup);
  }
  // How client sockets are read and written (io_uring or one system call each).
  const SocketBatch& socketBatch() const { return socket_batch_; }

 private:
  WorkerView makeView(std::shared_ptr<const topology::Topology> topology);
  void applyView(WorkerView view);
  void assignBackends(const WorkerView& view);
  backend::BackendOptions backendOptions(const WorkerView& view, uint32_t pool,
                                         const topology::ServerInfo& server);
  // Replication groups (worker_groups.cpp).
  backend::BackendConnection* pickReader(uint32_t pool, uint32_t server, uint64_t session_id,
                                         backend::Setup setup);
  void park(uint32_t pool, uint32_t server, uint64_t session_id, backend::Setup setup,
            std::string_view raw, std::span<const std::string_view> args,
            backend::ReplyTarget& target, common::TimePoint received);
  // After a swap, and on every tick while writes are parked: sends, refuses or re-parks every
  // parked write against the current snapshot.
  void releaseParked();
  // Cluster pools (worker_cluster.cpp).
  // The server of `pool` whose master is `address` ("host:port"); null when none is.
  const topology::ServerInfo* clusterNode(const topology::PoolTopology& pool,
                                          std::string_view address) const;
  // Parks `request` for whichever shard serves its slot, not before `not_before`.
  void parkForSlot(const topology::PoolTopology& pool, PendingRequest& request,
                   common::TimePoint not_before);
  // A parked redirected request (ParkedWrite::slot set): sent, refused or parked again.
  void releaseForSlot(ParkedWrite& write);
  // Asks the control thread to read `pool`'s slot table again, once per cluster view.
  void refreshCluster(const topology::PoolTopology& pool);
  // Calls onMasterWait() of every session in master_waiters_ (which may join it again).
  void wakeMasterWaiters();
  // A node taken for the master of `group` answered READONLY: until a snapshot brings a newer
  // view of the group (or the pool's failover_wait passes), its writes are parked, and the
  // control thread is asked to re-discover.
  void onReadOnly(const std::string& pool, const std::string& group);
  // True while `server` (a group of `pool`) is suspected after a READONLY reply.
  bool masterSuspected(const topology::PoolTopology& pool, const topology::ServerInfo& server);
  void moveSessions(const topology::Topology& next);
  void updateTickInterval();
  void armTicker();
  void drainSessions(common::TimePoint now);
  // Runs drained_ once draining has left no session.
  void reportIfDrained();
  // The sessions now, for a loop whose calls may close (and so remove) some of them.
  std::vector<ClientSession*> sessionList() const;
  // client_idle_timeout: closes the idle sessions of pools that set it, once a second.
  void closeIdleSessions(common::TimePoint now);
  void closeAll();
  // backend::FlushGatherer: the connections' writes join the end-of-turn SocketBatch.
  void gatherFlush(backend::BackendConnection& connection) override;
  void forgetFlush(backend::BackendConnection& connection) override;
  void postEndOfTurnFlush();
  void flushDeferred();
  void armClientEvents();
  void dispatchClientEvents();
  void scheduleClientPass();

  uint32_t index_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_guard_;
  std::thread thread_;
  ProxyStats& stats_;
  Ejector* ejector_;
  WorkerCounters counters_;  // the maps: control thread only (see proxy_stats.h)
  // Worker thread from here on (written by the constructor before the thread starts).
  std::shared_ptr<const topology::Topology> topology_;
  std::vector<PoolCounters*> pool_counters_;  // [pool] of topology_
  // Backend connections with output this turn (declared before every connection table: a
  // connection destroyed with its table leaves these lists).
  std::vector<backend::BackendConnection*> deferred_backend_flushes_;
  std::vector<backend::BackendConnection*> flushing_backends_;  // null: forgotten mid-turn
  std::vector<backend::BackendConnection*> batched_backend_flushes_;
  backend::BackendPool backends_;
  route::NodeMap nodes_;  // (pool, server[, replica]) of topology_ -> node of backends_
  std::vector<route::ReadCandidate> read_candidates_;  // pickReader's scratch
  ParkedWrites parked_;
  // Sessions waiting for a group's new master (waitForMaster), woken after every swap and
  // on every tick; a destroyed session leaves the set.
  std::unordered_set<ClientSession*> master_waiters_;
  std::vector<ClientSession*> waking_;  // wakeMasterWaiters' scratch
  size_t read_rotation_ = 0;            // breaks ties between equally loaded replicas
  std::string route_error_;             // sendRequest's error text when no connection has one
  RediscoverRequest rediscover_;
  // Groups whose master answered READONLY: the generation of their view at the time, and when.
  struct Suspicion {
    uint64_t generation = 0;
    common::TimePoint since{};
  };
  std::map<std::pair<std::string, std::string>, Suspicion> suspected_masters_;
  // Cluster pools whose slot table this worker asked to refresh: the view generation then,
  // and when.
  struct ClusterRefresh {
    uint64_t generation = 0;
    common::TimePoint at{};
  };
  std::map<std::string, ClusterRefresh> cluster_refresh_asked_;
  int client_epoll_fd_;
  asio::posix::stream_descriptor client_events_;  // owns client_epoll_fd_
  std::unordered_map<ClientSession*, std::unique_ptr<ClientSession>> sessions_;
  uint64_t next_session_id_;
  asio::steady_timer ticker_;
  bool stopping_ = false;  // no timer or wait is re-armed once stop() has begun
  bool draining_ = false;
  std::function<void()> drained_;  // drain()'s, until it has run
  bool idle_timeouts_ = false;     // a pool of the snapshot sets client_idle_timeout
  common::TimePoint next_idle_sweep_{};
  common::Millis tick_interval_{50};
  std::vector<char> read_scratch_;  // kReadsPerBatch slices, one per read of a batch
  SocketBatch socket_batch_;
  struct BatchedRead {
    ClientSession* session;
    std::span<char> space;
  };
  std::vector<BatchedRead> batched_reads_;
  std::vector<ClientSession*> batched_flushes_;
  bool client_pass_posted_ = false;
  // One outstanding operation of each kind: re-arming costs no allocation.
  common::HandlerMemory client_events_memory_;
  common::HandlerMemory flush_memory_;
  common::HandlerMemory client_pass_memory_;
  common::HandlerMemory ticker_memory_;
  std::vector<ClientSession*> deferred_flushes_;
  std::vector<ClientSession*> flushing_;
  bool end_of_turn_flush_posted_ = false;
};

}  // namespace sy::server
