// Listener: accepts client connections for one pool on the control thread and hands each
// to a worker (round robin). Enforces the pool's client_connections limit: a client past it
// gets Redis's "max number of clients reached" error and is closed.
//
// Thread: the control thread (the io_context passed in) only.
#pragma once

#include <asio/basic_socket_acceptor.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/io_context.hpp>

#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "config/config.h"
#include "server/proxy_stats.h"

namespace sy::server {

class Worker;

class Listener {
 public:
  // `pick_worker` returns the worker for the next client.
  Listener(asio::io_context& io, const config::PoolConfig& pool, uint32_t pool_index,
           ProxyStats& stats, std::function<Worker&()> pick_worker);
  ~Listener();

  // Binds and listens. Fails with a message naming the pool and the address.
  common::Result<void> open();
  void close();

 private:
  void acceptNext();
  void onAccepted(asio::generic::stream_protocol::socket socket);

  asio::io_context& io_;
  const config::PoolConfig& pool_;
  uint32_t pool_index_;
  ProxyStats& stats_;
  std::function<Worker&()> pick_worker_;
  asio::basic_socket_acceptor<asio::generic::stream_protocol> acceptor_;
  bool open_ = false;
};

}  // namespace sy::server
