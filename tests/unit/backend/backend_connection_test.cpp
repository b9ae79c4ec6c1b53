// BackendConnection against a fake upstream (backend_test_support.h).
#include "backend/backend_connection.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "backend_test_support.h"

namespace sy::backend {
namespace {

using namespace test_support;
using namespace std::chrono_literals;

TEST_F(BackendConnectionTest, PipelinesRequestsAndDeliversRepliesInOrder) {
  BackendConnection& conn = connectToUpstream();
  RecordingTarget &a = target("a"), &b = target("b"), &c = target("c");
  ASSERT_TRUE(conn.send(getRequest("k1"), a));
  ASSERT_TRUE(conn.send(getRequest("k2"), b));
  ASSERT_TRUE(conn.send(getRequest("k3"), c));
  EXPECT_EQ(conn.inFlight(), 3u);
  // All three are written before any reply exists: pipelined, in send order.
  ASSERT_TRUE(receivedExactly(getRequest("k1") + getRequest("k2") + getRequest("k3")));
  EXPECT_TRUE(conn.isReady());
  EXPECT_TRUE(log_.empty());

  upstream_.write(0, "$2\r\nv1\r\n:2\r\n+three\r\n");
  ASSERT_TRUE(runUntil([&] { return log_.size() == 3; }));
  EXPECT_EQ(log_, (std::vector<std::string>{"a reply $2\r\nv1\r\n", "b reply :2\r\n",
                                            "c reply +three\r\n"}));
  EXPECT_EQ(conn.inFlight(), 0u);
  EXPECT_EQ(a.calls(), 1u);
  EXPECT_EQ(b.calls(), 1u);
  EXPECT_EQ(c.calls(), 1u);
}

TEST_F(BackendConnectionTest, RepliesSplitAcrossOneByteWritesAreFramed) {
  BackendConnection& conn = connectToUpstream();
  RecordingTarget &a = target("a"), &b = target("b");
  ASSERT_TRUE(conn.send(getRequest("x"), a));
  ASSERT_TRUE(conn.send(getRequest("y"), b));
  ASSERT_TRUE(receivedExactly(getRequest("x") + getRequest("y")));
  upstream_.writeInPieces(0, "*2\r\n$1\r\na\r\n$-1\r\n-ERR no\r\n", 1);
  ASSERT_TRUE(runUntil([&] { return log_.size() == 2; }));
  EXPECT_EQ(log_,
            (std::vector<std::string>{"a reply *2\r\n$1\r\na\r\n$-1\r\n", "b reply -ERR no\r\n"}));
}

TEST_F(BackendConnectionTest, ReassemblesOneMebibyteBulkWrittenInSmallPieces) {
  BackendConnection& conn = connectToUpstream();
  RecordingTarget &big = target("big"), &after = target("after");
  ASSERT_TRUE(conn.send(getRequest("big"), big));
  ASSERT_TRUE(conn.send(getRequest("after"), after));
  ASSERT_TRUE(receivedExactly(getRequest("big") + getRequest("after")));

  std::string payload(1 << 20, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
  payload[1000] = '\r';  // CRLF inside a bulk is data, not a terminator
  payload[1001] = '\n';
  std::string reply = "$1048576\r\n" + payload + "\r\n";
  upstream_.writeInPieces(0, reply + ":7\r\n", 1000);
  ASSERT_TRUE(runUntil([&] { return after.calls() == 1; }, 20000ms));
  ASSERT_EQ(big.replies.size(), 1u);
  EXPECT_TRUE(big.replies[0] == reply) << "reply of " << big.replies[0].size() << " bytes differs";
  EXPECT_EQ(after.replies, std::vector<std::string>{":7\r\n"});
  EXPECT_EQ(conn.counters()[common::ServerStat::response_bytes].get(), reply.size() + 4);
}

TEST_F(BackendConnectionTest, SendsAuthThenSelectBeforeTheFirstRequest) {
  BackendOptions options = optionsFor(upstream_.port());
  options.auth = "s3cret";
  options.db = 3;
  BackendConnection& conn = connect(options);
  RecordingTarget& a = target("a");
  ASSERT_TRUE(conn.send(getRequest("k"), a));
  ASSERT_TRUE(
      receivedExactly("*2\r\n$4\r\nAUTH\r\n$6\r\ns3cret\r\n"
                      "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n" +
                      getRequest("k")));
  upstream_.write(0, "+OK\r\n+OK\r\n$1\r\nv\r\n");
  ASSERT_TRUE(runUntil([&] { return a.calls() == 1; }));
  // The handshake replies are swallowed; the request gets its own reply.
  EXPECT_EQ(log_, std::vector<std::string>{"a reply $1\r\nv\r\n"});
  EXPECT_TRUE(conn.isReady());
  EXPECT_EQ(conn.inFlight(), 0u);
}

TEST_F(BackendConnectionTest, OnlySelectIsSentWhenThereIsNoPassword) {
  BackendOptions options = optionsFor(upstream_.port());
  options.db = 12;
  BackendConnection& conn = connect(options);
  RecordingTarget& a = target("a");
  ASSERT_TRUE(conn.send(getRequest("k"), a));
  ASSERT_TRUE(receivedExactly("*2\r\n$6\r\nSELECT\r\n$2\r\n12\r\n" + getRequest("k")));
}

TEST_F(BackendConnectionTest, ARESP3ConnectionSaysHelloAfterAuthAndSkipsStrayPushes) {
  BackendOptions options = optionsFor(upstream_.port());
  options.auth = "pw";
  options.db = 2;
  options.protocol = 3;
  BackendConnection& conn = connect(options);
  RecordingTarget& a = target("a");
  ASSERT_TRUE(conn.send(getRequest("k"), a));
  ASSERT_TRUE(
      receivedExactly("*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n"
                      "*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n" +
                      getRequest("k")));
  // A push (out of band) before the reply is not the request's reply.
  upstream_.write(0,
                  "+OK\r\n%1\r\n$5\r\nproto\r\n:3\r\n+OK\r\n"
                  ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n_\r\n");
  ASSERT_TRUE(runUntil([&] { return a.calls() == 1; }));
  EXPECT_EQ(log_, std::vector<std::string>{"a reply _\r\n"});
  EXPECT_TRUE(conn.isReady());
}

TEST_F(BackendConnectionTest, ABackendWithoutRESP3FailsTheConnection) {
  BackendOptions options = optionsFor(upstream_.port());
  options.protocol = 3;
  BackendConnection& conn = connect(options);
  RecordingTarget& a = target("a");
  ASSERT_TRUE(conn.send(getRequest("k"), a));
  ASSERT_TRUE(receivedExactly("*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n" + getRequest("k")));
  upstream_.write(0, "-ERR unknown command 'HELLO'\r\n");
  ASSERT_TRUE(runUntil([&] { return a.calls() == 1; }));
  ASSERT_EQ(a.failures.size(), 1u);
  EXPECT_NE(a.failures[0].find("HELLO 3"), std::string::npos) << a.failures[0];
  EXPECT_NE(a.failures[0].find("unknown command"), std::string::npos) << a.failures[0];
}

TEST_F(BackendConnectionTest, HandshakeRepliesAreNotCountedAsResponses) {
  BackendOptions options = optionsFor(upstream_.port());
  options.auth = "pw";
  options.db = 1;
  BackendConnection& conn = connect(options);
  RecordingTarget& a = target("a");
  ASSERT_TRUE(conn.send(getRequest("k"), a));
  ASSERT_TRUE(receivedExactly("*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n" +
                              getRequest("k")));
  upstream_.write(0, "+OK\r\n+OK\r\n:1\r\n");
  ASSERT_TRUE(runUntil([&] { return a.calls() == 1; }));
  // twemproxy counts neither the handshake requests nor their replies; requests and
  // responses must agree so that requests - responses reads as "outstanding".
  EXPECT_EQ(conn.counters()[common::ServerStat::requests].get(), 1u);
  EXPECT_EQ(conn.counters()[common::ServerStat::responses].get(), 1u);
  EXPECT_EQ(conn.counters()[common::ServerStat::response_bytes].get(), 4u);  // ":1\r\n" only
  EXPECT_EQ(conn.counters().connects.get(), 1u);
}

TEST_F(BackendConnectionTest, RejectedAuthFailsTheConnectionAndEveryRequest) {
  BackendOptions options = optionsFor(upstream_.port());
  options.auth = "wrong";
  BackendConnection& conn = connect(options);
  RecordingTarget &a = target("a"), &b = target("b");
  ASSERT_TRUE(conn.send(getRequest("k1"), a));
  ASSERT_TRUE(conn.send(getRequest("k2"), b));
  ASSERT_TRUE(
      receivedExactly("*2\r\n$4\r\nAUTH\r\n$5\r\nwrong\r\n" + getRequest("k1") + getRequest("k2")));
  // The request replies are already on the wire behind the AUTH error; none is delivered.
  upstream_.write(0, "-WRONGPASS invalid username-password pair\r\n$1\r\nx\r\n$1\r\ny\r\n");
  ASSERT_TRUE(runUntil([&] { return a.calls() == 1 && b.calls() == 1; }));
  std::string expected =
      prefix() + " failed: backend rejected AUTH: WRONGPASS invalid username-password pair";
  EXPECT_EQ(a.failures, std::vector<std::string>{expected});
  EXPECT_EQ(b.failures, std::vector<std::string>{expected});
  EXPECT_TRUE(a.replies.empty());
  EXPECT_TRUE(b.replies.empty());
  EXPECT_FALSE(conn.isReady());
  EXPECT_EQ(conn.inFlight(), 0u);
  EXPECT_EQ(conn.counters()[common::ServerStat::server_connections].get(), 0u);
  // The proxy hung up on the backend.
  EXPECT_TRUE(runUntil([&] { return upstream_.connection(0).peer_closed; }));

  RecordingTarget& c = target("c");
  EXPECT_FALSE(conn.send(getRequest("k3"), c));
  EXPECT_NE(conn.unavailableMessage().find("rejected AUTH"), std::string::npos)
      << conn.unavailableMessage();
}

TEST_F(BackendConnectionTest, RejectedSelectFailsTheConnection) {
  BackendOptions options = optionsFor(upstream_.port());
  options.db = 99;
  BackendConnection& conn = connect(options);
  RecordingTarget& a = target("a");
  ASSERT_TRUE(conn.send(getRequest("k"), a));
  ASSERT_TRUE(receivedExactly("*2\r\n$6\r\nSELECT\r\n$2\r\n99\r\n" + getRequest("k")));
  upstream_.write(0, "-ERR DB index is out of range\r\n$1\r\nv\r\n");
  ASSERT_TRUE(runUntil([&] { return a.calls() == 1; }));
  EXPECT_EQ(a.failures,
            std::vector<std::string>{
                prefix() + " failed: backend rejected SELECT: ERR DB index is out of range"});
  EXPECT_FALSE(conn.isReady());
}

TEST_F(BackendConnectionTest, TimedOutRequestFailsAloneAndItsLateReplyIsDropped) {
  BackendOptions options = optionsFor(upstream_.port());
  options.timeout_ms = 100;
  BackendConnection& conn = connect(options);
  RecordingTarget &slow = target("slow"), &next = target("next");
  ASSERT_TRUE(conn.send(getRequest("slow"), slow));
  ASSERT_TRUE(receivedExactly(getRequest("slow")));
  runFor(150ms);  // past slow's deadline
  ASSERT_TRUE(conn.send(getRequest("next"), next));
  conn.expireRequests(common::now());

  std::string expected = prefix() + " timed out after 100 ms";
  EXPECT_EQ(log_, std::vector<std::string>{"slow failure " + expected});
  EXPECT_EQ(next.calls(), 0u);  // its deadline has not passed
  EXPECT_TRUE(conn.isReady());  // one slow request does not cost the connection
  EXPECT_EQ(conn.inFlight(), 2u);
  EXPECT_EQ(conn.counters()[common::ServerStat::server_timedout].get(), 1u);

  ASSERT_TRUE(receivedExactly(getRequest("slow") + getRequest("next")));
  upstream_.write(0, "$4\r\nlate\r\n$4\r\nmine\r\n");
  ASSERT_TRUE(runUntil([&] { return next.calls() == 1; }));
  EXPECT_EQ(next.replies, std::vector<std::string>{"$4\r\nmine\r\n"});
  EXPECT_EQ(slow.calls(), 1u);  // the late reply went nowhere
  EXPECT_EQ(conn.inFlight(), 0u);
  EXPECT_TRUE(conn.isReady());
  EXPECT_EQ(conn.counters()[common::ServerStat::responses].get(), 2u);
  EXPECT_EQ(upstream_.connectionCount(), 1u);

  // And the connection keeps working.
  RecordingTarget& third = target("third");
  ASSERT_TRUE(conn.send(getRequest("3"), third));
  ASSERT_TRUE(receivedExactly(getRequest("slow") + getRequest("next") + getRequest("3")));
  upstream_.write(0, "+fine\r\n");
  ASSERT_TRUE(runUntil([&] { return third.calls() == 1; }));
  EXPECT_EQ(third.replies, std::vector<std::string>{"+fine\r\n"});
}

TEST_F(BackendConnectionTest, ExpireDoesNothingWithoutATimeout) {
  BackendConnection& conn = connectToUpstream();  // timeout_ms -1: wait forever
  RecordingTarget& a = target("a");
  ASSERT_TRUE(conn.send(getRequest("k"), a));
  ASSERT_TRUE(receivedExactly(getRequest("k")));
  conn.expireRequests(common::now() + std::chrono::hours(24));
  EXPECT_EQ(a.calls(), 0u);
  EXPECT_TRUE(conn.isReady());
  EXPECT_EQ(conn.counters()[common::ServerStat::server_timedout].get(), 0u);
}

TEST_F(BackendConnectionTest, StalledConnectionIsResetAfterTheStallLimit) {
  BackendOptions options = optionsFor(upstream_.port());
  options.timeout_ms = 100;
  BackendConnection& conn = connect(options);
  RecordingTarget &a = target("a"), &b = target("b");
  ASSERT_TRUE(conn.send(getRequest("a"), a));
  ASSERT_TRUE(conn.send(getRequest("b"), b));
  ASSERT_TRUE(receivedExactly(getRequest("a") + getRequest("b")));
  // Past the deadline but within the stall limit (max(10 x timeout, 10 s)): kept.
  conn.expireRequests(common::now() + 5000ms);
  EXPECT_EQ(a.failures.size(), 1u);
  EXPECT_EQ(b.failures.size(), 1u);
  EXPECT_TRUE(conn.isReady());
  // No reply for more than 10 s past the oldest deadline: the backend is stuck.
  conn.expireRequests(common::now() + 10200ms);
  EXPECT_FALSE(conn.isReady());
  EXPECT_EQ(conn.inFlight(), 0u);
  EXPECT_EQ(conn.counters()[common::ServerStat::server_err].get(), 1u);
  EXPECT_EQ(conn.counters()[common::ServerStat::server_timedout].get(), 2u);
  EXPECT_EQ(conn.unavailableMessage(), prefix() + " is unavailable: no reply for 10000 ms");
  EXPECT_EQ(a.calls(), 1u);
  EXPECT_EQ(b.calls(), 1u);
}

TEST_F(BackendConnectionTest, UpstreamCloseFailsEveryRequestInFlight) {
  BackendConnection& conn = connectToUpstream();
  RecordingTarget &a = target("a"), &b = target("b"), &c = target("c");
  ASSERT_TRUE(conn.send(getRequest("a"), a));
  ASSERT_TRUE(conn.send(getRequest("b"), b));
  ASSERT_TRUE(conn.send(getRequest("c"), c));
  ASSERT_TRUE(receivedExactly(getRequest("a") + getRequest("b") + getRequest("c")));
  upstream_.write(0, "+first\r\n");
  ASSERT_TRUE(runUntil([&] { return a.calls() == 1; }));
  upstream_.close(0);
  ASSERT_TRUE(runUntil([&] { return log_.size() == 3; }));
  std::string lost = prefix() + " failed: connection closed by backend";
  EXPECT_EQ(log_, (std::vector<std::string>{"a reply +first\r\n", "b failure " + lost,
                                            "c failure " + lost}));
  EXPECT_FALSE(conn.isReady());
  EXPECT_EQ(conn.inFlight(), 0u);
  EXPECT_EQ(conn.counters()[common::ServerStat::server_eof].get(), 1u);
  EXPECT_EQ(conn.counters()[common::ServerStat::server_connections].get(), 0u);
  EXPECT_EQ(conn.counters()[common::ServerStat::out_queue].get(), 0u);
  EXPECT_EQ(conn.counters()[common::ServerStat::out_queue_bytes].get(), 0u);
}

TEST_F(BackendConnectionTest, RefusesDuringBackoffThenReconnects) {
  BackendConnection& conn = connectToUpstream();
  RecordingTarget& a = target("a");
  ASSERT_TRUE(conn.send(getRequest("a"), a));
  ASSERT_TRUE(receivedExactly(getRequest("a")));
  upstream_.close(0);
  ASSERT_TRUE(runUntil([&] { return a.calls() == 1; }));

  RecordingTarget& refused = target("refused");
  EXPECT_FALSE(conn.send(getRequest("r"), refused));
  EXPECT_EQ(conn.unavailableMessage(), prefix() + " is unavailable: connection closed by backend");
  EXPECT_EQ(conn.inFlight(), 0u);
  runFor(30ms);
  EXPECT_EQ(upstream_.connectionCount(), 1u);  // no reconnect while backing off

  // The first backoff is 100 ms; then the next send reconnects.
  runFor(150ms);
  RecordingTarget& b = target("b");
  ASSERT_TRUE(conn.send(getRequest("b"), b));
  ASSERT_TRUE(receivedExactly(getRequest("b"), 1));
  upstream_.write(1, "+again\r\n");
  ASSERT_TRUE(runUntil([&] { return b.calls() == 1; }));
  EXPECT_EQ(b.replies, std::vector<std::string>{"+again\r\n"});
  EXPECT_EQ(refused.calls(), 0u);
  EXPECT_TRUE(conn.isReady());
  EXPECT_EQ(conn.counters()[common::ServerStat::server_connections].get(), 1u);
  EXPECT_EQ(upstream_.connectionCount(), 2u);
}

TEST_F(BackendConnectionTest, TargetSendingFromItsFailureCallbackIsRefused) {
  BackendConnection& conn = connectToUpstream();
  RecordingTarget &a = target("a"), &retry = target("retry");
  bool retry_accepted = true;
  a.on_failure = [&] { retry_accepted = conn.send(getRequest("retry"), retry); };
  ASSERT_TRUE(conn.send(getRequest("a"), a));
  ASSERT_TRUE(receivedExactly(getRequest("a")));
  upstream_.close(0);
  ASSERT_TRUE(runUntil([&] { return a.calls() == 1; }));
  EXPECT_FALSE(retry_accepted);
  EXPECT_EQ(retry.calls(), 0u);
  EXPECT_EQ(conn.inFlight(), 0u);
}

TEST_F(BackendConnectionTest, ConnectingToAClosedPortFailsPromptly) {
  uint16_t closed_port;
  {
    tcp::acceptor probe(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = probe.local_endpoint().port();
  }
  BackendConnection& conn = connect(optionsFor(closed_port));
  RecordingTarget &a = target("a"), &b = target("b");
  ASSERT_TRUE(conn.send(getRequest("a"), a));  // accepted while connecting
  ASSERT_TRUE(conn.send(getRequest("b"), b));
  auto started = common::now();
  ASSERT_TRUE(runUntil([&] { return a.calls() == 1 && b.calls() == 1; }, 2000ms));
  EXPECT_LT(common::now() - started, 1000ms);
  std::string expected = "ERR backend redis-a (127.0.0.1:" + std::to_string(closed_port) +
                         ") failed: Connection refused";
  EXPECT_EQ(a.failures, std::vector<std::string>{expected});
  EXPECT_EQ(b.failures, std::vector<std::string>{expected});
  EXPECT_FALSE(conn.isReady());
  RecordingTarget& c = target("c");
  EXPECT_FALSE(conn.send(getRequest("c"), c));
  EXPECT_NE(conn.unavailableMessage().find("Connection refused"), std::string::npos);
}

TEST_F(BackendConnectionTest, MalformedReplyFailsTheConnection) {
  BackendConnection& conn = connectToUpstream();
  RecordingTarget &a = target("a"), &b = target("b");
  ASSERT_TRUE(conn.send(getRequest("a"), a));
  ASSERT_TRUE(conn.send(getRequest("b"), b));
  ASSERT_TRUE(receivedExactly(getRequest("a") + getRequest("b")));
  upstream_.write(0, "+ok\r\n?garbage\r\n");
  ASSERT_TRUE(runUntil([&] { return b.calls() == 1; }));
  EXPECT_EQ(a.replies, std::vector<std::string>{"+ok\r\n"});
  EXPECT_EQ(b.failures, std::vector<std::string>{
                            prefix() + " failed: malformed reply: reply: unknown type byte"});
  EXPECT_FALSE(conn.isReady());
  EXPECT_EQ(conn.counters()[common::ServerStat::server_err].get(), 1u);
  EXPECT_TRUE(runUntil([&] { return upstream_.connection(0).peer_closed; }));
}

// A client decides what its request makes Redis answer (EVAL returns any table it builds):
// no reply of legal RESP may cost the other requests on the connection anything.
TEST_F(BackendConnectionTest, ReplyNestedAnyDepthIsDeliveredAndTheConnectionKept) {
  BackendConnection& conn = connectToUpstream();
  RecordingTarget &a = target("a"), &b = target("b"), &c = target("c");
  ASSERT_TRUE(conn.send(getRequest("a"), a));
  ASSERT_TRUE(conn.send(getRequest("b"), b));
  ASSERT_TRUE(conn.send(getRequest("c"), c));
  ASSERT_TRUE(receivedExactly(getRequest("a") + getRequest("b") + getRequest("c")));
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "*1\r\n";
  deep += ":1\r\n";
  upstream_.write(0, "+before\r\n" + deep);
  upstream_.writeInPieces(0, "+" + std::string(200 * 1024, 's') + "\r\n", 1000);
  ASSERT_TRUE(runUntil([&] { return c.calls() == 1; }));
  EXPECT_EQ(a.replies, std::vector<std::string>{"+before\r\n"});
  EXPECT_EQ(b.replies, std::vector<std::string>{deep});
  EXPECT_EQ(c.replies.at(0).size(), 200 * 1024 + 3);
  EXPECT_TRUE(conn.isReady());
  EXPECT_EQ(conn.counters()[common::ServerStat::server_err].get(), 0u);
}

TEST_F(BackendConnectionTest, OversizedReplyFailsOnlyItsRequest) {
  BackendOptions options = optionsFor(upstream_.port());
  options.max_reply_bytes = 64 * 1024;
  BackendConnection& conn = connect(std::move(options));
  RecordingTarget &a = target("a"), &big = target("big"), &b = target("b");
  ASSERT_TRUE(conn.send(getRequest("a"), a));
  ASSERT_TRUE(conn.send(getRequest("big"), big));
  ASSERT_TRUE(conn.send(getRequest("b"), b));
  ASSERT_TRUE(receivedExactly(getRequest("a") + getRequest("big") + getRequest("b")));
  const std::string bulk = "$1000000\r\n" + std::string(1000000, 'x') + "\r\n";
  upstream_.write(0, ":1\r\n");
  upstream_.writeInPieces(0, bulk + "+after\r\n", 4096);
  ASSERT_TRUE(runUntil([&] { return b.calls() == 1; }));
  EXPECT_EQ(a.replies, std::vector<std::string>{":1\r\n"});
  EXPECT_EQ(big.replies, std::vector<std::string>{
                             "-ERR the backend's reply is 1000012 bytes, more than the 65536-byte "
                             "limit on a reply the proxy forwards; the command was executed\r\n"});
  EXPECT_EQ(b.replies, std::vector<std::string>{"+after\r\n"});
  EXPECT_TRUE(conn.isReady());
  EXPECT_EQ(conn.counters()[common::ServerStat::server_err].get(), 0u);
  EXPECT_EQ(conn.counters()[common::ServerStat::response_bytes].get(), 4 + bulk.size() + 8);
}

TEST_F(BackendConnectionTest, UnsolicitedReplyFailsTheConnection) {
  BackendConnection& conn = connectToUpstream();
  RecordingTarget& a = target("a");
  ASSERT_TRUE(conn.send(getRequest("a"), a));
  ASSERT_TRUE(receivedExactly(getRequest("a")));
  upstream_.write(0, "+ok\r\n+extra\r\n");
  ASSERT_TRUE(runUntil([&] { return !conn.isReady(); }));
  EXPECT_EQ(a.replies, std::vector<std::string>{"+ok\r\n"});
  EXPECT_EQ(conn.counters()[common::ServerStat::server_err].get(), 1u);
  EXPECT_EQ(conn.unavailableMessage(),
            prefix() + " is unavailable: reply with no request in flight");
}

TEST_F(BackendConnectionTest, CountersFollowRequestsAndReplies) {
  BackendConnection& conn = connectToUpstream();
  RecordingTarget &a = target("a"), &b = target("b");
  std::string request_a = getRequest("a");
  std::string request_b = "*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$5\r\nvalue\r\n";
  ASSERT_TRUE(conn.send(request_a, a));
  ASSERT_TRUE(conn.send(request_b, b));
  EXPECT_EQ(conn.counters()[common::ServerStat::requests].get(), 2u);
  EXPECT_EQ(conn.counters()[common::ServerStat::request_bytes].get(),
            request_a.size() + request_b.size());
  ASSERT_TRUE(receivedExactly(request_a + request_b));
  EXPECT_EQ(conn.counters()[common::ServerStat::server_connections].get(), 1u);
  // Written, waiting for replies.
  EXPECT_EQ(conn.counters()[common::ServerStat::in_queue].get(), 0u);
  EXPECT_EQ(conn.counters()[common::ServerStat::in_queue_bytes].get(), 0u);
  EXPECT_EQ(conn.counters()[common::ServerStat::out_queue].get(), 2u);
  EXPECT_EQ(conn.counters()[common::ServerStat::out_queue_bytes].get(),
            request_a.size() + request_b.size());

  upstream_.write(0, "$3\r\nval\r\n");
  ASSERT_TRUE(runUntil([&] { return a.calls() == 1; }));
  EXPECT_EQ(conn.counters()[common::ServerStat::responses].get(), 1u);
  EXPECT_EQ(conn.counters()[common::ServerStat::out_queue].get(), 1u);
  EXPECT_EQ(conn.counters()[common::ServerStat::out_queue_bytes].get(), request_b.size());
  upstream_.write(0, "+OK\r\n");
  ASSERT_TRUE(runUntil([&] { return b.calls() == 1; }));
  EXPECT_EQ(conn.counters()[common::ServerStat::responses].get(), 2u);
  EXPECT_EQ(conn.counters()[common::ServerStat::response_bytes].get(), 9u + 5u);
  EXPECT_EQ(conn.counters()[common::ServerStat::out_queue].get(), 0u);
  EXPECT_EQ(conn.counters()[common::ServerStat::out_queue_bytes].get(), 0u);
  EXPECT_EQ(conn.counters()[common::ServerStat::server_eof].get(), 0u);
  EXPECT_EQ(conn.counters()[common::ServerStat::server_err].get(), 0u);
  EXPECT_EQ(conn.counters()[common::ServerStat::server_timedout].get(), 0u);
}

// Two connections of one server add into one block; each withdraws its share of the gauges
// when it goes, and the counters it added stay.
TEST_F(BackendConnectionTest, ConnectionsShareOneCountersBlockThatOutlivesThem) {
  BackendCounters shared;
  auto first = std::make_unique<BackendConnection>(io_, optionsFor(upstream_.port()), shared);
  auto second = std::make_unique<BackendConnection>(io_, optionsFor(upstream_.port()), shared);
  RecordingTarget a("a", log_), b("b", log_), c("c", log_);
  ASSERT_TRUE(first->send(getRequest("a"), a));
  ASSERT_TRUE(second->send(getRequest("b"), b));
  ASSERT_TRUE(second->send(getRequest("c"), c));
  ASSERT_TRUE(runUntil([&] { return shared[common::ServerStat::server_connections].get() == 2; }));
  ASSERT_TRUE(runUntil([&] { return shared[common::ServerStat::out_queue].get() == 3; }));
  EXPECT_EQ(shared[common::ServerStat::requests].get(), 3u);
  EXPECT_EQ(first->counters()[common::ServerStat::requests].get(), 3u)
      << "counters() is the shared block";

  second->close("retired");  // two requests in flight
  while (io_.poll() > 0) {   // its cancelled operations run before it is destroyed
  }
  second.reset();
  EXPECT_EQ(shared[common::ServerStat::server_connections].get(), 1u);
  EXPECT_EQ(shared[common::ServerStat::out_queue].get(), 1u);
  EXPECT_EQ(shared[common::ServerStat::out_queue_bytes].get(), getRequest("a").size());
  EXPECT_EQ(shared[common::ServerStat::requests].get(), 3u);
  first->close("test over");
  while (io_.poll() > 0) {
  }
  EXPECT_EQ(shared[common::ServerStat::server_connections].get(), 0u);
  EXPECT_EQ(shared[common::ServerStat::out_queue].get(), 0u);
  EXPECT_EQ(shared[common::ServerStat::out_queue_bytes].get(), 0u);
  EXPECT_EQ(a.failures.size(), 1u);
}

// A reload's new timeout applies to the next requests on a kept connection; a request
// already in flight keeps its deadline.
TEST_F(BackendConnectionTest, UpdateKnobsChangesTheTimeoutOfLaterRequests) {
  BackendConnection& conn = connectToUpstream();
  RecordingTarget before("before", log_), after("after", log_);
  ASSERT_TRUE(conn.send(getRequest("before"), before));  // no timeout: waits forever
  conn.updateKnobs(50, true);
  ASSERT_TRUE(conn.send(getRequest("after"), after));
  ASSERT_TRUE(receivedExactly(getRequest("before") + getRequest("after")));
  runFor(120ms);
  conn.expireRequests(common::now());
  EXPECT_EQ(before.calls(), 0u);
  ASSERT_EQ(after.failures.size(), 1u);
  EXPECT_EQ(after.failures[0], prefix() + " timed out after 50 ms");
  upstream_.write(0, "$1\r\n1\r\n$1\r\n2\r\n");
  ASSERT_TRUE(runUntil([&] { return before.calls() == 1; }));
  EXPECT_EQ(before.replies, std::vector<std::string>{"$1\r\n1\r\n"});
  EXPECT_TRUE(conn.isReady()) << "the late reply to 'after' is dropped, the connection kept";
  EXPECT_EQ(conn.inFlight(), 0u);
}

class CountingHealth final : public HealthObserver {
 public:
  void onServerFailure() override { ++failures; }
  void onServerRecovered() override { ++recoveries; }
  int failures = 0;
  int recoveries = 0;
};

// auto_eject_hosts input: requests timing out in one pass are one failure; the first reply
// after it is one recovery; a refused connect is a failure; close() is not.
TEST_F(BackendConnectionTest, ReportsFailuresAndTheFirstReplyAfterThem) {
  CountingHealth health;
  BackendOptions options = optionsFor(upstream_.port());
  options.timeout_ms = 50;
  options.health = &health;
  BackendConnection& conn = connect(options);
  RecordingTarget a("a", log_), b("b", log_), c("c", log_);
  ASSERT_TRUE(conn.send(getRequest("a"), a));
  ASSERT_TRUE(conn.send(getRequest("b"), b));
  ASSERT_TRUE(receivedExactly(getRequest("a") + getRequest("b")));
  runFor(100ms);
  conn.expireRequests(common::now());
  EXPECT_EQ(a.failures.size() + b.failures.size(), 2u);
  EXPECT_EQ(health.failures, 1);
  EXPECT_EQ(health.recoveries, 0);
  ASSERT_TRUE(conn.send(getRequest("c"), c));
  upstream_.write(0, "+1\r\n+2\r\n+3\r\n");
  ASSERT_TRUE(runUntil([&] { return c.calls() == 1; }));
  EXPECT_EQ(health.recoveries, 1) << "only the first reply after a failure";
  conn.close("done");
  EXPECT_EQ(health.failures, 1) << "closing is not a failure";

  CountingHealth refused_health;
  BackendOptions refused = optionsFor(1);  // nothing listens on port 1
  refused.health = &refused_health;
  BackendConnection refused_conn(io_, refused);
  RecordingTarget d("d", log_);
  if (refused_conn.send(getRequest("d"), d)) {
    ASSERT_TRUE(runUntil([&] { return d.calls() == 1; }));
  }
  EXPECT_EQ(refused_health.failures, 1);
}

TEST_F(BackendConnectionTest, SendCommandEncodesResp) {
  BackendConnection& conn = connectToUpstream();
  RecordingTarget& a = target("a");
  std::string_view args[] = {"SET", "key", "two\r\nlines", ""};
  ASSERT_TRUE(conn.sendCommand(args, a));
  std::string expected = "*4\r\n$3\r\nSET\r\n$3\r\nkey\r\n$10\r\ntwo\r\nlines\r\n$0\r\n\r\n";
  ASSERT_TRUE(receivedExactly(expected));
  EXPECT_EQ(conn.counters()[common::ServerStat::request_bytes].get(), expected.size());
  upstream_.write(0, "+OK\r\n");
  ASSERT_TRUE(runUntil([&] { return a.calls() == 1; }));
  EXPECT_EQ(a.replies, std::vector<std::string>{"+OK\r\n"});
}

TEST_F(BackendConnectionTest, CloseFailsInFlightWithTheReasonAndAllowsAnImmediateReconnect) {
  BackendConnection& conn = connectToUpstream();
  RecordingTarget& a = target("a");
  ASSERT_TRUE(conn.send(getRequest("a"), a));
  ASSERT_TRUE(receivedExactly(getRequest("a")));
  conn.close("shutting down");
  EXPECT_EQ(a.failures, std::vector<std::string>{prefix() + " failed: shutting down"});
  EXPECT_FALSE(conn.isReady());
  // Closed on purpose, not backing off: the next send connects again at once.
  RecordingTarget& b = target("b");
  ASSERT_TRUE(conn.send(getRequest("b"), b));
  ASSERT_TRUE(receivedExactly(getRequest("b"), 1));
  upstream_.write(1, ":5\r\n");
  ASSERT_TRUE(runUntil([&] { return b.calls() == 1; }));
  EXPECT_EQ(b.replies, std::vector<std::string>{":5\r\n"});
}

TEST_F(BackendConnectionTest, ConnectIfIdlePreconnectsWithoutSendingAnything) {
  BackendConnection& conn = connectToUpstream();
  EXPECT_FALSE(conn.isReady());
  conn.connectIfIdle();
  ASSERT_TRUE(runUntil([&] { return conn.isReady() && upstream_.connectionCount() == 1; }));
  runFor(20ms);
  EXPECT_EQ(upstream_.received(0), "");
  EXPECT_EQ(conn.counters()[common::ServerStat::server_connections].get(), 1u);
  conn.connectIfIdle();  // already connected: no second connection
  runFor(20ms);
  EXPECT_EQ(upstream_.connectionCount(), 1u);
}

// RESP for SCRIPT LOAD <body>, as a connection sends it on its own.
std::string scriptLoad(std::string_view body) {
  return "*3\r\n$6\r\nSCRIPT\r\n$4\r\nLOAD\r\n$" + std::to_string(body.size()) + "\r\n" +
         std::string(body) + "\r\n";
}

TEST_F(BackendConnectionTest, LoadsEveryScriptAfterTheHandshakeAndBeforeTheFirstRequest) {
  ScriptRegistry scripts;
  scripts.add("return 1");
  scripts.add("return {");
  BackendOptions options = optionsFor(upstream_.port());
  options.auth = "pw";
  options.scripts = &scripts;
  BackendConnection& conn = connect(options);
  RecordingTarget& a = target("a");
  ASSERT_TRUE(conn.send(getRequest("k"), a));
  ASSERT_TRUE(receivedExactly("*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n" + scriptLoad("return 1") +
                              scriptLoad("return {") + getRequest("k")));
  // A refused script is counted and the connection goes on: the request gets its own reply.
  upstream_.write(0,
                  "+OK\r\n$40\r\ne0e1f9fabfc9d4800c877a703b823ac0578ff8db\r\n"
                  "-ERR Error compiling script\r\n$1\r\nv\r\n");
  ASSERT_TRUE(runUntil([&] { return a.calls() == 1; }));
  EXPECT_EQ(log_, std::vector<std::string>{"a reply $1\r\nv\r\n"});
  EXPECT_TRUE(conn.isReady());
  EXPECT_EQ(conn.inFlight(), 0u);
  EXPECT_EQ(scripts.reloaded.load(), 2u);
  EXPECT_EQ(scripts.reload_errors.load(), 1u);
  // Not client requests in twemproxy's counts.
  EXPECT_EQ(conn.counters()[common::ServerStat::requests].get(), 1u);
  EXPECT_EQ(conn.counters()[common::ServerStat::responses].get(), 1u);
}

TEST_F(BackendConnectionTest, ScriptsRegisteredLaterGoFirstWhenTheConnectionIsHandedOut) {
  ScriptRegistry scripts;
  scripts.add("return 1");
  BackendOptions options = optionsFor(upstream_.port());
  options.scripts = &scripts;
  BackendConnection& conn = connect(options);
  RecordingTarget &a = target("a"), &b = target("b");
  ASSERT_TRUE(conn.send(getRequest("a"), a));
  ASSERT_TRUE(receivedExactly(scriptLoad("return 1") + getRequest("a")));
  upstream_.write(0, "$1\r\nx\r\n:1\r\n");
  ASSERT_TRUE(runUntil([&] { return a.calls() == 1; }));
  EXPECT_EQ(a.replies, std::vector<std::string>{":1\r\n"});

  scripts.add("return 2");
  conn.loadNewScripts();
  conn.loadNewScripts();  // up to date: nothing more
  ASSERT_TRUE(conn.send(getRequest("b"), b));
  ASSERT_TRUE(receivedExactly(scriptLoad("return 1") + getRequest("a") + scriptLoad("return 2") +
                              getRequest("b")));
  upstream_.write(0, "$1\r\ny\r\n:2\r\n");
  ASSERT_TRUE(runUntil([&] { return b.calls() == 1; }));
  EXPECT_EQ(b.replies, std::vector<std::string>{":2\r\n"});
  EXPECT_EQ(scripts.reloaded.load(), 2u);

  // A new connection (the node may have restarted) loads them all again.
  conn.close("reconnect");
  RecordingTarget& c = target("c");
  ASSERT_TRUE(conn.send(getRequest("c"), c));
  ASSERT_TRUE(
      receivedExactly(scriptLoad("return 1") + scriptLoad("return 2") + getRequest("c"), 1));
  EXPECT_EQ(scripts.reloaded.load(), 4u);
}

TEST_F(BackendConnectionTest, ASubscribedConnectionGetsNoScriptsWhenHandedOut) {
  ScriptRegistry scripts;
  BackendOptions options = optionsFor(upstream_.port());
  options.scripts = &scripts;
  BackendConnection& conn = connect(options);
  RecordingTarget& subscriber = target("subscriber");
  conn.setSubscriber(&subscriber);
  std::string_view subscribe[] = {"SUBSCRIBE", "c"};
  ASSERT_TRUE(conn.sendUnpaired(subscribe));
  const std::string request = "*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\nc\r\n";
  ASSERT_TRUE(receivedExactly(request));
  scripts.add("return 1");
  conn.loadNewScripts();  // SCRIPT LOAD is not allowed in subscriber mode
  runFor(20ms);
  EXPECT_EQ(upstream_.received(0), request);
  EXPECT_EQ(scripts.reloaded.load(), 0u);
}

}  // namespace
}  // namespace sy::backend
