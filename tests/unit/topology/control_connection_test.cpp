// ControlConnection against a fake upstream on 127.0.0.1 that checks the bytes it receives:
// AUTH before the first request, pipelined replies in order, deadlines, refused AUTH,
// refused connections, and close() dropping handlers; and against a resolved endpoint (TCP
// or a unix socket).
#include "topology/control_connection.h"

#include <gtest/gtest.h>

#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sy::topology {
namespace {

using asio::ip::tcp;

// One step of a fake upstream's script: the bytes it must receive next, and what it answers
// (nothing when empty) after `delay`.
struct Exchange {
  std::string expect;
  std::string answer;
  common::Millis delay{0};
};

// Accepts one connection and plays `script` in order: reads exactly the expected bytes,
// checks them, answers; then keeps the socket open.
class FakeUpstream {
 public:
  FakeUpstream(asio::io_context& io, std::string expect, std::string answer)
      : FakeUpstream(io, std::vector<Exchange>{{std::move(expect), std::move(answer)}}) {}
  FakeUpstream(asio::io_context& io, std::vector<Exchange> script)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        socket_(io),
        timer_(io),
        script_(std::move(script)) {
    acceptor_.async_accept(socket_, [this](const std::error_code& error) {
      if (error) return;
      ++accepted;
      play(0);
    });
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int accepted = 0;

 private:
  void play(size_t step) {
    if (step >= script_.size()) return;
    received_.resize(script_[step].expect.size());
    asio::async_read(socket_, asio::buffer(received_),
                     [this, step](const std::error_code& e, size_t) {
                       if (e) return;
                       EXPECT_EQ(received_, script_[step].expect);
                       timer_.expires_after(script_[step].delay);
                       timer_.async_wait([this, step](const std::error_code& error) {
                         if (error) return;
                         const std::string& answer = script_[step].answer;
                         if (!answer.empty()) asio::write(socket_, asio::buffer(answer));
                         play(step + 1);
                       });
                     });
  }

  tcp::acceptor acceptor_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  std::vector<Exchange> script_;
  std::string received_;
};

struct Outcome {
  std::optional<common::Result<std::string>> reply;
};

std::shared_ptr<ControlConnection> connect(asio::io_context& io, uint16_t port,
                                           std::string password = "",
                                           common::Millis timeout = common::Millis(2000)) {
  return ControlConnection::create(io, {"127.0.0.1", port},
                                   {"", std::move(password), common::Millis(2000), timeout});
}

void runUntil(asio::io_context& io, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(10));
  }
}

