// Listener: accepts client connections for one pool on the control thread and hands each
// to a worker (round robin). Enforces the pool's client_connections limit: a client past it
// gets Redis's "max number of clients reached" error and is closed.
//
// A topology swap that keeps the pool's listen address calls update() (new index, new
// client_connections); one that changes it opens a new Listener and closes this one.
//
// The socket: one the service manager passed (ListenSockets) bound to the pool's address, or
// else bound here and handed to the service manager's store. A stopping process hands it over
// (handOver): it accepts what waits in the backlog, then closes its descriptor, leaving the
// socket to the store, to the next process, or (reuseport) to the other process bound to it.
//
// Thread: the control thread (the io_context passed in) only. Lifetime: after close(), keep
// the object until the io_context has run the cancelled accept (Proxy destroys closed
// listeners from a later handler).
#pragma once

#include <asio/basic_socket_acceptor.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "config/config.h"
#include "server/listen_sockets.h"
#include "server/proxy_stats.h"

namespace sy::server {

class Worker;

class Listener {
 public:
  // `pick_worker` returns the worker for the next client; `open_clients` is the pool's
  // ProxyStats::poolClients() counter; `max_clients` the most clients of every pool together
  // (--max-clients; 0: no limit).
  Listener(asio::io_context& io, const config::PoolConfig& pool, uint32_t pool_index,
           ProxyStats& stats, std::atomic<int64_t>& open_clients,
           std::function<Worker&()> pick_worker, ListenSockets& sockets, int64_t max_clients);
  ~Listener();

  // Takes the passed socket bound to the pool's address, or binds and listens. Fails with a
  // message naming the pool and the address.
  common::Result<void> open();
  // The pool's listen address is not served any more (reload): the socket closes, and leaves
  // the service manager's store.
  void close();
  // This process stops: accepts every connection already waiting, then stops listening. The
  // socket stays in the store (a UNIX socket's file stays too when it is stored).
  void handOver();
  // The pool's settings and index in a new snapshot, same listen address. backlog and
  // reuseport apply only when a listener is bound, so they change with `listen` only.
  void update(const config::PoolConfig& pool, uint32_t pool_index);
  bool isOpen() const { return open_; }
  // True when this listener is bound to `address` (same text and unix permissions).
  bool boundTo(const config::Address& address) const {
    return pool_.listen.toString() == address.toString() &&
           pool_.listen.unix_mode == address.unix_mode;
  }

 private:
  void acceptNext();
  void onAccepted(asio::generic::stream_protocol::socket socket);
  void closeAcceptor(bool unlink_file);

  asio::io_context& io_;
  config::PoolConfig pool_;  // a copy: the snapshot it came from may be gone
  uint32_t pool_index_;
  ProxyStats& stats_;
  std::atomic<int64_t>& open_clients_;
  std::function<Worker&()> pick_worker_;
  asio::basic_socket_acceptor<asio::generic::stream_protocol> acceptor_;
  asio::steady_timer retry_timer_;  // pause after a failed accept
  ListenSockets& sockets_;
  int64_t max_clients_;
  bool open_ = false;
  bool stored_ = false;  // the service manager holds the socket too (passed, or kept)
};

}  // namespace sy::server
