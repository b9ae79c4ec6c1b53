#include "server/worker.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <spdlog/spdlog.h>
#include <asio/post.hpp>

#include <algorithm>
#include <map>

#include "resp/errors.h"
#include "server/client_session.h"
#include "server/ejector.h"
#include "topology/topology_diff.h"

namespace sy::server {
namespace {

// Client reads per SocketBatch, and the scratch each gets (a longer request continues in
// the session's stash).
constexpr size_t kReadsPerBatch = 64;
constexpr size_t kReadSliceBytes = 16 * 1024;
// Writes per SocketBatch at the end of a turn.
constexpr size_t kBatchCapacity = 128;
// Session ids are unique across workers: the worker index sits in the top bits.
constexpr int kSessionIdShift = 48;
constexpr int kClientEventsPerPoll = 256;

int createEpoll() {
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
  return fd;
}

}  // namespace

Worker::Worker(uint32_t index, std::shared_ptr<const topology::Topology> topology,
               ProxyStats& stats, Ejector* ejector, SocketBatch::Mode io_mode)
    : index_(index),
      work_guard_(asio::make_work_guard(io_)),
      stats_(stats),
      ejector_(ejector),
      backends_(io_),
      client_epoll_fd_(createEpoll()),
      client_events_(io_, client_epoll_fd_),
      next_session_id_((static_cast<uint64_t>(index) << kSessionIdShift) + 1),
      ticker_(io_),
      read_scratch_(kReadsPerBatch * kReadSliceBytes),
      socket_batch_(kBatchCapacity, io_mode) {
  // The thread has not started: applying the first view here is still single-threaded.
  applyView(makeView(std::move(topology)));
}

Worker::~Worker() { stop(); }

WorkerView Worker::makeView(std::shared_ptr<const topology::Topology> topology) {
  WorkerView view;
  for (const auto& pool : topology->pools()) {
    const std::string& name = pool.config->name;
    view.pools.push_back(&counters_.pool(name));
    std::vector<backend::BackendCounters*> servers;
    std::vector<backend::HealthObserver*> health;
    std::vector<std::atomic<int64_t>*> private_open;
    for (const auto& server : pool.servers) {
      servers.push_back(&counters_.server(name, server.stats_name));
      private_open.push_back(&stats_.privateConnections(name, server.stats_name));
      health.push_back(ejector_ ? &ejector_->observer(name, server.stats_name) : nullptr);
    }
    std::vector<std::vector<backend::BackendCounters*>> replicas;
    for (const auto& server : pool.servers) {
      std::vector<backend::BackendCounters*> nodes;
      for (const auto& replica : server.replicas) {
        nodes.push_back(&counters_.server(name, server.stats_name + "@" + replica.address_text));
      }
      replicas.push_back(std::move(nodes));
    }
    view.servers.push_back(std::move(servers));
    view.private_open.push_back(std::move(private_open));
    view.health.push_back(std::move(health));
    view.replicas.push_back(std::move(replicas));
  }
  view.topology = std::move(topology);
  return view;
}

void Worker::swapTopology(std::shared_ptr<const topology::Topology> topology) {
  auto view = std::make_shared<WorkerView>(makeView(std::move(topology)));
  asio::post(io_, [this, view] {
    if (!stopping_) applyView(std::move(*view));
  });
}

void Worker::applyView(WorkerView view) {
  assignBackends(view);
  if (topology_) moveSessions(*view.topology);
  topology_ = std::move(view.topology);
  pool_counters_ = std::move(view.pools);
  // A private connection whose node no longer takes its server's writes (a failover, a
  // reload) is closed: its session's transaction fails instead of reaching a former master.
  for (auto& [session, owned] : sessions_) session->checkLease();
  updateTickInterval();
  if (parked_.size() > 0) releaseParked();
  if (!master_waiters_.empty()) wakeMasterWaiters();
}

// Gives the backend pool this snapshot's nodes: every server (a group's master) and every
// readable replica, each keyed by its ConnectionKey, so the pool keeps the connections whose
// key is unchanged, builds the missing ones and retires the rest. The node map follows.
void Worker::assignBackends(const WorkerView& view) {
  std::vector<backend::NodeSpec> specs;
  nodes_.clear();
  const auto& pools = view.topology->pools();
  for (size_t p = 0; p < pools.size(); ++p) {
    const auto pool = static_cast<uint32_t>(p);
    const bool preconnect = pools[p].config->preconnect;
    nodes_.addPool(pools[p].servers.size());
    for (const auto& server : pools[p].servers) {
      backend::BackendOptions options = backendOptions(view, pool, server);
      nodes_.setMaster(pool, server.index, static_cast<backend::NodeId>(specs.size()));
      specs.push_back(backend::NodeSpec{
          topology::connectionKey(pools[p], server), options, view.servers[p][server.index],
          preconnect, pools[p].config->private_connections, view.private_open[p][server.index]});
      for (size_t r = 0; r < server.replicas.size(); ++r) {
        const topology::ReadNode& node = server.replicas[r];
        backend::BackendOptions replica_options = options;
        replica_options.name = server.stats_name + "@" + node.address_text;
        replica_options.address_text = node.address_text;
        replica_options.endpoint = node.endpoint;
        replica_options.health = nullptr;  // auto_eject_hosts judges masters only
        replica_options.cluster_readonly = pools[p].config->cluster;
        nodes_.addReplica(pool, server.index, static_cast<backend::NodeId>(specs.size()));
        specs.push_back(backend::NodeSpec{topology::replicaConnectionKey(pools[p], server, node),
                                          std::move(replica_options),
                                          view.replicas[p][server.index][r], preconnect});
      }
    }
  }
  // Only a swap connects here; at start-up start() does it once the loop runs.
  backends_.assign(std::move(specs), topology_ != nullptr);
}

backend::BackendOptions Worker::backendOptions(const WorkerView& view, uint32_t pool,
                                               const topology::ServerInfo& server) {
  const config::PoolConfig& config = *view.topology->pools()[pool].config;
  backend::BackendOptions options;
  options.name = server.stats_name;
  options.address_text = server.address_text;
  options.endpoint = server.endpoint;
  options.timeout_ms = config.timeout_ms;
  if (config.timeout_ms > 0) options.connect_timeout_ms = config.timeout_ms;
  options.auth = config.redis_auth;
  options.db = config.redis_db;
  options.keepalive = config.tcpkeepalive;
  options.health = view.health[pool][server.index];
  options.flush_gatherer = this;
  options.scripts = &stats_.scripts;
  if (server.is_group) {
    // The lambda runs on this worker's thread, from a connection this worker owns.
    options.on_readonly = [this, pool_name = config.name, group = server.stats_name] {
      onReadOnly(pool_name, group);
    };
  }
  if (config.cluster) {
    // A node that fails may be a master the cluster is failing over: read the table again
    // rather than wait for the next interval.
    options.on_failure = [this, pool_name = config.name] {
      if (topology_ == nullptr) return;
      const topology::PoolTopology* pool_topology = topology::findPool(*topology_, pool_name);
      if (pool_topology != nullptr) refreshCluster(*pool_topology);
    };
  }
  return options;
}

// Sessions follow their pool by name; those whose pool is gone finish and close.
void Worker::moveSessions(const topology::Topology& next) {
  std::vector<uint32_t> new_index(topology_->pools().size(), ClientSession::kNoPool);
  for (size_t p = 0; p < topology_->pools().size(); ++p) {
    const auto* pool = topology::findPool(next, topology_->pools()[p].config->name);
    if (pool != nullptr) new_index[p] = pool->index;
  }
  std::vector<ClientSession*> leaving;
  for (auto& [session, owned] : sessions_) {
    if (session->poolIndex() == ClientSession::kNoPool) continue;
    uint32_t index = new_index[session->poolIndex()];
    if (index == ClientSession::kNoPool) {
      leaving.push_back(session);
    } else {
      session->followPool(index, *next.pools()[index].config);
    }
  }
  // leavePool() may close the session, which changes sessions_: not while iterating it.
  for (ClientSession* session : leaving) session->leavePool();
}

void Worker::updateTickInterval() {
  int64_t shortest_timeout = -1;
  idle_timeouts_ = false;
  for (const auto& pool : topology_->pools()) {
    if (pool.config->client_idle_timeout_ms > 0) idle_timeouts_ = true;
    int64_t timeout = pool.config->timeout_ms;
    if (timeout > 0 && (shortest_timeout < 0 || timeout < shortest_timeout)) {
      shortest_timeout = timeout;
    }
  }
  // Deadlines are checked by a ticker: at least ten checks per shortest timeout.
  tick_interval_ = common::Millis(50);
  if (shortest_timeout > 0) {
    tick_interval_ = common::Millis(std::clamp<int64_t>(shortest_timeout / 10, 1, 50));
  }
}

void Worker::start() {
  asio::post(io_, [this] {
    backends_.connectPreconnected();
    armTicker();
    armClientEvents();
  });
  thread_ = std::thread([this] {
    spdlog::debug("worker {} running", index_);
    io_.run();
  });
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  // Close everything and let the loop run dry instead of stopping it: every cancelled
  // operation then completes and gives its handler memory back while its owner still exists.
  asio::post(io_, [this] {
    stopping_ = true;
    drained_ = nullptr;
    closeAll();
    ticker_.cancel();
    std::error_code ignored;
    client_events_.cancel(ignored);
    work_guard_.reset();
  });
  thread_.join();
}

void Worker::drain(std::function<void()> drained) {
  asio::post(io_, [this, drained = std::move(drained)]() mutable {
    if (stopping_) return;
    draining_ = true;
    drained_ = std::move(drained);
    drainSessions(common::now());
  });
}

// drain()'s sessions go as soon as each is between requests; the last one runs drained_.
void Worker::drainSessions(common::TimePoint now) {
  // drain() may close the session, which changes sessions_: not while iterating it.
  for (ClientSession* session : sessionList()) session->drain(now);
  reportIfDrained();
}

void Worker::reportIfDrained() {
  if (draining_ && sessions_.empty() && drained_) std::exchange(drained_, nullptr)();
}

std::vector<ClientSession*> Worker::sessionList() const {
  std::vector<ClientSession*> list;
  list.reserve(sessions_.size());
  for (const auto& [session, owned] : sessions_) list.push_back(session);
  return list;
}

void Worker::closeIdleSessions(common::TimePoint now) {
  next_idle_sweep_ = now + std::chrono::seconds(1);
  std::vector<std::pair<ClientSession*, common::Millis>> candidates;
  for (auto& [session, owned] : sessions_) {
    if (session->poolIndex() == ClientSession::kNoPool) continue;
    int64_t timeout = topology_->pools()[session->poolIndex()].config->client_idle_timeout_ms;
    if (timeout > 0) candidates.emplace_back(session, common::Millis(timeout));
  }
  // closeIfIdle() may close, which changes sessions_: not while iterating it.
  for (auto [session, timeout] : candidates) session->closeIfIdle(now, timeout);
}

void Worker::closeAll() {
  for (ClientSession* session : sessionList()) session->close("shutting down");
  parked_.failAll(resp::kErrShuttingDown);
  backends_.closeAll("switchyard is shutting down");
}

void Worker::armTicker() {
  if (stopping_) return;
  ticker_.expires_after(tick_interval_);
  ticker_.async_wait(
      common::bindHandlerMemory(ticker_memory_, [this](const std::error_code& error) {
        if (error) return;
        common::TimePoint now = common::now();
        backends_.expireRequests(now);  // retired connections included
        if (parked_.size() > 0) {
          parked_.expire(now);
          releaseParked();  // masters that came back take their writes
        }
        if (!master_waiters_.empty()) wakeMasterWaiters();
        if (draining_) drainSessions(now);
        if (idle_timeouts_ && now >= next_idle_sweep_) closeIdleSessions(now);
        armTicker();
      }));
}

void Worker::adopt(int fd, int protocol_family, uint32_t pool_index,
                   std::atomic<int64_t>& open_clients) {
  asio::post(io_, [this, fd, protocol_family, pool_index, &open_clients] {
    int flags = ::fcntl(fd, F_GETFL, 0);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
      spdlog::error("worker {}: cannot adopt a client socket: {}", index_, std::strerror(errno));
      ::close(fd);
      open_clients.fetch_sub(1, std::memory_order_relaxed);
      stats_.curr_connections.fetch_sub(1, std::memory_order_relaxed);
      return;
    }
    // The protocol number of an accepted generic socket is not reliable (0): the family is.
    bool is_tcp = protocol_family == AF_INET || protocol_family == AF_INET6;
    PoolCounters& counters = *pool_counters_[pool_index];
    auto session = std::make_unique<ClientSession>(*this, fd, is_tcp, pool_index, counters,
                                                   open_clients, next_session_id_++);
    ClientSession* raw = session.get();
    sessions_.emplace(raw, std::move(session));
    counters[common::PoolStat::client_connections].add();
    raw->start();
    if (draining_) raw->drain(common::now());
  });
}

