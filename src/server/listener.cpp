#include "server/listener.h"

#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <array>

#include "resp/errors.h"
#include "server/worker.h"
#include "topology/topology.h"

namespace sy::server {

Listener::Listener(asio::io_context& io, const config::PoolConfig& pool, uint32_t pool_index,
                   ProxyStats& stats, std::atomic<int64_t>& open_clients,
                   std::function<Worker&()> pick_worker, ListenSockets& sockets,
                   int64_t max_clients)
    : io_(io),
      pool_(pool),
      pool_index_(pool_index),
      stats_(stats),
      open_clients_(open_clients),
      pick_worker_(std::move(pick_worker)),
      acceptor_(io),
      retry_timer_(io),
      sockets_(sockets),
      max_clients_(max_clients) {}

void Listener::update(const config::PoolConfig& pool, uint32_t pool_index) {
  config::Address bound = pool_.listen;  // where the socket is, whatever the new config says
  pool_ = pool;
  pool_.listen = std::move(bound);
  pool_index_ = pool_index;
}

Listener::~Listener() {
  if (open_) closeAcceptor(!stored_);
}

common::Result<void> Listener::open() {
  auto fail = [this](const std::string& what, const std::error_code& error) {
    return common::makeError("pool '" + pool_.name + "': cannot listen on " +
                             pool_.listen.toString() + ": " + what + ": " + error.message());
  };
  auto endpoint = topology::resolveAddress(pool_.listen);
  if (!endpoint.ok()) {
    return common::makeError("pool '" + pool_.name + "': listen: " + endpoint.error().message);
  }
  std::error_code error;
  if (int passed = sockets_.take(*endpoint); passed >= 0) {
    acceptor_.assign(endpoint->protocol(), passed, error);
    if (error) {
      ::close(passed);
      return fail("passed socket", error);
    }
    acceptor_.listen(pool_.backlog, error);  // the backlog the config asks for now
    if (error) return fail("listen", error);
    open_ = true;
    stored_ = true;
    spdlog::info("pool '{}' listening on {} (socket passed by the service manager)", pool_.name,
                 pool_.listen.toString());
    acceptNext();
    return {};
  }
  if (pool_.listen.isUnix()) ::unlink(pool_.listen.unix_path.c_str());  // a stale socket file
  acceptor_.open(endpoint->protocol(), error);
  if (error) return fail("socket", error);
  if (!pool_.listen.isUnix()) {
    acceptor_.set_option(asio::socket_base::reuse_address(true), error);
    if (pool_.reuseport) {
      int one = 1;
      ::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    }
  }
  acceptor_.bind(*endpoint, error);
  if (error) return fail("bind", error);
  if (pool_.listen.isUnix() && pool_.listen.unix_mode) {
    if (::chmod(pool_.listen.unix_path.c_str(), *pool_.listen.unix_mode) != 0) {
      return fail("chmod", std::error_code(errno, std::generic_category()));
    }
  }
  acceptor_.listen(pool_.backlog, error);
  if (error) return fail("listen", error);
  open_ = true;
  spdlog::info("pool '{}' listening on {}", pool_.name, pool_.listen.toString());
  sockets_.keep(acceptor_.native_handle(), pool_.listen);
  stored_ = sockets_.storing();
  acceptNext();
  return {};
}

void Listener::close() {
  if (!open_) return;
  if (stored_) sockets_.forget(pool_.listen);
  closeAcceptor(true);
}

void Listener::handOver() {
  if (!open_) return;
  std::error_code error;
  acceptor_.non_blocking(true, error);
  while (!error) {
    asio::generic::stream_protocol::socket socket(io_);
    acceptor_.accept(socket, error);
    if (!error) onAccepted(std::move(socket));
  }
  closeAcceptor(!stored_);
}

void Listener::closeAcceptor(bool unlink_file) {
  open_ = false;
  std::error_code ignored;
  acceptor_.close(ignored);
  retry_timer_.cancel();
  spdlog::info("pool '{}' stopped listening on {}", pool_.name, pool_.listen.toString());
  if (unlink_file && pool_.listen.isUnix()) ::unlink(pool_.listen.unix_path.c_str());
}

void Listener::acceptNext() {
  acceptor_.async_accept(
      [this](const std::error_code& error, asio::generic::stream_protocol::socket socket) {
        if (!open_) return;
        if (error) {
          // EMFILE and friends: log, back off a moment, keep accepting.
          spdlog::warn("pool '{}': accept failed: {}", pool_.name, error.message());
          retry_timer_.expires_after(std::chrono::milliseconds(50));
          retry_timer_.async_wait([this](const std::error_code& ec) {
            if (!ec && open_) acceptNext();
          });
          return;
        }
        onAccepted(std::move(socket));
        acceptNext();
      });
}

void Listener::onAccepted(asio::generic::stream_protocol::socket socket) {
  stats_.total_connections.fetch_add(1, std::memory_order_relaxed);
  int64_t open_clients = open_clients_.load(std::memory_order_relaxed);
  bool pool_full = pool_.client_connections > 0 && open_clients >= pool_.client_connections;
  bool proxy_full =
      max_clients_ > 0 && stats_.curr_connections.load(std::memory_order_relaxed) >= max_clients_;
  if (pool_full || proxy_full) {
    stats_.rejected_connections.fetch_add(1, std::memory_order_relaxed);
    std::error_code ignored;
    socket.non_blocking(true, ignored);
    const std::array<asio::const_buffer, 3> reply = {
        asio::buffer("-", 1), asio::buffer(resp::kErrMaxClients), asio::buffer("\r\n", 2)};
    asio::write(socket, reply, ignored);
    socket.close(ignored);
    return;
  }
  open_clients_.fetch_add(1, std::memory_order_relaxed);
  stats_.curr_connections.fetch_add(1, std::memory_order_relaxed);
  auto protocol = socket.local_endpoint().protocol();
  std::error_code error;
  int fd = socket.release(error);
  if (error) {
    open_clients_.fetch_sub(1, std::memory_order_relaxed);
    stats_.curr_connections.fetch_sub(1, std::memory_order_relaxed);
    spdlog::error("pool '{}': cannot hand over a client socket: {}", pool_.name, error.message());
    return;
  }
  pick_worker_().adopt(fd, protocol.family(), pool_index_, open_clients_);
}

}  // namespace sy::server
