// BackendPool: nodes, the connections kept across assign(), retired connections draining,
// against a fake upstream (backend_test_support.h).
#include "backend/backend_pool.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
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

  NodeSpec spec(std::string server, uint32_t connections = 1, bool preconnect = false,
                uint32_t private_limit = 4) {
    NodeSpec node;
    node.private_limit = private_limit;
    node.private_open = &private_open_;
    node.options = optionsFor(upstream_.port());
    node.options.name = server;
    node.key = ConnectionKey{
        "alpha", server, node.options.address_text, node.options.endpoint, "", 0, connections};
    node.counters = &counters_;
    node.preconnect = preconnect;
    return node;
  }

  // A reply to `request` sent on `connection`, as the upstream's connection `upstream` sees it.
  bool roundTrip(BackendConnection& connection, size_t upstream, const std::string& name) {
    RecordingTarget& reply = target(name);
    if (!connection.send(getRequest(name), reply)) return false;
    if (!runUntil([&] {
          return upstream_.connectionCount() > upstream &&
                 upstream_.received(upstream).ends_with(getRequest(name));
        })) {
      return false;
    }
    upstream_.write(upstream, "$1\r\nv\r\n");
    return runUntil([&] { return reply.calls() == 1; }) && connection.inFlight() == 0;
  }

  std::atomic<int64_t> private_open_{0};  // shared by every node, as if by every worker
  BackendCounters counters_;              // outlives every connection of the pool
  BackendPool pool_{io_};
};

TEST_F(BackendPoolTest, LeasesArePrivateBoundedAndReusedWhenReturnedClean) {
  pool_.assign({spec("a", 1, false, 2)}, false);
  BackendConnection* first = pool_.lease(0, {});
  BackendConnection* second = pool_.lease(0, {});
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_NE(first, second);
  EXPECT_NE(first, &pool_.connection(0, 0, {}));  // never a shared one
  EXPECT_EQ(pool_.lease(0, {}), nullptr);         // past private_limit
  EXPECT_EQ(private_open_.load(), 2);

  ASSERT_TRUE(roundTrip(*first, 0, "one"));
  // At the limit, a returned connection is closed rather than kept idle: an idle one must
  // not refuse another worker's lease.
  pool_.giveBack(*first, true);
  EXPECT_EQ(pool_.idlePrivateCount(), 0u);
  EXPECT_EQ(private_open_.load(), 1);

  ASSERT_TRUE(roundTrip(*second, 1, "two"));
  pool_.giveBack(*second, true);  // below the limit now: kept for the next lease
  EXPECT_EQ(pool_.idlePrivateCount(), 1u);
  EXPECT_EQ(private_open_.load(), 1);
  EXPECT_EQ(pool_.lease(0, {}), second);
  EXPECT_EQ(pool_.leasedCount(), 1u);
}

TEST_F(BackendPoolTest, AnIdleConnectionLoadsTheScriptsRegisteredSinceWhenLeasedOrUsed) {
  ScriptRegistry scripts;
  NodeSpec node = spec("a");
  node.options.scripts = &scripts;
  pool_.assign({node}, false);
  BackendConnection* leased = pool_.lease(0, {});
  ASSERT_NE(leased, nullptr);
  ASSERT_TRUE(roundTrip(*leased, 0, "one"));
  pool_.giveBack(*leased, true);
  BackendConnection& shared = pool_.connection(0, 0, {});
  ASSERT_TRUE(roundTrip(shared, 1, "two"));

  scripts.add("return 1");
  const std::string load = "*3\r\n$6\r\nSCRIPT\r\n$4\r\nLOAD\r\n$8\r\nreturn 1\r\n";
  // Leased again: the script goes ahead of the lease's first request (a MULTI, say).
  ASSERT_EQ(pool_.lease(0, {}), leased);
  RecordingTarget& multi = target("multi");
  std::string_view args[] = {"MULTI"};
  ASSERT_TRUE(leased->sendCommand(args, multi));
  ASSERT_TRUE(receivedExactly(getRequest("one") + load + "*1\r\n$5\r\nMULTI\r\n", 0));
  upstream_.write(0, "$40\r\ne0e1f9fabfc9d4800c877a703b823ac0578ff8db\r\n+OK\r\n");
  ASSERT_TRUE(runUntil([&] { return multi.calls() == 1; }));
  EXPECT_EQ(multi.replies, std::vector<std::string>{"+OK\r\n"});
  pool_.giveBack(*leased, false);
  // The shared connection, handed out for a request.
  RecordingTarget& three = target("three");
  ASSERT_TRUE(pool_.connection(0, 0, {}).send(getRequest("three"), three));
  ASSERT_TRUE(receivedExactly(getRequest("two") + load + getRequest("three"), 1));
  EXPECT_EQ(scripts.reloaded.load(), 2u);
}

