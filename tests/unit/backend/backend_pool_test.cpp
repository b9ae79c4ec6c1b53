// BackendPool: nodes, the connections kept across assign(), retired connections draining,
// against a fake upstream (backend_test_support.h).
#include "backend/backend_pool.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backend_test_support.h"

namespace sy::backend {
namespace {

using namespace test_support;

class BackendPoolTest : public BackendConnectionTest {
 protected:
  ~BackendPoolTest() override {
    pool_.closeAll("test finished");
    while (io_.poll() > 0) {
    }
    pool_.assign({}, false);
    pool_.expireRequests(common::now());  // destroys the closed connections
    pool_.expireRequests(common::now());
  }

  NodeSpec spec(std::string server, uint32_t connections = 1, bool preconnect = false) {
    NodeSpec node;
    node.options = optionsFor(upstream_.port());
    node.options.name = server;
    node.key = ConnectionKey{
        "alpha", server, node.options.address_text, node.options.endpoint, "", 0, connections};
    node.counters = &counters_;
    node.preconnect = preconnect;
    return node;
  }

  BackendCounters counters_;  // outlives every connection of the pool
  BackendPool pool_{io_};
};

TEST_F(BackendPoolTest, ASessionAlwaysUsesTheSameOfANodesConnections) {
  pool_.assign({spec("a", 3)}, false);
  ASSERT_EQ(pool_.nodeCount(), 1u);
  EXPECT_NE(&pool_.connection(0, 0), &pool_.connection(0, 1));
  EXPECT_NE(&pool_.connection(0, 1), &pool_.connection(0, 2));
  EXPECT_EQ(&pool_.connection(0, 0), &pool_.connection(0, 3));
  EXPECT_EQ(&pool_.connection(0, 7), &pool_.connection(0, 7));
}

TEST_F(BackendPoolTest, AnEqualKeyKeepsItsConnectionsWithTheirRequestsInFlight) {
  pool_.assign({spec("a"), spec("b")}, false);
  BackendConnection& a = pool_.connection(0, 1);
  BackendConnection& b = pool_.connection(1, 1);
  RecordingTarget& target_a = target("a");
  ASSERT_TRUE(a.send(getRequest("k"), target_a));
  ASSERT_TRUE(receivedExactly(getRequest("k")));

  NodeSpec moved = spec("a");
  moved.options.timeout_ms = 250;  // a knob is applied in place, not a reason to reconnect
  pool_.assign({spec("c"), moved}, false);
  EXPECT_EQ(&pool_.connection(1, 1), &a);  // node 1 now: the same connection
  EXPECT_NE(&pool_.connection(0, 1), &b);  // "c" is new; "b" was idle, so closed at once
  EXPECT_EQ(pool_.retiredCount(), 0u);
  upstream_.write(0, "+kept\r\n");
  ASSERT_TRUE(runUntil([&] { return target_a.calls() == 1; }));
  EXPECT_EQ(target_a.replies, std::vector<std::string>{"+kept\r\n"});
  EXPECT_EQ(upstream_.connectionCount(), 1u);  // nothing reconnected
}

TEST_F(BackendPoolTest, ARetiredConnectionAnswersItsRequestsInFlightThenCloses) {
  pool_.assign({spec("a")}, false);
  RecordingTarget& first = target("first");
  ASSERT_TRUE(pool_.connection(0, 0).send(getRequest("k"), first));
  ASSERT_TRUE(receivedExactly(getRequest("k")));
  pool_.assign({}, false);
  EXPECT_EQ(pool_.nodeCount(), 0u);
  EXPECT_EQ(pool_.retiredCount(), 1u);
  pool_.expireRequests(common::now());
  EXPECT_EQ(pool_.retiredCount(), 1u);  // still waiting for its reply
  upstream_.write(0, "$1\r\nv\r\n");
  ASSERT_TRUE(runUntil([&] { return first.calls() == 1; }));
  EXPECT_EQ(first.replies, std::vector<std::string>{"$1\r\nv\r\n"});
  pool_.expireRequests(common::now());
  EXPECT_EQ(pool_.retiredCount(), 0u);
  EXPECT_TRUE(runUntil([&] { return upstream_.connection(0).peer_closed; }));
}

TEST_F(BackendPoolTest, PreconnectedNodesConnectBeforeAnyRequest) {
  pool_.assign({spec("lazy"), spec("eager", 2, true)}, false);
  runFor(50ms);
  EXPECT_EQ(upstream_.connectionCount(), 0u);  // start-up waits for connectPreconnected()
  pool_.connectPreconnected();
  EXPECT_TRUE(runUntil([&] { return upstream_.connectionCount() == 2; }));
  // A swap connects its new preconnected nodes at once.
  pool_.assign({spec("lazy"), spec("eager", 2, true), spec("new", 1, true)}, true);
  EXPECT_TRUE(runUntil([&] { return upstream_.connectionCount() == 3; }));
  runFor(50ms);
  EXPECT_EQ(upstream_.connectionCount(), 3u);  // "lazy" never connected
  EXPECT_FALSE(pool_.connection(0, 0).isReady());
}

TEST_F(BackendPoolTest, ExpiresTheDeadlinesOfEveryNode) {
  NodeSpec a = spec("a");
  a.options.timeout_ms = 1;
  pool_.assign({spec("b"), a}, false);
  RecordingTarget& slow = target("slow");
  ASSERT_TRUE(pool_.connection(1, 0).send(getRequest("k"), slow));
  ASSERT_TRUE(receivedExactly(getRequest("k")));
  runFor(5ms);
  pool_.expireRequests(common::now());
  ASSERT_EQ(slow.failures.size(), 1u);
  EXPECT_NE(slow.failures[0].find("timed out after 1 ms"), std::string::npos);
}

}  // namespace
}  // namespace sy::backend
