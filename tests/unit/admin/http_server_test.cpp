// The admin HTTP routes and errors (respond()), and one real request over a socket.
#include "admin/http_server.h"

#include <gtest/gtest.h>

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <string>
#include <thread>

namespace sy::admin {
namespace {

HttpServer makeServer(asio::io_context& io, uint16_t port = 0) {
  return HttpServer(
      io,
      {[] { return std::string("metrics-body\n"); }, [] { return std::string("{\"json\":1}"); },
       [] { return std::string("{\"status\":1}"); }},
      {"127.0.0.1", port});
}

std::string statusOf(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}

std::string bodyOf(const std::string& response) {
  return response.substr(response.find("\r\n\r\n") + 4);
}

TEST(HttpServer, RoutesMetricsAndStats) {
  asio::io_context io;
  HttpServer server = makeServer(io);
  std::string metrics = server.respond("GET /metrics HTTP/1.1\r\nHost: x");
  EXPECT_EQ(statusOf(metrics), "HTTP/1.1 200 OK");
  EXPECT_NE(metrics.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos);
  EXPECT_NE(metrics.find("Content-Length: 13\r\n"), std::string::npos);
  EXPECT_NE(metrics.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(bodyOf(metrics), "metrics-body\n");
  std::string stats = server.respond("GET /stats?x=1 HTTP/1.0");
  EXPECT_EQ(statusOf(stats), "HTTP/1.1 200 OK");
  EXPECT_NE(stats.find("Content-Type: application/json\r\n"), std::string::npos);
  EXPECT_EQ(bodyOf(stats), "{\"json\":1}\n");
  std::string head = server.respond("HEAD /metrics HTTP/1.1");
  EXPECT_EQ(statusOf(head), "HTTP/1.1 200 OK");
  EXPECT_NE(head.find("Content-Length: 13\r\n"), std::string::npos);
  EXPECT_EQ(bodyOf(head), "");
}

TEST(HttpServer, RoutesTheStatusPageAndItsData) {
  asio::io_context io;
  HttpServer server = makeServer(io);
  std::string page = server.respond("GET / HTTP/1.1\r\nHost: x");
  EXPECT_EQ(statusOf(page), "HTTP/1.1 200 OK");
  EXPECT_NE(page.find("Content-Type: text/html; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(page.find("Cache-Control: no-cache\r\n"), std::string::npos);
  EXPECT_TRUE(bodyOf(page).starts_with("<!doctype html>"));
  EXPECT_NE(bodyOf(page).find("fetch(\"status.json\""), std::string::npos);
  std::string status = server.respond("GET /status.json HTTP/1.1");
  EXPECT_EQ(statusOf(status), "HTTP/1.1 200 OK");
  EXPECT_NE(status.find("Content-Type: application/json\r\n"), std::string::npos);
  EXPECT_NE(status.find("Cache-Control: no-store\r\n"), std::string::npos);
  EXPECT_EQ(bodyOf(status), "{\"status\":1}\n");
  std::string head = server.respond("HEAD / HTTP/1.1");
  EXPECT_EQ(statusOf(head), "HTTP/1.1 200 OK");
  EXPECT_EQ(bodyOf(head), "");
}

TEST(HttpServer, ErrorsSayWhy) {
  asio::io_context io;
  HttpServer server = makeServer(io);
  std::string missing = server.respond("GET /nope HTTP/1.1");
  EXPECT_EQ(statusOf(missing), "HTTP/1.1 404 Not Found");
  EXPECT_EQ(bodyOf(missing), "no such path: /nope; try /, /status.json, /metrics or /stats\n");
  std::string post = server.respond("POST /metrics HTTP/1.1\r\nContent-Length: 0");
  EXPECT_EQ(statusOf(post), "HTTP/1.1 405 Method Not Allowed");
  EXPECT_NE(post.find("Allow: GET, HEAD\r\n"), std::string::npos);
  EXPECT_EQ(bodyOf(post), "method POST is not allowed on /metrics: use GET\n");
  EXPECT_EQ(statusOf(server.respond("hello")), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(statusOf(server.respond("GET /metrics SPDY/3")), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(statusOf(server.respond("")), "HTTP/1.1 400 Bad Request");
}

std::string roundTrip(uint16_t port, const std::string& request) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  std::error_code error;
  asio::write(socket, asio::buffer(request), error);  // may fail: a refused connection
  std::string response;
  asio::read(socket, asio::dynamic_buffer(response), error);
  return response;
}

TEST(HttpServer, ServesOverASocketAndBoundsTheRequestHead) {
  asio::io_context io;
  HttpServer server = makeServer(io);
  ASSERT_TRUE(server.open().ok());
  ASSERT_NE(server.port(), 0);
  std::thread loop([&] { io.run(); });
  std::string ok = roundTrip(server.port(), "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(statusOf(ok), "HTTP/1.1 200 OK");
  EXPECT_EQ(bodyOf(ok), "metrics-body\n");
  std::string big = roundTrip(
      server.port(), "GET /metrics HTTP/1.1\r\nX: " + std::string(10000, 'a') + "\r\n\r\n");
  EXPECT_EQ(statusOf(big), "HTTP/1.1 431 Request Header Fields Too Large");
  asio::post(io, [&] {
    server.close();
    io.stop();
  });
  loop.join();
}

TEST(HttpServer, ConnectionsPastTheLimitAreClosedAndSlowClientsTimeOut) {
  asio::io_context io;
  HttpServerOptions options{"127.0.0.1", 0};
  options.max_connections = 1;
  options.timeout = std::chrono::milliseconds(300);
  HttpServer server(io,
                    {[] { return std::string("m"); }, [] { return std::string("s"); },
                     [] { return std::string("{}"); }},
                    options);
  ASSERT_TRUE(server.open().ok());
  std::thread loop([&] { io.run(); });
  asio::io_context client_io;
  asio::ip::tcp::socket silent(client_io);
  silent.connect({asio::ip::make_address("127.0.0.1"), server.port()});
  asio::write(silent, asio::buffer(std::string("GET /met")));
  // The silent client holds the only slot until its head times out: a second one is closed.
  std::string refused = roundTrip(server.port(), "GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(refused, "");
  std::string timed_out;
  std::error_code error;
  asio::read(silent, asio::dynamic_buffer(timed_out), error);
  EXPECT_EQ(statusOf(timed_out), "HTTP/1.1 408 Request Timeout");
  // Its slot is free again.
  std::string ok;
  for (int attempt = 0; attempt < 100 && statusOf(ok) != "HTTP/1.1 200 OK"; ++attempt) {
    ok = roundTrip(server.port(), "GET /metrics HTTP/1.1\r\n\r\n");
  }
  EXPECT_EQ(statusOf(ok), "HTTP/1.1 200 OK");
  asio::post(io, [&] {
    server.close();
    io.stop();
  });
  loop.join();
}

TEST(HttpServer, BusyPortIsAClearError) {
  asio::io_context io;
  HttpServer first = makeServer(io);
  ASSERT_TRUE(first.open().ok());
  HttpServer second = makeServer(io, first.port());
  auto opened = second.open();
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("admin: cannot listen on 127.0.0.1:"), std::string::npos)
      << opened.error().message;
}

}  // namespace
}  // namespace sy::admin
