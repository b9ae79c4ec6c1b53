// Test support for BackendConnection: a fake upstream (a TCP acceptor on the test's
// io_context that records the exact bytes it receives and answers whatever a test scripts),
// recording reply targets, and the fixture that owns them. Everything runs on the test's
// thread; every wait has a deadline, so a broken connection fails a test instead of hanging.
#pragma once

#include <gtest/gtest.h>

#include <asio/executor_work_guard.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include <array>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backend/backend_connection.h"

namespace sy::backend::test_support {

using asio::ip::tcp;
using namespace std::chrono_literals;

// One accepted connection of the fake upstream.
struct FakeConnection {
  explicit FakeConnection(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
  std::array<char, 16 * 1024> buffer{};
  std::string received;
  bool peer_closed = false;
  std::deque<std::string> writes;  // queued, first one being written
};

// A Redis stand-in: accepts every connection, records what each one sent, writes scripted
// bytes in order (each queued string is a separate write).
class FakeUpstream {
 public:
  explicit FakeUpstream(asio::io_context& io)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    accept();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  size_t connectionCount() const { return connections_.size(); }
  FakeConnection& connection(size_t i) { return *connections_.at(i); }
  const std::string& received(size_t i = 0) const { return connections_.at(i)->received; }

  void write(size_t i, std::string bytes) {
    FakeConnection& conn = *connections_.at(i);
    conn.writes.push_back(std::move(bytes));
    if (conn.writes.size() == 1) writeNext(conn);
  }
  // Writes `bytes` as separate writes of at most `piece` bytes each.
  void writeInPieces(size_t i, std::string_view bytes, size_t piece) {
    for (size_t at = 0; at < bytes.size(); at += piece) {
      write(i, std::string(bytes.substr(at, piece)));
    }
  }
  void close(size_t i) {
    std::error_code ignored;
    connections_.at(i)->socket.close(ignored);
  }

 private:
  void accept() {
    acceptor_.async_accept([this](const std::error_code& error, tcp::socket socket) {
      if (error) return;
      connections_.push_back(std::make_unique<FakeConnection>(std::move(socket)));
      read(*connections_.back());
      accept();
    });
  }
  void read(FakeConnection& conn) {
    conn.socket.async_read_some(asio::buffer(conn.buffer),
                                [this, &conn](const std::error_code& error, size_t n) {
                                  if (error) {
                                    conn.peer_closed = true;
                                    return;
                                  }
                                  conn.received.append(conn.buffer.data(), n);
                                  read(conn);
                                });
  }
  void writeNext(FakeConnection& conn) {
    asio::async_write(conn.socket, asio::buffer(conn.writes.front()),
                      [this, &conn](const std::error_code& error, size_t) {
                        if (error) return;
                        conn.writes.pop_front();
                        if (!conn.writes.empty()) writeNext(conn);
                      });
  }

  tcp::acceptor acceptor_;
  std::vector<std::unique_ptr<FakeConnection>> connections_;
};

// Records the one call it gets, and appends "<name> reply|failure <text>" to a shared log
// so that tests can check the order across targets.
class RecordingTarget final : public ReplyTarget {
 public:
  RecordingTarget(std::string name, std::vector<std::string>& log)
      : name_(std::move(name)), log_(log) {}

  void onBackendReply(std::string_view framed_reply) override {
    replies.emplace_back(framed_reply);
    log_.push_back(name_ + " reply " + std::string(framed_reply));
  }
  void onBackendFailure(std::string_view message) override {
    failures.emplace_back(message);
    log_.push_back(name_ + " failure " + std::string(message));
    if (on_failure) on_failure();
  }
  size_t calls() const { return replies.size() + failures.size(); }

  std::vector<std::string> replies;
  std::vector<std::string> failures;
  std::function<void()> on_failure;

 private:
  std::string name_;
  std::vector<std::string>& log_;
};

// RESP for GET <key>, the request most tests send.
inline std::string getRequest(std::string_view key) {
  return "*2\r\n$3\r\nGET\r\n$" + std::to_string(key.size()) + "\r\n" + std::string(key) + "\r\n";
}

class BackendConnectionTest : public ::testing::Test {
 protected:
  // A connection may be destroyed only once its cancelled operations have run (their
  // handler memory lives inside it): close it and let the loop run dry first.
  ~BackendConnectionTest() override {
    if (!connection_) return;
    for (auto& target : targets_) target->on_failure = nullptr;  // may refer to a test's locals
    connection_->close("test finished");
    while (io_.poll() > 0) {
    }
    connection_.reset();
  }
  // A target that outlives the connection, so requests still in flight when a test ends
  // fail into a live object.
  RecordingTarget& target(std::string name) {
    targets_.push_back(std::make_unique<RecordingTarget>(std::move(name), log_));
    return *targets_.back();
  }
  BackendOptions optionsFor(uint16_t port) {
    BackendOptions options;
    options.name = "redis-a";
    options.address_text = "127.0.0.1:" + std::to_string(port);
    options.endpoint = Endpoint(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    return options;
  }
  BackendConnection& connect(BackendOptions options) {
    connection_ = std::make_unique<BackendConnection>(io_, std::move(options));
    return *connection_;
  }
  BackendConnection& connectToUpstream() { return connect(optionsFor(upstream_.port())); }
  std::string prefix() const {
    return "ERR backend redis-a (127.0.0.1:" + std::to_string(upstream_.port()) + ")";
  }

  // Runs the loop until `done` holds or `limit` passes; returns done().
  bool runUntil(const std::function<bool()>& done, common::Millis limit = 5000ms) {
    auto deadline = common::now() + limit;
    while (!done() && common::now() < deadline) io_.run_one_for(5ms);
    return done();
  }
  void runFor(common::Millis duration) {
    auto deadline = common::now() + duration;
    while (common::now() < deadline) io_.run_one_for(deadline - common::now());
  }
  bool receivedExactly(const std::string& expected, size_t conn = 0) {
    runUntil([&] {
      return upstream_.connectionCount() > conn &&
             upstream_.received(conn).size() >= expected.size();
    });
    return upstream_.connectionCount() > conn && upstream_.received(conn) == expected;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  FakeUpstream upstream_{io_};
  std::vector<std::string> log_;
  std::vector<std::unique_ptr<RecordingTarget>> targets_;
  std::unique_ptr<BackendConnection> connection_;  // destroyed before the upstream and loop
};

}  // namespace sy::backend::test_support
