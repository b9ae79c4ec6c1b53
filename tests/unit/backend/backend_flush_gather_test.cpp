// BackendConnection handing its flushes to a FlushGatherer (as a worker's end-of-turn
// SocketBatch does) against a fake upstream (backend_test_support.h).
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "backend/backend_connection.h"
#include "backend_test_support.h"

namespace sy::backend {
namespace {

using namespace test_support;

// Keeps the gathered connections and flushes them when a test ends its "turn", writing
// with send(2) as the worker's SocketBatch does, or reporting a scripted result instead.
class TestGatherer final : public FlushGatherer {
 public:
  void gatherFlush(BackendConnection& connection) override {
    gathered.push_back(&connection);
    ++gathers;
  }
  void forgetFlush(BackendConnection& connection) override {
    std::erase(gathered, &connection);
    forgotten.push_back(&connection);
  }

  // Takes every gathered flush and writes at most `limit` bytes of each with send(2).
  // Returns the bytes taken from all of them.
  size_t endTurn(size_t limit = std::numeric_limits<size_t>::max()) {
    return endTurnWith([limit](BackendConnection& connection, std::span<const char> out) {
      ssize_t n = ::send(connection.fd(), out.data(), std::min(limit, out.size()),
                         MSG_DONTWAIT | MSG_NOSIGNAL);
      return n < 0 ? -static_cast<ssize_t>(errno) : n;
    });
  }
  // Takes every gathered flush and reports `result` for each without writing anything.
  size_t endTurnReporting(ssize_t result) {
    return endTurnWith([result](BackendConnection&, std::span<const char>) { return result; });
  }

  std::vector<BackendConnection*> gathered;
  std::vector<BackendConnection*> forgotten;
  int gathers = 0;

 private:
  template <typename Write>
  size_t endTurnWith(Write write) {
    std::vector<BackendConnection*> turn;
    turn.swap(gathered);
    size_t taken = 0;
    for (BackendConnection* connection : turn) {
      std::span<const char> out = connection->takeGatheredFlush();
      if (out.empty()) continue;
      taken += out.size();
      connection->finishGatheredFlush(write(*connection, out));
    }
    return taken;
  }
};

class BackendFlushGatherTest : public BackendConnectionTest {
 protected:
  // The connection goes before the gatherer it may still be gathered in.
  ~BackendFlushGatherTest() override {
    if (!connection_) return;
    connection_->close("test finished");
    while (io_.poll() > 0) {
    }
    connection_.reset();
  }

  // A connection with the gatherer, connected and past its first (direct) flush.
  BackendConnection& connectGathered() {
    BackendOptions options = optionsFor(upstream_.port());
    options.flush_gatherer = &gatherer_;
    BackendConnection& conn = connect(std::move(options));
    RecordingTarget& first = target("first");
    EXPECT_TRUE(conn.send(getRequest("first"), first));
    EXPECT_TRUE(receivedExactly(getRequest("first")));
    upstream_.write(0, "+first\r\n");
    EXPECT_TRUE(runUntil([&] { return first.calls() == 1; }));
    EXPECT_TRUE(conn.isReady());
    return conn;
  }