TEST_F(BackendPoolTest, ALeaseReturnedDirtyIsClosedAndItsRequestsFail) {
  pool_.assign({spec("a")}, false);
  BackendConnection* leased = pool_.lease(0, {});
  ASSERT_NE(leased, nullptr);
  RecordingTarget& blocked = target("blocked");
  ASSERT_TRUE(leased->send(getRequest("k"), blocked));
  ASSERT_TRUE(receivedExactly(getRequest("k")));
  pool_.giveBack(*leased, false, "the client left");
  ASSERT_EQ(blocked.failures.size(), 1u);
  EXPECT_NE(blocked.failures[0].find("the client left"), std::string::npos);
  EXPECT_EQ(private_open_.load(), 0);
  EXPECT_EQ(pool_.idlePrivateCount(), 0u);
  ASSERT_TRUE(runUntil([&] { return upstream_.connection(0).peer_closed; }));
}

// Closing cancels the connection's read, whose handler is queued and runs in the
// connection's memory: a tick already queued must not destroy it first.
TEST_F(BackendPoolTest, AClosedLeaseOutlivesTheTickAfterItsClose) {
  pool_.assign({spec("a")}, false);
  BackendConnection* leased = pool_.lease(0, {});
  ASSERT_NE(leased, nullptr);
  ASSERT_TRUE(roundTrip(*leased, 0, "k"));  // connected, a read armed
  pool_.giveBack(*leased, false, "the client left");
  EXPECT_EQ(pool_.closedCount(), 1u);
  pool_.expireRequests(common::now());  // the tick queued before the cancelled read
  EXPECT_EQ(pool_.closedCount(), 1u);
  while (io_.poll() > 0) {
  }
  pool_.expireRequests(common::now());
  EXPECT_EQ(pool_.closedCount(), 0u);
}

TEST_F(BackendPoolTest, ALeaseEndedByAnotherLeasesTimeoutIsNotExpiredAfterIt) {
  NodeSpec a = spec("a");
  a.options.timeout_ms = 1;
  pool_.assign({a}, false);
  std::vector<BackendConnection*> leases;
  std::vector<RecordingTarget*> blocked;
  for (int i = 0; i < 4; ++i) {
    leases.push_back(pool_.lease(0, {}));
    ASSERT_NE(leases.back(), nullptr);
    blocked.push_back(&target("blocked" + std::to_string(i)));
    ASSERT_TRUE(leases.back()->send(getRequest("k"), *blocked.back()));
  }
  ASSERT_TRUE(runUntil([&] { return upstream_.connectionCount() == 4; }));
  // Whichever times out first ends every lease, as a session leaving would.
  for (RecordingTarget* target : blocked) {
    target->on_failure = [&] {
      for (BackendConnection*& lease : leases) {
        if (lease != nullptr) pool_.giveBack(*std::exchange(lease, nullptr), false, "gone");
      }
    };
  }
  runFor(5ms);
  pool_.expireRequests(common::now());
  EXPECT_EQ(pool_.leasedCount(), 0u);
  size_t failed = 0;
  for (RecordingTarget* target : blocked) failed += target->failures.size();
  EXPECT_EQ(failed, 4u);  // each request failed once: by its timeout or by its lease's end
  EXPECT_EQ(private_open_.load(), 0);
}