TEST(ControlConnection, AuthThenPipelinedReplies) {
  asio::io_context io;
  FakeUpstream upstream(io,
                        "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nROLE\r\n",
                        "+OK\r\n+PONG\r\n*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
  auto connection = connect(io, upstream.port(), "pw");
  Outcome ping, role;
  connection->request({"PING"}, [&](common::Result<std::string> r) { ping.reply = r; });
  connection->request({"ROLE"}, [&](common::Result<std::string> r) { role.reply = r; });
  runUntil(io, [&] { return role.reply.has_value(); });
  ASSERT_TRUE(ping.reply && ping.reply->ok());
  EXPECT_EQ(**ping.reply, "+PONG\r\n");
  ASSERT_TRUE(role.reply && role.reply->ok());
  EXPECT_EQ(**role.reply, "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
  EXPECT_TRUE(connection->isConnected());
}

TEST(ControlConnection, TimedRequestOpensTheConnectionWithPingFirst) {
  asio::io_context io;
  const std::string role = "*1\r\n$4\r\nROLE\r\n";
  const std::string master = "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n";
  // ROLE is sent only once the PING is answered, and then measured; on the open connection
  // the next one goes out at once.
  FakeUpstream upstream(io, {{"*1\r\n$4\r\nPING\r\n", "+PONG\r\n", common::Millis(500)},
                             {role, master, common::Millis(30)},
                             {role, master}});
  auto connection = connect(io, upstream.port());
  Outcome first, second;
  int64_t first_rtt = 0, second_rtt = 0;
  connection->requestTimed({"ROLE"}, [&](common::Result<std::string> r, int64_t rtt_usec) {
    first.reply = r;
    first_rtt = rtt_usec;
  });
  runUntil(io, [&] { return first.reply.has_value(); });
  ASSERT_TRUE(first.reply && first.reply->ok());
  EXPECT_EQ(**first.reply, master);
  EXPECT_GE(first_rtt, 30'000);  // the reply's delay, not the PING's
  EXPECT_LT(first_rtt, 500'000);
  connection->requestTimed({"ROLE"}, [&](common::Result<std::string> r, int64_t rtt_usec) {
    second.reply = r;
    second_rtt = rtt_usec;
  });
  runUntil(io, [&] { return second.reply.has_value(); });
  ASSERT_TRUE(second.reply && second.reply->ok());
  EXPECT_GT(second_rtt, 0);
  EXPECT_LT(second_rtt, 500'000);
}

TEST(ControlConnection, RefusedAuthFailsEveryRequest) {
  asio::io_context io;
  FakeUpstream upstream(io, "*2\r\n$4\r\nAUTH\r\n$5\r\nwrong\r\n*1\r\n$4\r\nPING\r\n",
                        "-WRONGPASS invalid username-password pair\r\n");
  auto connection = connect(io, upstream.port(), "wrong");
  Outcome ping;
  connection->request({"PING"}, [&](common::Result<std::string> r) { ping.reply = r; });
  runUntil(io, [&] { return ping.reply.has_value(); });
  ASSERT_TRUE(ping.reply && !ping.reply->ok());
  EXPECT_EQ(ping.reply->error().message, "AUTH refused: WRONGPASS invalid username-password pair");
  EXPECT_FALSE(connection->isConnected());
}

TEST(ControlConnection, SilentPeerMissesTheDeadline) {
  asio::io_context io;
  FakeUpstream upstream(io, "*1\r\n$4\r\nPING\r\n", "");
  auto connection = connect(io, upstream.port(), "", common::Millis(100));
  Outcome ping;
  auto started = std::chrono::steady_clock::now();
  connection->request({"PING"}, [&](common::Result<std::string> r) { ping.reply = r; });
  runUntil(io, [&] { return ping.reply.has_value(); });
  ASSERT_TRUE(ping.reply && !ping.reply->ok());
  EXPECT_NE(ping.reply->error().message.find("did not answer within 100 ms"), std::string::npos)
      << ping.reply->error().message;
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(100));
  EXPECT_FALSE(connection->isConnected());
}

TEST(ControlConnection, RefusedConnection) {
  asio::io_context io;
  uint16_t port = 0;
  {
    tcp::acceptor closed(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = closed.local_endpoint().port();
  }
  auto connection = connect(io, port);
  Outcome ping;
  connection->request({"PING"}, [&](common::Result<std::string> r) { ping.reply = r; });
  runUntil(io, [&] { return ping.reply.has_value(); });
  ASSERT_TRUE(ping.reply && !ping.reply->ok());
  EXPECT_NE(ping.reply->error().message.find("cannot connect to 127.0.0.1:"), std::string::npos)
      << ping.reply->error().message;
  // A timed request reports the failure of the PING that was to open the connection.
  io.restart();  // it ran out of work
  Outcome timed;
  int64_t rtt = 0;
  connection->requestTimed({"ROLE"}, [&](common::Result<std::string> r, int64_t rtt_usec) {
    timed.reply = r;
    rtt = rtt_usec;
  });
  runUntil(io, [&] { return timed.reply.has_value(); });
  ASSERT_TRUE(timed.reply && !timed.reply->ok());
  EXPECT_EQ(rtt, -1);
}

TEST(ControlConnection, CloseDropsHandlers) {
  asio::io_context io;
  FakeUpstream upstream(io, "*1\r\n$4\r\nPING\r\n", "+PONG\r\n");
  auto connection = connect(io, upstream.port());
  bool called = false;
  connection->request({"PING"}, [&](common::Result<std::string>) { called = true; });
  connection->close();
  io.run_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(called);
}

TEST(ControlConnection, SubscribedPushesGoToTheMessageHandler) {
  asio::io_context io;
  std::string confirm = "*3\r\n$9\r\nsubscribe\r\n$6\r\n+sdown\r\n:1\r\n";
  std::string message = "*3\r\n$7\r\nmessage\r\n$6\r\n+sdown\r\n$13\r\nmaster g0 h 1\r\n";
  FakeUpstream upstream(io, "*2\r\n$9\r\nSUBSCRIBE\r\n$6\r\n+sdown\r\n", confirm + message);
  auto connection = connect(io, upstream.port());
  Outcome confirmed;
  std::string pushed;
  connection->subscribe(
      {"+sdown"}, [&](common::Result<std::string> r) { confirmed.reply = r; },
      [&](std::string_view framed) { pushed = std::string(framed); }, [](std::string_view) {});
  runUntil(io, [&] { return !pushed.empty(); });
  ASSERT_TRUE(confirmed.reply && confirmed.reply->ok());
  EXPECT_EQ(**confirmed.reply, confirm);
  EXPECT_EQ(pushed, message);
}

TEST(ControlConnection, ToAnEndpointTheRequestTimeoutCoversConnectingWhenConnectTimeoutIsZero) {
  asio::io_context io;
  FakeUpstream upstream(io, "*1\r\n$4\r\nPING\r\n", "");
  ControlConnection::Endpoint endpoint(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), upstream.port()));
  auto connection = ControlConnection::create(io, endpoint, "silent",
                                              {"", "", common::Millis(0), common::Millis(100)});
  Outcome ping;
  auto started = std::chrono::steady_clock::now();
  connection->request({"PING"}, [&](common::Result<std::string> r) { ping.reply = r; });
  runUntil(io, [&] { return ping.reply.has_value(); });
  ASSERT_TRUE(ping.reply && !ping.reply->ok());
  EXPECT_EQ(ping.reply->error().message, "silent did not answer within 100 ms");
  EXPECT_EQ(upstream.accepted, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1000));
}

TEST(ControlConnection, ToAUnixSocketEndpoint) {
  asio::io_context io;
  std::string path = testing::TempDir() + "control_connection_" + std::to_string(::getpid());
  ::unlink(path.c_str());
  using Local = asio::local::stream_protocol;
  Local::acceptor acceptor(io, Local::endpoint(path));
  Local::socket peer(io);
  std::string received(14, '\0');
  acceptor.async_accept(peer, [&](const std::error_code& error) {
    if (error) return;
    asio::async_read(peer, asio::buffer(received), [&](const std::error_code& e, size_t) {
      if (!e) asio::write(peer, asio::buffer(std::string("+PONG\r\n")));
    });
  });
  ControlConnection::Endpoint endpoint{Local::endpoint(path)};
  auto connection = ControlConnection::create(io, endpoint, path, {});
  Outcome ping;
  connection->request({"PING"}, [&](common::Result<std::string> r) { ping.reply = r; });
  runUntil(io, [&] { return ping.reply.has_value(); });
  ASSERT_TRUE(ping.reply && ping.reply->ok());
  EXPECT_EQ(**ping.reply, "+PONG\r\n");
  EXPECT_EQ(received, "*1\r\n$4\r\nPING\r\n");

  // A socket that is gone: the failure names its path.
  connection->close();
  acceptor.close();
  ::unlink(path.c_str());
  io.restart();
  auto gone = ControlConnection::create(io, endpoint, path, {});
  Outcome failed;
  gone->request({"PING"}, [&](common::Result<std::string> r) { failed.reply = r; });
  runUntil(io, [&] { return failed.reply.has_value(); });
  ASSERT_TRUE(failed.reply && !failed.reply->ok());
  EXPECT_EQ(failed.reply->error().message.rfind("cannot connect to " + path + ": ", 0), 0u)
      << failed.reply->error().message;
}

}  // namespace
}  // namespace sy::topology