void Worker::watchClient(int fd, ClientSession& session, uint32_t old_events, uint32_t new_events) {
  epoll_event event{};
  event.events = new_events;
  event.data.ptr = &session;
  int op = old_events == 0 ? EPOLL_CTL_ADD : (new_events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD);
  if (::epoll_ctl(client_epoll_fd_, op, fd, &event) != 0) {
    spdlog::error("worker {}: epoll_ctl on client fd {}: {}", index_, fd, std::strerror(errno));
  }
}

// One wait on the client set per turn in which any client is ready.
void Worker::armClientEvents() {
  if (stopping_) return;
  client_events_.async_wait(
      asio::posix::stream_descriptor::wait_read,
      common::bindHandlerMemory(client_events_memory_, [this](const std::error_code& error) {
        if (error) return;
        dispatchClientEvents();
        armClientEvents();
      }));
}

void Worker::dispatchClientEvents() {
  epoll_event events[kClientEventsPerPoll];
  int ready = ::epoll_wait(client_epoll_fd_, events, kClientEventsPerPoll, 0);
  common::stampEventTime();  // the receipt time of every request read in this batch
  bool more_ready = ready == kClientEventsPerPoll;  // the set may hold more ready clients
  // A session closed by an earlier event of this batch stays allocated until its deferred
  // destruction runs after this loop, and ignores further events.
  for (int first = 0; first < ready; first += static_cast<int>(kReadsPerBatch)) {
    int end = std::min(ready, first + static_cast<int>(kReadsPerBatch));
    socket_batch_.clear();
    batched_reads_.clear();
    // Nothing runs between asking each session for its buffer and the batch: the fds and
    // buffers stay as they were handed over.
    for (int i = first; i < end; ++i) {
      auto* session = static_cast<ClientSession*>(events[i].data.ptr);
      std::span<char> slice(read_scratch_.data() + batched_reads_.size() * kReadSliceBytes,
                            kReadSliceBytes);
      std::span<char> space = session->onEvents(events[i].events, slice);
      if (space.empty()) continue;
      socket_batch_.addRecv(session->fd(), space);
      batched_reads_.push_back(BatchedRead{session, space});
    }
    socket_batch_.run();
    for (size_t k = 0; k < batched_reads_.size(); ++k) {
      ssize_t result = socket_batch_.result(k);
      batched_reads_[k].session->onRead(batched_reads_[k].space, result);
      more_ready |= result == static_cast<ssize_t>(batched_reads_[k].space.size());
    }
  }
  if (more_ready) scheduleClientPass();
}