TEST_F(BackendPoolTest, ALeaseServesItsNodeOnlyWhileTheNodesKeyIsUnchanged) {
  pool_.assign({spec("a"), spec("b")}, false);
  BackendConnection* leased = pool_.lease(1, {});
  ASSERT_NE(leased, nullptr);
  EXPECT_TRUE(pool_.leaseServes(*leased, 1));
  EXPECT_FALSE(pool_.leaseServes(*leased, 0));
  pool_.assign({spec("b"), spec("c")}, false);  // "b" moved to node 0
  EXPECT_TRUE(pool_.leaseServes(*leased, 0));
  pool_.assign({spec("c")}, false);  // "b" is gone (a failover names another master)
  EXPECT_FALSE(pool_.leaseServes(*leased, 0));
  pool_.giveBack(*leased, true);  // its node left: closed, not kept
  EXPECT_EQ(pool_.idlePrivateCount(), 0u);
  EXPECT_EQ(private_open_.load(), 0);
}

TEST_F(BackendPoolTest, ANodeWithoutAPrivateCountLeasesNothing) {
  NodeSpec node = spec("a");
  node.private_open = nullptr;
  pool_.assign({node}, false);
  EXPECT_EQ(pool_.lease(0, {}), nullptr);
}

TEST_F(BackendPoolTest, ASessionAlwaysUsesTheSameOfANodesConnections) {
  pool_.assign({spec("a", 3)}, false);
  ASSERT_EQ(pool_.nodeCount(), 1u);
  EXPECT_NE(&pool_.connection(0, 0, {}), &pool_.connection(0, 1, {}));
  EXPECT_NE(&pool_.connection(0, 1, {}), &pool_.connection(0, 2, {}));
  EXPECT_EQ(&pool_.connection(0, 0, {}), &pool_.connection(0, 3, {}));
  EXPECT_EQ(&pool_.connection(0, 7, {}), &pool_.connection(0, 7, {}));
}

TEST_F(BackendPoolTest, AnEqualKeyKeepsItsConnectionsWithTheirRequestsInFlight) {
  pool_.assign({spec("a"), spec("b")}, false);
  BackendConnection& a = pool_.connection(0, 1, {});
  BackendConnection& b = pool_.connection(1, 1, {});
  RecordingTarget& target_a = target("a");
  ASSERT_TRUE(a.send(getRequest("k"), target_a));
  ASSERT_TRUE(receivedExactly(getRequest("k")));

  NodeSpec moved = spec("a");
  moved.options.timeout_ms = 250;  // a knob is applied in place, not a reason to reconnect
  pool_.assign({spec("c"), moved}, false);
  EXPECT_EQ(&pool_.connection(1, 1, {}), &a);  // node 1 now: the same connection
  EXPECT_NE(&pool_.connection(0, 1, {}), &b);  // "c" is new; "b" was idle, so closed at once
  EXPECT_EQ(pool_.retiredCount(), 0u);
  upstream_.write(0, "+kept\r\n");
  ASSERT_TRUE(runUntil([&] { return target_a.calls() == 1; }));
  EXPECT_EQ(target_a.replies, std::vector<std::string>{"+kept\r\n"});
  EXPECT_EQ(upstream_.connectionCount(), 1u);  // nothing reconnected
}

TEST_F(BackendPoolTest, ARetiredConnectionAnswersItsRequestsInFlightThenCloses) {
  pool_.assign({spec("a")}, false);
  RecordingTarget& first = target("first");
  ASSERT_TRUE(pool_.connection(0, 0, {}).send(getRequest("k"), first));
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
  EXPECT_FALSE(pool_.connection(0, 0, {}).isReady());
}

TEST_F(BackendPoolTest, ExpiresTheDeadlinesOfEveryNode) {
  NodeSpec a = spec("a");
  a.options.timeout_ms = 1;
  pool_.assign({spec("b"), a}, false);
  RecordingTarget& slow = target("slow");
  ASSERT_TRUE(pool_.connection(1, 0, {}).send(getRequest("k"), slow));
  ASSERT_TRUE(receivedExactly(getRequest("k")));
  runFor(5ms);
  pool_.expireRequests(common::now());
  ASSERT_EQ(slow.failures.size(), 1u);
  EXPECT_NE(slow.failures[0].find("timed out after 1 ms"), std::string::npos);
}

}  // namespace
}  // namespace sy::backend
