#include "admin/http_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include "admin/listen.h"
#include "admin/prometheus.h"
#include "admin/status_json.h"
#include "admin/status_page.h"
#include "config/config.h"
#include "topology/topology.h"

namespace sy::admin {
namespace {

constexpr std::string_view kTextType = "text/plain; charset=utf-8";
constexpr std::string_view kJsonType = "application/json";
constexpr std::string_view kHtmlType = "text/html; charset=utf-8";

}  // namespace

std::string httpResponse(std::string_view status, std::string_view content_type,
                         std::string_view body, bool head_only, std::string_view extra_headers) {
  std::string out = fmt::format(
      "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}Connection: close\r\n\r\n",
      status, content_type, body.size(), extra_headers);
  if (!head_only) out += body;
  return out;
}

// One client connection: reads one request head, writes one response, closes.
class HttpServer::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(const HttpServer& server, asio::generic::stream_protocol::socket socket,
             std::shared_ptr<size_t> open_count)
      : server_(server),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        open_count_(std::move(open_count)) {
    ++*open_count_;
  }
  ~Connection() { --*open_count_; }

  void start() {
    auto self = shared_from_this();
    timer_.expires_after(server_.options_.timeout);
    timer_.async_wait([self](const std::error_code& error) {
      if (error || self->done_) return;
      self->finish(httpResponse("408 Request Timeout", kTextType,
                                "the request head did not arrive in time\n"));
    });
    readMore();
  }

 private:
  void readMore() {
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(chunk_), [self](const std::error_code& error, size_t n) {
      self->onRead(error, n);
    });
  }

  void onRead(const std::error_code& error, size_t n) {
    if (done_) return;
    if (error) return stop();
    head_.append(chunk_.data(), n);
    size_t end = head_.find("\r\n\r\n");
    if (end == std::string::npos && head_.size() <= server_.options_.max_request_bytes) {
      return readMore();
    }
    if (end == std::string::npos || end + 4 > server_.options_.max_request_bytes) {
      return finish(httpResponse("431 Request Header Fields Too Large", kTextType,
                                 fmt::format("the request head is limited to {} bytes\n",
                                             server_.options_.max_request_bytes)));
    }
    finish(server_.respond(std::string_view(head_).substr(0, end)));
  }

  void finish(std::string response) {
    done_ = true;
    timer_.cancel();
    response_ = std::move(response);
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(response_),
                      [self](const std::error_code&, size_t) { self->stop(); });
  }

  void stop() {
    done_ = true;
    timer_.cancel();
    std::error_code ignored;
    socket_.shutdown(asio::socket_base::shutdown_both, ignored);
    socket_.close(ignored);
  }

  const HttpServer& server_;
  asio::generic::stream_protocol::socket socket_;
  asio::steady_timer timer_;
  std::shared_ptr<size_t> open_count_;
  std::array<char, 2048> chunk_{};
  std::string head_;
  std::string response_;
  bool done_ = false;
};

HttpServer::HttpServer(asio::io_context& io, HttpContent content, HttpServerOptions options)
    : io_(io), content_(std::move(content)), options_(std::move(options)), acceptor_(io) {}

HttpServer::~HttpServer() { close(); }

common::Result<void> HttpServer::open() {
  config::Address address;
  address.host = options_.address;
  address.port = options_.port;
  if (auto listening = listenOn(acceptor_, address, "admin"); !listening.ok()) return listening;
  std::error_code error;
  auto local = acceptor_.local_endpoint(error);
  if (!error && local.size() >= sizeof(sockaddr_in)) {
    bound_port_ = ntohs(reinterpret_cast<const sockaddr_in*>(local.data())->sin_port);
  }
  open_ = true;
  acceptNext();
  spdlog::info("admin HTTP on {} (GET / for the status page, /status.json, /metrics, /stats)",
               address.toString());
  return {};
}

void HttpServer::close() {
  open_ = false;
  std::error_code ignored;
  acceptor_.close(ignored);
}

void HttpServer::acceptNext() {
  acceptor_.async_accept(
      [this](const std::error_code& error, asio::generic::stream_protocol::socket socket) {
        if (!open_) return;
        if (!error) {
          if (*open_connections_ >= options_.max_connections) {
            std::error_code ignored;
            socket.close(ignored);
          } else {
            std::make_shared<Connection>(*this, std::move(socket), open_connections_)->start();
          }
        }
        acceptNext();
      });
}

std::string HttpServer::respond(std::string_view head) const {
  std::string_view request_line = head.substr(0, head.find("\r\n"));
  size_t first = request_line.find(' ');
  size_t second = first == std::string_view::npos ? first : request_line.find(' ', first + 1);
  if (second == std::string_view::npos || !request_line.substr(second + 1).starts_with("HTTP/1.")) {
    return httpResponse("400 Bad Request", kTextType, "expected an HTTP/1.x request line\n");
  }
  std::string_view method = request_line.substr(0, first);
  std::string_view target = request_line.substr(first + 1, second - first - 1);
  std::string_view path = target.substr(0, target.find('?'));
  bool head_only = method == "HEAD";
  bool known = path == "/" || path == kStatusJsonPath || path == "/metrics" || path == "/stats";
  if (!known) {
    return httpResponse("404 Not Found", kTextType,
                        fmt::format("no such path: {}; try /, /status.json, /metrics or /stats\n",
                                    path.substr(0, 256)),
                        head_only);
  }
  if (method != "GET" && !head_only) {
    return httpResponse(
        "405 Method Not Allowed", kTextType,
        fmt::format("method {} is not allowed on {}: use GET\n", method.substr(0, 32), path), false,
        "Allow: GET, HEAD\r\n");
  }
  if (path == "/") {
    return httpResponse("200 OK", kHtmlType, statusPageHtml(), head_only,
                        "Cache-Control: no-cache\r\n");
  }
  if (path == kStatusJsonPath) {
    return httpResponse("200 OK", kJsonType, content_.status() + "\n", head_only,
                        "Cache-Control: no-store\r\n");
  }
  if (path == "/metrics") {
    return httpResponse("200 OK", kPrometheusContentType, content_.metrics(), head_only);
  }
  return httpResponse("200 OK", kJsonType, content_.stats() + "\n", head_only);
}

}  // namespace sy::admin