// One more pass over the client set once the handlers already queued have run (backend
// replies keep their turn), for input the outer wait is not bound to report again.
void Worker::scheduleClientPass() {
  if (client_pass_posted_ || stopping_) return;
  client_pass_posted_ = true;
  asio::post(io_, common::bindHandlerMemory(client_pass_memory_, [this] {
               client_pass_posted_ = false;
               if (!stopping_) dispatchClientEvents();
             }));
}

void Worker::deferCall(std::function<void()> call) { asio::post(io_, std::move(call)); }

void Worker::deferFlush(ClientSession& session) {
  postEndOfTurnFlush();
  deferred_flushes_.push_back(&session);
}

void Worker::gatherFlush(backend::BackendConnection& connection) {
  postEndOfTurnFlush();
  deferred_backend_flushes_.push_back(&connection);
}

void Worker::forgetFlush(backend::BackendConnection& connection) {
  std::erase(deferred_backend_flushes_, &connection);
  std::replace(flushing_backends_.begin(), flushing_backends_.end(), &connection,
               static_cast<backend::BackendConnection*>(nullptr));
}

void Worker::postEndOfTurnFlush() {
  if (end_of_turn_flush_posted_) return;
  end_of_turn_flush_posted_ = true;
  asio::post(io_, common::bindHandlerMemory(flush_memory_, [this] { flushDeferred(); }));
}

