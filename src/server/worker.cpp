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

#include "server/client_session.h"

namespace sy::server {
namespace {

constexpr size_t kReadScratchBytes = 64 * 1024;
constexpr size_t kBufferSize = 4 * 1024;
constexpr size_t kBufferKeepLimit = 64 * 1024;
constexpr size_t kMaxFreeBuffers = 256;
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
               ProxyStats& stats)
    : index_(index),
      work_guard_(asio::make_work_guard(io_)),
      topology_(std::move(topology)),
      stats_(stats),
      counters_(topology_->pools().size()),
      client_epoll_fd_(createEpoll()),
      client_events_(io_, client_epoll_fd_),
      next_session_id_((static_cast<uint64_t>(index) << kSessionIdShift) + 1),
      ticker_(io_),
      buffers_(kBufferSize, kBufferKeepLimit, kMaxFreeBuffers),
      read_scratch_(kReadScratchBytes) {
  buildBackends();
}

Worker::~Worker() { stop(); }

void Worker::buildBackends() {
  int64_t shortest_timeout = -1;
  for (const auto& pool : topology_->pools()) {
    const config::PoolConfig& config = *pool.config;
    uint32_t per_server = std::max<uint32_t>(1, config.server_connections);
    connections_per_server_.push_back(per_server);
    std::vector<std::unique_ptr<backend::BackendConnection>> connections;
    for (const auto& server : pool.servers) {
      backend::BackendOptions options;
      options.name = server.stats_name;
      options.address_text = server.address_text;
      options.endpoint = server.endpoint;
      options.timeout_ms = config.timeout_ms;
      if (config.timeout_ms > 0) options.connect_timeout_ms = config.timeout_ms;
      options.auth = config.redis_auth;
      options.db = config.redis_db;
      options.keepalive = config.tcpkeepalive;
      for (uint32_t c = 0; c < per_server; ++c) {
        connections.push_back(std::make_unique<backend::BackendConnection>(io_, options));
      }
    }
    backends_.push_back(std::move(connections));
    if (config.timeout_ms > 0 && (shortest_timeout < 0 || config.timeout_ms < shortest_timeout)) {
      shortest_timeout = config.timeout_ms;
    }
  }
  // Deadlines are checked by a ticker: at least ten checks per shortest timeout.
  if (shortest_timeout > 0) {
    tick_interval_ = common::Millis(std::clamp<int64_t>(shortest_timeout / 10, 1, 50));
  }
}

void Worker::start() {
  asio::post(io_, [this] {
    for (size_t p = 0; p < backends_.size(); ++p) {
      if (!topology_->pools()[p].config->preconnect) continue;
      for (auto& connection : backends_[p]) connection->connectIfIdle();
    }
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
    closeAll();
    ticker_.cancel();
    std::error_code ignored;
    client_events_.cancel(ignored);
    work_guard_.reset();
  });
  thread_.join();
}

void Worker::closeAll() {
  std::vector<ClientSession*> open;
  open.reserve(sessions_.size());
  for (auto& [session, owned] : sessions_) open.push_back(session);
  for (ClientSession* session : open) session->close("shutting down");
  for (auto& pool : backends_) {
    for (auto& connection : pool) connection->close("switchyard is shutting down");
  }
}

void Worker::armTicker() {
  if (stopping_) return;
  ticker_.expires_after(tick_interval_);
  ticker_.async_wait(
      common::bindHandlerMemory(ticker_memory_, [this](const std::error_code& error) {
        if (error) return;
        common::TimePoint now = common::now();
        for (auto& pool : backends_) {
          for (auto& connection : pool) connection->expireRequests(now);
        }
        armTicker();
      }));
}

void Worker::adopt(int fd, int protocol_family, int protocol, uint32_t pool_index) {
  asio::post(io_, [this, fd, protocol_family, protocol, pool_index] {
    int flags = ::fcntl(fd, F_GETFL, 0);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
      spdlog::error("worker {}: cannot adopt a client socket: {}", index_, std::strerror(errno));
      ::close(fd);
      stats_.pool_clients[pool_index].fetch_sub(1, std::memory_order_relaxed);
      stats_.curr_connections.fetch_sub(1, std::memory_order_relaxed);
      return;
    }
    // The protocol number of an accepted generic socket is not reliable (0): the family is.
    (void)protocol;
    bool is_tcp = protocol_family == AF_INET || protocol_family == AF_INET6;
    auto session =
        std::make_unique<ClientSession>(*this, fd, is_tcp, pool_index, next_session_id_++);
    ClientSession* raw = session.get();
    sessions_.emplace(raw, std::move(session));
    counters_.pools[pool_index][common::PoolStat::client_connections].add();
    raw->start();
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
  // A session closed by an earlier event of this batch stays allocated until its deferred
  // destruction runs after this loop, and ignores further events.
  for (int i = 0; i < ready; ++i) {
    static_cast<ClientSession*>(events[i].data.ptr)->onEvents(events[i].events);
  }
}

void Worker::deferCall(std::function<void()> call) { asio::post(io_, std::move(call)); }

void Worker::deferFlush(ClientSession& session) {
  if (deferred_flushes_.empty()) {
    asio::post(io_, common::bindHandlerMemory(flush_memory_, [this] { flushDeferred(); }));
  }
  deferred_flushes_.push_back(&session);
}

void Worker::flushDeferred() {
  flushing_.swap(deferred_flushes_);  // sessions flushed now may defer again for next turn
  for (ClientSession* session : flushing_) session->runDeferredFlush();
  flushing_.clear();
}

void Worker::destroySession(ClientSession& session) {
  uint32_t pool_index = session.poolIndex();
  counters_.pools[pool_index][common::PoolStat::client_connections].sub();
  stats_.pool_clients[pool_index].fetch_sub(1, std::memory_order_relaxed);
  stats_.curr_connections.fetch_sub(1, std::memory_order_relaxed);
  sessions_.erase(&session);
}

backend::BackendConnection& Worker::backend(uint32_t pool, uint32_t server, uint64_t session_id) {
  uint32_t per_server = connections_per_server_[pool];
  size_t index =
      static_cast<size_t>(server) * per_server + (per_server == 1 ? 0 : session_id % per_server);
  return *backends_[pool][index];
}

void Worker::countClientEof(uint32_t pool, bool was_error) {
  if (was_error) {
    counters_.pools[pool][common::PoolStat::client_err].add();
  } else {
    counters_.pools[pool][common::PoolStat::client_eof].add();
  }
}
void Worker::countClientError(uint32_t pool) {
  counters_.pools[pool][common::PoolStat::client_err].add();
}
void Worker::countForwardError(uint32_t pool) {
  counters_.pools[pool][common::PoolStat::forward_error].add();
}
void Worker::countFragments(uint32_t pool, size_t fragments) {
  counters_.pools[pool][common::PoolStat::fragments].add(fragments);
}

}  // namespace sy::server
