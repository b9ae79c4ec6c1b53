// HttpServer: the admin HTTP port (--admin-port). Serves
//   GET /             the status page (status_page.h): static HTML that polls /status.json
//   GET /status.json  the status page's data (status_json.h), rendered at request time
//   GET /metrics      Prometheus text format 0.0.4 (prometheus.h)
//   GET /stats        the twemproxy stats JSON (stats_snapshot.h), rendered at request time
// and answers anything else with 404 (unknown path), 405 (a method other than GET or HEAD),
// 400 (not an HTTP/1.x request line), 431 (request head past kMaxRequestBytes) or 408 (the
// head did not arrive within the timeout), each with a plain-text body saying why. One
// request per connection ("Connection: close").
//
//   accept --> Connection: read until "\r\n\r\n" (bounded, with a deadline)
//          --> route --> render (a callback) --> write --> close
//
// Everything is asynchronous on the control thread's io_context: a slow or silent client
// holds one socket and one timer, never the thread. At most kMaxConnections are open; past
// that, new connections are closed at once.
// Thread: the control thread (the io_context passed in).
#pragma once

#include <asio/basic_socket_acceptor.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"

namespace sy::admin {

struct HttpServerOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 0;
  std::chrono::milliseconds timeout{5000};  // to receive the request head
  size_t max_request_bytes = 8192;
  size_t max_connections = 64;
};

// What the routes return: renderers called on the control thread for each request.
struct HttpContent {
  std::function<std::string()> metrics;  // GET /metrics
  std::function<std::string()> stats;    // GET /stats
  std::function<std::string()> status;   // GET /status.json
};

class HttpServer {
 public:
  HttpServer(asio::io_context& io, HttpContent content, HttpServerOptions options);
  ~HttpServer();

  common::Result<void> open();
  void close();
  // The port actually bound (useful with port 0 in tests).
  uint16_t port() const { return bound_port_; }

  // The full response for one request head (exposed for tests).
  std::string respond(std::string_view head) const;

 private:
  class Connection;
  void acceptNext();

  asio::io_context& io_;
  HttpContent content_;
  HttpServerOptions options_;
  asio::basic_socket_acceptor<asio::generic::stream_protocol> acceptor_;
  std::shared_ptr<size_t> open_connections_ = std::make_shared<size_t>(0);
  uint16_t bound_port_ = 0;
  bool open_ = false;
};

// "HTTP/1.1 <status>\r\nContent-Type: ..\r\nContent-Length: ..\r\nConnection: close\r\n\r\n<body>"
std::string httpResponse(std::string_view status, std::string_view content_type,
                         std::string_view body, bool head_only = false,
                         std::string_view extra_headers = {});

}  // namespace sy::admin