// The writes of every backend connection and session flushed this turn, kBatchCapacity to a
// SocketBatch: the backends' first, in batches of their own, then the sessions'. (Sharing
// one kernel entry with the replies delayed the servers' start: with 32-byte values it cost
// 8% of the throughput at pipeline 1.) Sessions are destroyed (endDeferredFlush) only once all are
// done, so none is freed mid-batch.
void Worker::flushDeferred() {
  end_of_turn_flush_posted_ = false;
  // Whatever is flushed now may defer again, for the next turn.
  flushing_backends_.swap(deferred_backend_flushes_);
  flushing_.swap(deferred_flushes_);
  size_t next_backend = 0;
  size_t next_session = 0;
  while (next_backend < flushing_backends_.size() || next_session < flushing_.size()) {
    socket_batch_.clear();
    batched_backend_flushes_.clear();
    batched_flushes_.clear();
    for (; next_backend < flushing_backends_.size() && !socket_batch_.full(); ++next_backend) {
      backend::BackendConnection* connection = flushing_backends_[next_backend];
      if (connection == nullptr) continue;
      std::span<const char> out = connection->takeGatheredFlush();
      if (out.empty()) continue;
      socket_batch_.addSend(connection->fd(), out);
      batched_backend_flushes_.push_back(connection);
    }
    // Sessions only in a batch of their own: the backends' writes go in first, alone.
    bool sessions_wait = !batched_backend_flushes_.empty();
    for (; !sessions_wait && next_session < flushing_.size() && !socket_batch_.full();
         ++next_session) {
      std::span<const char> out = flushing_[next_session]->takeDeferredFlush();
      if (out.empty()) continue;
      socket_batch_.addSend(flushing_[next_session]->fd(), out);
      batched_flushes_.push_back(flushing_[next_session]);
    }
    socket_batch_.run();
    size_t backends = batched_backend_flushes_.size();
    // A backend that fails here fails its requests: their sessions queue error replies for
    // the next turn, and stay allocated meanwhile (destruction is deferred).
    for (size_t k = 0; k < backends; ++k) {
      batched_backend_flushes_[k]->finishGatheredFlush(socket_batch_.result(k));
    }
    for (size_t k = 0; k < batched_flushes_.size(); ++k) {
      batched_flushes_[k]->finishDeferredFlush(socket_batch_.result(backends + k));
    }
  }
  flushing_backends_.clear();
  for (ClientSession* session : flushing_) session->endDeferredFlush();
  flushing_.clear();
}

void Worker::destroySession(ClientSession& session) {
  session.poolCounters()[common::PoolStat::client_connections].sub();
  session.openClients().fetch_sub(1, std::memory_order_relaxed);
  stats_.curr_connections.fetch_sub(1, std::memory_order_relaxed);
  master_waiters_.erase(&session);
  sessions_.erase(&session);
  reportIfDrained();
}

}  // namespace sy::server