  TestGatherer gatherer_;
};

TEST_F(BackendFlushGatherTest, ManySendsInOneTurnAreGatheredOnceAndWrittenTogether) {
  BackendConnection& conn = connectGathered();
  int gathers_before = gatherer_.gathers;
  RecordingTarget &a = target("a"), &b = target("b"), &c = target("c");
  ASSERT_TRUE(conn.send(getRequest("k1"), a));
  ASSERT_TRUE(conn.send(getRequest("k2"), b));
  ASSERT_TRUE(conn.send(getRequest("k3"), c));
  EXPECT_EQ(gatherer_.gathers - gathers_before, 1);
  ASSERT_EQ(gatherer_.gathered, std::vector<BackendConnection*>{&conn});
  runFor(common::Millis(20));  // the connection posts no write of its own
  EXPECT_EQ(upstream_.received(), getRequest("first"));

  std::string expected = getRequest("k1") + getRequest("k2") + getRequest("k3");
  EXPECT_EQ(gatherer_.endTurn(), expected.size());
  ASSERT_TRUE(receivedExactly(getRequest("first") + expected));
  upstream_.write(0, ":1\r\n:2\r\n:3\r\n");
  ASSERT_TRUE(runUntil([&] { return c.calls() == 1; }));
  EXPECT_EQ(a.replies, std::vector<std::string>{":1\r\n"});
  EXPECT_EQ(b.replies, std::vector<std::string>{":2\r\n"});
  EXPECT_EQ(c.replies, std::vector<std::string>{":3\r\n"});
  EXPECT_EQ(conn.counters()[common::ServerStat::in_queue].get(), 0u);
  EXPECT_EQ(conn.counters()[common::ServerStat::out_queue].get(), 0u);
}

TEST_F(BackendFlushGatherTest, ASendAfterTheTakeIsGatheredForTheNextTurn) {
  BackendConnection& conn = connectGathered();
  RecordingTarget &a = target("a"), &b = target("b");
  ASSERT_TRUE(conn.send(getRequest("k1"), a));
  gatherer_.endTurn();
  ASSERT_TRUE(conn.send(getRequest("k2"), b));
  ASSERT_EQ(gatherer_.gathered, std::vector<BackendConnection*>{&conn});
  EXPECT_EQ(gatherer_.endTurn(), getRequest("k2").size());
  EXPECT_TRUE(receivedExactly(getRequest("first") + getRequest("k1") + getRequest("k2")));
}

TEST_F(BackendFlushGatherTest, APartialWriteIsFinishedByTheConnectionItself) {
  BackendConnection& conn = connectGathered();
  RecordingTarget& a = target("a");
  std::string request = getRequest(std::string(5000, 'k'));
  ASSERT_TRUE(conn.send(request, a));
  gatherer_.endTurn(7);  // the socket "took" 7 bytes: the connection writes the rest
  EXPECT_TRUE(gatherer_.gathered.empty());
  EXPECT_TRUE(receivedExactly(getRequest("first") + request));
  upstream_.write(0, "$-1\r\n");
  ASSERT_TRUE(runUntil([&] { return a.calls() == 1; }));
  EXPECT_EQ(a.replies, std::vector<std::string>{"$-1\r\n"});
}

TEST_F(BackendFlushGatherTest, WouldBlockWaitsForRoomAndThenWritesEverything) {
  BackendConnection& conn = connectGathered();
  RecordingTarget &a = target("a"), &b = target("b");
  ASSERT_TRUE(conn.send(getRequest("k1"), a));
  ASSERT_TRUE(conn.send(getRequest("k2"), b));
  gatherer_.endTurnReporting(-EAGAIN);
  // The socket has room: the wait for it ends at once and the connection writes by itself.
  EXPECT_TRUE(receivedExactly(getRequest("first") + getRequest("k1") + getRequest("k2")));
  EXPECT_TRUE(gatherer_.gathered.empty());
  // While that wait was pending nothing else was taken, and the connection works on.
  RecordingTarget& c = target("c");
  ASSERT_TRUE(conn.send(getRequest("k3"), c));
  gatherer_.endTurn();
  EXPECT_TRUE(receivedExactly(getRequest("first") + getRequest("k1") + getRequest("k2") +
                              getRequest("k3")));
}

TEST_F(BackendFlushGatherTest, AWriteErrorFailsEveryRequestInFlight) {
  BackendConnection& conn = connectGathered();
  RecordingTarget &a = target("a"), &b = target("b");
  ASSERT_TRUE(conn.send(getRequest("k1"), a));
  ASSERT_TRUE(conn.send(getRequest("k2"), b));
  gatherer_.endTurnReporting(-EPIPE);
  ASSERT_EQ(a.failures.size(), 1u);
  ASSERT_EQ(b.failures.size(), 1u);
  EXPECT_EQ(a.failures[0], prefix() + " failed: write failed: Broken pipe");
  EXPECT_FALSE(conn.isReady());
  EXPECT_TRUE(conn.isBackingOff());
  EXPECT_EQ(conn.inFlight(), 0u);
}

TEST_F(BackendFlushGatherTest, AConnectionClosedWhileGatheredGivesNothingToWrite) {
  BackendConnection& conn = connectGathered();
  RecordingTarget& a = target("a");
  ASSERT_TRUE(conn.send(getRequest("k1"), a));
  conn.close("test closed it");
  ASSERT_EQ(gatherer_.gathered, std::vector<BackendConnection*>{&conn});
  EXPECT_EQ(gatherer_.endTurn(), 0u);
  EXPECT_EQ(a.failures.size(), 1u);
}

TEST_F(BackendFlushGatherTest, AConnectionDestroyedWhileGatheredIsForgotten) {
  BackendConnection& conn = connectGathered();
  RecordingTarget& a = target("a");
  ASSERT_TRUE(conn.send(getRequest("k1"), a));
  ASSERT_EQ(gatherer_.gathered, std::vector<BackendConnection*>{&conn});
  BackendConnection* destroyed = &conn;
  conn.close("test finished");
  while (io_.poll() > 0) {
  }
  connection_.reset();
  EXPECT_TRUE(gatherer_.gathered.empty());
  EXPECT_EQ(gatherer_.forgotten, std::vector<BackendConnection*>{destroyed});
}

TEST_F(BackendFlushGatherTest, ATakenConnectionIsNotForgottenOnDestruction) {
  BackendConnection& conn = connectGathered();
  RecordingTarget& a = target("a");
  ASSERT_TRUE(conn.send(getRequest("k1"), a));
  gatherer_.endTurn();
  conn.close("test finished");
  while (io_.poll() > 0) {
  }
  connection_.reset();
  EXPECT_TRUE(gatherer_.forgotten.empty());
}

}  // namespace
}  // namespace sy::backend
