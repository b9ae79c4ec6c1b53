// StatsServer: twemproxy's stats port. Every `interval` it takes a new StatsSnapshot; a client
// that connects receives the latest snapshot as one JSON line and is disconnected (read it
// with `nc host 22222`).
//
// Thread: the control thread (the io_context passed in).
#pragma once

#include <asio/basic_socket_acceptor.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <memory>
#include <string>

#include "common/result.h"
#include "server/proxy.h"

namespace sy::admin {

struct StatsServerOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 22222;
  int interval_ms = 30000;
  std::string version;
};

class StatsServer {
 public:
  // Reports on the proxy's current topology (Proxy::topology()), so it follows reloads.
  StatsServer(asio::io_context& io, const server::Proxy& proxy, StatsServerOptions options);

  common::Result<void> open();
  void close();
  // The document a client would receive now.
  const std::string& currentDocument() const { return document_; }

 private:
  void refresh();
  void armRefresh();
  void acceptNext();

  asio::io_context& io_;
  const server::Proxy& proxy_;
  StatsServerOptions options_;
  std::string source_;
  std::string document_;
  asio::basic_socket_acceptor<asio::generic::stream_protocol> acceptor_;
  asio::steady_timer refresh_timer_;
  bool open_ = false;
};

// This host's name: the "source" of the stats document.
std::string hostName();

}  // namespace sy::admin
