// ClientSession driven through SessionHost by a fake host: no worker, no event loop, no
// sockets. The test hands the session its input as a read would, answers the requests the
// session sends as a backend would, and collects what the session writes.
#include "server/client_session.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../topology/build_topology.h"
#include "resp/encoder.h"
#include "resp/errors.h"
#include "resp/request_parser.h"
#include "server/proxy_stats.h"
#include "server/session_host.h"

namespace sy::server {
namespace {

constexpr std::string_view kOneServer =
    "alpha:\n"
    "  listen: 127.0.0.1:22121\n"
    "  servers:\n"
    "    - 127.0.0.1:6379:1 a\n";

constexpr std::string_view kTwoShards =
    "alpha:\n"
    "  listen: 127.0.0.1:22121\n"
    "  hash: fnv1a_64\n"
    "  distribution: ketama\n"
    "  servers:\n"
    "    - 127.0.0.1:6379:1 a\n"
    "    - 127.0.0.1:6380:1 b\n";

constexpr std::string_view kWithPassword =
    "alpha:\n"
    "  listen: 127.0.0.1:22121\n"
    "  client_auth: sesame\n"
    "  servers:\n"
    "    - 127.0.0.1:6379:1 a\n";

// One request the session handed to a backend.
struct Sent {
  uint32_t server;
  bool read_only;
  std::vector<std::string> args;
  backend::ReplyTarget* target;
  int db;
  int protocol;
};

class FakeHost final : public SessionHost {
 public:
  explicit FakeHost(std::string_view yaml) : topology_(topology::buildFromYaml(yaml)) {}

  const topology::PoolTopology& pool(uint32_t index) const override {
    return topology_->pools()[index];
  }
  const std::string* sendRequest(uint32_t /*pool*/, uint32_t server, uint64_t /*session_id*/,
                                 backend::Setup setup, bool read_only, std::string_view raw,
                                 std::span<const std::string_view> args,
                                 backend::ReplyTarget& target,
                                 common::TimePoint /*received*/) override {
    if (!refusal.empty()) return &refusal;
    Sent sent_request{server, read_only, {}, &target, setup.db, setup.protocol};
    if (raw.empty()) {
      sent_request.args.assign(args.begin(), args.end());
    } else {
      resp::RequestParser parser;
      resp::Request parsed;
      size_t consumed = 0;
      EXPECT_EQ(parser.parse(raw, consumed, parsed), resp::ParseStatus::kOk);
      EXPECT_EQ(consumed, raw.size());
      sent_request.args.assign(parsed.args.begin(), parsed.args.end());
    }
    sent.push_back(std::move(sent_request));
    return nullptr;
  }
  // Private connections: the fake has none to lease; it records who asked.
  backend::BackendConnection* leaseConnection(uint32_t /*pool*/, uint32_t server,
                                              backend::Setup /*setup*/, int64_t waited_ms,
                                              const std::string*& error) override {
    lease_requests.push_back(server);
    lease_waits_ms.push_back(waited_ms);
    error = &lease_refusal;
    return nullptr;
  }
  void returnConnection(backend::BackendConnection& /*connection*/, bool /*reusable*/,
                        std::string_view /*reason*/) override {}
  bool leaseServes(const backend::BackendConnection& /*connection*/, uint32_t /*pool*/,
                   uint32_t /*server*/) const override {
    return false;
  }
  bool masterPending(uint32_t /*pool*/, uint32_t /*server*/, uint64_t /*session_id*/,
                     backend::Setup /*setup*/) override {
    return master_pending;
  }
  bool redirect(PendingRequest& /*request*/, std::string_view framed_reply) override {
    redirected.emplace_back(framed_reply);
    return false;
  }
  uint32_t noteRedirection(uint32_t /*pool*/, const route::Redirection& /*redirection*/) override {
    return kNoServer;
  }
  void slotTableStale(uint32_t /*pool*/) override {}
  void waitForMaster(ClientSession& session) override { master_waiters.push_back(&session); }
  void watchClient(int /*fd*/, ClientSession& /*session*/, uint32_t /*old_events*/,
                   uint32_t new_events) override {
    interest = new_events;
  }
  void deferFlush(ClientSession& session) override { flushes.push_back(&session); }
  void deferCall(std::function<void()> call) override { calls.push_back(std::move(call)); }
  void destroySession(ClientSession& /*session*/) override { on_destroy(); }
  ProxyStats& proxyStats() override { return stats_; }
  asio::io_context& io() override { return io_; }

  std::vector<Sent> sent;
  std::vector<std::string> redirected;  // error replies offered to redirect()
  std::string refusal;                  // not empty: sendRequest refuses with it
  std::vector<uint32_t> lease_requests;
  std::vector<int64_t> lease_waits_ms;  // what each lease request says it waited
  std::string lease_refusal = "ERR no private connection in this test";
  bool master_pending = false;  // every group's master is being switched
  std::vector<ClientSession*> master_waiters;
  uint32_t interest = 0;
  std::vector<ClientSession*> flushes;
  std::vector<std::function<void()>> calls;
  std::function<void()> on_destroy;

 private:
  std::shared_ptr<const topology::Topology> topology_;
  ProxyStats stats_;
  asio::io_context io_;
};

class ClientSessionTest : public ::testing::Test {
 protected:
  // `fd`: the session's socket (-1: none; it writes nothing itself then).
  void start(std::string_view yaml, int fd = -1) {
    host_ = std::make_unique<FakeHost>(yaml);
    host_->on_destroy = [this] { session_.reset(); };
    session_ = std::make_unique<ClientSession>(*host_, fd, false, 0, counters_, open_clients_, 1);
    session_->start();
  }
  ~ClientSessionTest() override {
    if (session_) session_->close("test finished");
    runDeferredCalls();
  }

  // `bytes` arrive as one read (the session reads into the scratch the host lends it).
  void receive(std::string_view bytes) {
    ASSERT_TRUE(session_);
    std::span<char> space = session_->onEvents(EPOLLIN, scratch_);
    ASSERT_GE(space.size(), bytes.size());
    std::memcpy(space.data(), bytes.data(), bytes.size());
    session_->onRead(space, static_cast<ssize_t>(bytes.size()));
  }
  void receiveEof() { session_->onRead(scratch_, 0); }

  // What the session writes at the end of this turn (every send(2) takes all of it).
  std::string written() {
    std::string out;
    std::vector<ClientSession*> flushing;
    flushing.swap(host_->flushes);
    for (ClientSession* session : flushing) {
      std::span<const char> bytes = session->takeDeferredFlush();
      if (!bytes.empty()) {
        out.append(bytes.data(), bytes.size());
        session->finishDeferredFlush(static_cast<ssize_t>(bytes.size()));
      }
      session->endDeferredFlush();
    }
    return out;
  }
  void runDeferredCalls() {
    while (!host_->calls.empty()) {
      std::vector<std::function<void()>> calls;
      calls.swap(host_->calls);
      for (auto& call : calls) call();
    }
  }
  void reply(size_t sent_index, std::string_view framed) {
    host_->sent.at(sent_index).target->onBackendReply(framed);
  }

  PoolCounters counters_;
  std::atomic<int64_t> open_clients_{1};
  std::unique_ptr<FakeHost> host_;
  std::unique_ptr<ClientSession> session_;
  std::vector<char> scratch_ = std::vector<char>(64 * 1024);
};

std::string command(std::initializer_list<std::string_view> args) {
  common::ByteBuffer out;
  std::vector<std::string_view> list(args);
  resp::appendCommand(out, list);
  return std::string(out.view());
}

TEST_F(ClientSessionTest, RepliesLeaveInRequestOrderWhateverOrderTheyArriveIn) {
  start(kOneServer);
  receive(command({"GET", "x"}) + command({"SET", "y", "1"}) + command({"GET", "z"}));
  ASSERT_EQ(host_->sent.size(), 3u);
  EXPECT_EQ(host_->sent[0].args, (std::vector<std::string>{"GET", "x"}));
  EXPECT_TRUE(host_->sent[0].read_only);
  EXPECT_FALSE(host_->sent[1].read_only);
  reply(2, "$1\r\nz\r\n");
  reply(1, "+OK\r\n");
  EXPECT_EQ(written(), "");  // the first reply is still missing
  reply(0, "$-1\r\n");
  EXPECT_EQ(written(), "$-1\r\n+OK\r\n$1\r\nz\r\n");
}

TEST_F(ClientSessionTest, LocalCommandsAreAnsweredWithoutABackend) {
  start(kOneServer);
  receive("PING\r\n" + command({"ECHO", "hi"}) + command({"CLIENT", "SETNAME", "me"}) +
          command({"CLIENT", "GETNAME"}));
  EXPECT_TRUE(host_->sent.empty());
  EXPECT_EQ(written(), "+PONG\r\n$2\r\nhi\r\n+OK\r\n$2\r\nme\r\n");
}

TEST_F(ClientSessionTest, Hello3SwitchesTheSessionAndItsConnectionsToRESP3) {
  start(kOneServer);
  receive(command({"GET", "a"}) + command({"HELLO", "3"}) + command({"GET", "b"}) +
          command({"CLIENT", "GETNAME"}));
  // GET b waits for GET a: it travels on other (RESP3) connections.
  ASSERT_EQ(host_->sent.size(), 1u);
  EXPECT_EQ(host_->sent[0].protocol, 2);
  reply(0, "$-1\r\n");
  std::string out = written();  // the flush resumes the requests held back
  EXPECT_TRUE(out.starts_with("$-1\r\n%7\r\n$6\r\nserver\r\n")) << out;
  EXPECT_NE(out.find("$5\r\nproto\r\n:3\r\n"), std::string::npos) << out;
  ASSERT_EQ(host_->sent.size(), 2u);
  EXPECT_EQ(host_->sent[1].protocol, 3);
  reply(1, "_\r\n");
  EXPECT_EQ(written(), "_\r\n_\r\n");  // GET b, then GETNAME's null as RESP3 spells it
  receive(command({"RESET"}) + command({"GET", "c"}));
  written();
  ASSERT_EQ(host_->sent.size(), 3u);
  EXPECT_EQ(host_->sent[2].protocol, 2);  // RESET goes back to RESP2, as in Redis
}

TEST_F(ClientSessionTest, HelloWithoutAVersionKeepsTheProtocol) {
  start(kOneServer);
  receive(command({"HELLO", "3"}));
  written();
  receive(command({"HELLO"}) + command({"ECHO", "x"}));
  const std::string out = written();
  EXPECT_TRUE(out.starts_with("%7\r\n")) << out;
  EXPECT_NE(out.find("$5\r\nproto\r\n:3\r\n"), std::string::npos) << out;
}

TEST_F(ClientSessionTest, RefusalsAndRouteErrorsAreRepliedAndTheConnectionStays) {
  start(kTwoShards);
  receive(command({"TIME"}) + command({"SHUTDOWN"}) + command({"NOSUCH", "a"}) + command({"GET"}));
  EXPECT_TRUE(host_->sent.empty());
  const std::string out = written();
  EXPECT_NE(out.find("-ERR unknown command 'NOSUCH', with args beginning with: 'a' \r\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("-ERR wrong number of arguments for 'get' command\r\n"), std::string::npos)
      << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '-'), 4) << out;
  receive("PING\r\n");
  EXPECT_EQ(written(), "+PONG\r\n");
}

TEST_F(ClientSessionTest, ABackendThatCannotTakeTheRequestGivesItsErrorAtOnce) {
  start(kOneServer);
  host_->refusal = "ERR backend a (127.0.0.1:6379) is unavailable: connection refused";
  receive(command({"GET", "x"}));
  EXPECT_EQ(written(), "-ERR backend a (127.0.0.1:6379) is unavailable: connection refused\r\n");
}

TEST_F(ClientSessionTest, MgetIsSplitPerShardAndMergedInKeyOrder) {
  start(kTwoShards);
  std::vector<std::string> keys;
  for (int i = 0; i < 12; ++i) keys.push_back("key:" + std::to_string(i));
  std::vector<std::string_view> args = {"MGET"};
  args.insert(args.end(), keys.begin(), keys.end());
  common::ByteBuffer request;
  resp::appendCommand(request, args);
  receive(request.view());
  ASSERT_EQ(host_->sent.size(), 2u);  // twelve keys over two shards land on both
  EXPECT_NE(host_->sent[0].server, host_->sent[1].server);
  for (size_t s = 1; s < 2; --s) {  // the second shard answers first
    std::string framed = "*" + std::to_string(host_->sent[s].args.size() - 1) + "\r\n";
    for (size_t k = 1; k < host_->sent[s].args.size(); ++k) {
      const std::string value = "v-" + host_->sent[s].args[k];
      framed += "$" + std::to_string(value.size()) + "\r\n" + value + "\r\n";
    }
    reply(s, framed);
  }
  std::string expected = "*12\r\n";
  for (const std::string& key : keys) {
    expected += "$" + std::to_string(key.size() + 2) + "\r\nv-" + key + "\r\n";
  }
  EXPECT_EQ(written(), expected);
}

TEST_F(ClientSessionTest, KeysOnSeveralShardsOfAMultiKeyWriteAreRefused) {
  start(kTwoShards);
  // The twelve keys of the MGET test, which land on both shards.
  receive(command({"SUNIONSTORE", "key:0", "key:1", "key:2", "key:3", "key:4", "key:5", "key:6",
                   "key:7", "key:8", "key:9", "key:10", "key:11"}));
  EXPECT_TRUE(host_->sent.empty());
  EXPECT_EQ(written(), "-" + std::string(resp::kErrCrossShard) + "\r\n");
}

TEST_F(ClientSessionTest, APoolWithAPasswordWantsAuthFirst) {
  start(kWithPassword);
  receive(command({"GET", "x"}) + command({"AUTH", "wrong"}) + command({"AUTH", "sesame"}) +
          command({"GET", "x"}));
  ASSERT_EQ(host_->sent.size(), 1u);  // only the GET after a good AUTH
  reply(0, "$1\r\n1\r\n");
  EXPECT_EQ(written(),
            "-NOAUTH Authentication required.\r\n"
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
            "+OK\r\n$1\r\n1\r\n");
}

TEST_F(ClientSessionTest, AProtocolErrorIsAnsweredThenTheConnectionCloses) {
  start(kOneServer);
  bool destroyed = false;
  host_->on_destroy = [&] {
    destroyed = true;
    session_.reset();
  };
  receive(command({"GET", "x"}) + "*1\r\n$x\r\n" + command({"GET", "never"}));
  ASSERT_EQ(host_->sent.size(), 1u);
  reply(0, "$1\r\nv\r\n");
  EXPECT_EQ(written(), "$1\r\nv\r\n-ERR Protocol error: invalid bulk length\r\n");
  runDeferredCalls();
  EXPECT_TRUE(destroyed);
}

TEST_F(ClientSessionTest, AClientThatLeavesDropsTheRepliesStillToCome) {
  start(kOneServer);
  receive(command({"GET", "x"}) + command({"GET", "y"}));
  ASSERT_EQ(host_->sent.size(), 2u);
  receiveEof();
  runDeferredCalls();
  EXPECT_EQ(session_, nullptr);  // destroyed, though its requests are in flight
  reply(1, "$1\r\ny\r\n");       // the backends still answer: the replies are dropped
  reply(0, "$1\r\nx\r\n");
  EXPECT_EQ(host_->requests().liveCount(), 0u);
  EXPECT_EQ(counters_[common::PoolStat::client_eof].get(), 1u);
}

TEST_F(ClientSessionTest, PastThePendingLimitTheSessionStopsReadingUntilHalfIsAnswered) {
  start(kOneServer);
  EXPECT_EQ(host_->interest, static_cast<uint32_t>(EPOLLIN));
  std::string many;
  for (size_t i = 0; i < ClientSession::kMaxPending + 100; ++i) many += command({"GET", "k"});
  receive(many);
  EXPECT_EQ(host_->sent.size(), ClientSession::kMaxPending);  // the rest waits, unparsed
  EXPECT_EQ(host_->interest, 0u);
  for (size_t i = 0; i < ClientSession::kMaxPending / 2; ++i) reply(i, "$1\r\nv\r\n");
  EXPECT_EQ(written().size(), 7 * (ClientSession::kMaxPending / 2));
  EXPECT_EQ(host_->sent.size(), ClientSession::kMaxPending + 100);  // resumed: all sent
  EXPECT_EQ(host_->interest, static_cast<uint32_t>(EPOLLIN));
}

// --- commands sent to every shard

TEST_F(ClientSessionTest, DbsizeGoesToEveryShardsMasterAndIsSummed) {
  start(kTwoShards);
  receive(command({"DBSIZE"}) + command({"GET", "x"}));
  ASSERT_EQ(host_->sent.size(), 3u);
  EXPECT_EQ(host_->sent[0].server, 0u);
  EXPECT_EQ(host_->sent[1].server, 1u);
  EXPECT_FALSE(host_->sent[0].read_only);  // the master, whatever read_from says
  EXPECT_EQ(host_->sent[1].args, (std::vector<std::string>{"DBSIZE"}));
  reply(2, "$1\r\nv\r\n");
  reply(1, ":4\r\n");
  EXPECT_EQ(written(), "");
  reply(0, ":3\r\n");
  EXPECT_EQ(written(), ":7\r\n$1\r\nv\r\n");
}

TEST_F(ClientSessionTest, ScanWalksTheShardsWithOneCursor) {
  start(kTwoShards);
  receive(command({"SCAN", "0", "MATCH", "k*", "COUNT", "5"}));
  ASSERT_EQ(host_->sent.size(), 1u);
  EXPECT_EQ(host_->sent[0].server, 0u);
  EXPECT_EQ(host_->sent[0].args,
            (std::vector<std::string>{"SCAN", "0", "MATCH", "k*", "COUNT", "5"}));
  reply(0, "*2\r\n$1\r\n6\r\n*1\r\n$2\r\nk1\r\n");
  EXPECT_EQ(written(), "*2\r\n$2\r\n12\r\n*1\r\n$2\r\nk1\r\n");  // 6 * 2 + 0
  receive(command({"SCAN", "12"}));
  EXPECT_EQ(host_->sent[1].server, 0u);
  EXPECT_EQ(host_->sent[1].args, (std::vector<std::string>{"SCAN", "6"}));
  reply(1, "*2\r\n$1\r\n0\r\n*0\r\n");
  EXPECT_EQ(written(), "*2\r\n$1\r\n1\r\n*0\r\n");  // shard 0 done: shard 1 from 0
  receive(command({"SCAN", "1"}));
  EXPECT_EQ(host_->sent[2].server, 1u);
  EXPECT_EQ(host_->sent[2].args, (std::vector<std::string>{"SCAN", "0"}));
  reply(2, "*2\r\n$1\r\n0\r\n*1\r\n$2\r\nk2\r\n");
  EXPECT_EQ(written(), "*2\r\n$1\r\n0\r\n*1\r\n$2\r\nk2\r\n");
  receive(command({"SCAN", "nope"}));
  EXPECT_EQ(written(), "-ERR invalid cursor\r\n");
  EXPECT_EQ(host_->sent.size(), 3u);
}

TEST_F(ClientSessionTest, AShardThatCannotTakeAFanoutFailsTheWholeCommand) {
  start(kTwoShards);
  host_->refusal = "ERR backend b is unavailable";
  receive(command({"KEYS", "*"}));
  EXPECT_EQ(written(), "-ERR backend b is unavailable\r\n");
}

TEST_F(ClientSessionTest, ScriptKillLeasesAPrivateConnectionPerShard) {
  start(kTwoShards);
  receive(command({"SCRIPT", "KILL"}));
  EXPECT_EQ(host_->lease_requests, (std::vector<uint32_t>{0, 1}));
  EXPECT_TRUE(host_->sent.empty());  // nothing on the shared connections
  EXPECT_EQ(written(), "-" + host_->lease_refusal + "\r\n");
}

TEST_F(ClientSessionTest, AFanoutInsideATransactionOfAShardedPoolIsRefused) {
  start(kTwoShards);
  receive(command({"MULTI"}) + command({"DBSIZE"}) + command({"EXEC"}));
  EXPECT_EQ(written(),
            "+OK\r\n-ERR switchyard: 'dbsize' runs on every shard and cannot be "
            "queued in a transaction of a sharded pool\r\n-" +
                std::string(resp::kErrExecAbort) + "\r\n");
}

// --- transactions and blocking commands, where the host has no private connection to lease

TEST_F(ClientSessionTest, MultiInAShardedPoolIsAnsweredUntilItsFirstKey) {
  start(kTwoShards);
  receive(command({"MULTI"}) + command({"PING"}) + command({"ECHO", "x"}));
  EXPECT_EQ(written(), "+OK\r\n+QUEUED\r\n+QUEUED\r\n");
  EXPECT_TRUE(host_->lease_requests.empty());  // no backend named yet
  receive(command({"SET", "k", "1"}));         // names the backend: a lease is asked for
  ASSERT_EQ(host_->lease_requests.size(), 1u);
  EXPECT_EQ(written(), "-" + host_->lease_refusal + "\r\n");
  receive(command({"EXEC"}));  // the refused command aborts the transaction
  EXPECT_EQ(written(), "-" + std::string(resp::kErrExecAbort) + "\r\n");
  EXPECT_TRUE(host_->sent.empty());
  receive(command({"PING"}));  // and the session is out of it
  EXPECT_EQ(written(), "+PONG\r\n");
}

TEST_F(ClientSessionTest, AnEmptyOrDiscardedTransactionNeedsNoBackend) {
  start(kTwoShards);
  receive(command({"MULTI"}) + command({"EXEC"}) + command({"MULTI"}) + command({"PING"}) +
          command({"DISCARD"}) + command({"EXEC"}) + command({"DISCARD"}) + command({"UNWATCH"}));
  EXPECT_EQ(written(), "+OK\r\n*0\r\n+OK\r\n+QUEUED\r\n+OK\r\n-" +
                           std::string(resp::kErrExecWithoutMulti) + "\r\n-" +
                           std::string(resp::kErrDiscardWithoutMulti) + "\r\n+OK\r\n");
  EXPECT_TRUE(host_->lease_requests.empty());
  EXPECT_TRUE(host_->sent.empty());
}

TEST_F(ClientSessionTest, CommandsRefusedWhileQueuingAbortTheTransaction) {
  start(kTwoShards);
  receive(command({"MULTI"}) + command({"NOSUCH"}) + command({"GET"}) + command({"INFO"}) +
          command({"MULTI"}) + command({"WATCH", "k"}) + command({"EXEC"}));
  const std::string out = written();
  EXPECT_TRUE(out.starts_with("+OK\r\n-ERR unknown command 'NOSUCH'")) << out;
  EXPECT_NE(out.find("-ERR wrong number of arguments for 'get' command\r\n"), std::string::npos);
  EXPECT_NE(out.find("-ERR 'info' cannot be queued in a transaction"), std::string::npos);
  EXPECT_NE(out.find("-" + std::string(resp::kErrMultiNested) + "\r\n"), std::string::npos);
  EXPECT_NE(out.find("-" + std::string(resp::kErrWatchInMulti) + "\r\n"), std::string::npos);
  EXPECT_TRUE(out.ends_with("-" + std::string(resp::kErrExecAbort) + "\r\n")) << out;
  EXPECT_TRUE(host_->sent.empty());
}

TEST_F(ClientSessionTest, WithoutAPrivateConnectionMultiWatchAndBlpopFailClearly) {
  start(kOneServer);
  receive(command({"MULTI"}));
  EXPECT_EQ(written(), "-" + host_->lease_refusal + "\r\n");
  receive(command({"EXEC"}));  // the failed MULTI opened no transaction
  EXPECT_EQ(written(), "-" + std::string(resp::kErrExecWithoutMulti) + "\r\n");
  receive(command({"WATCH", "k"}) + command({"BLPOP", "q", "0"}) + command({"GET", "k"}));
  EXPECT_EQ(written(), "-" + host_->lease_refusal + "\r\n-" + host_->lease_refusal + "\r\n");
  ASSERT_EQ(host_->sent.size(), 1u);  // GET, on the shared path: nothing is pinned or blocked
  EXPECT_EQ(host_->sent[0].args, (std::vector<std::string>{"GET", "k"}));
  EXPECT_EQ(host_->lease_requests, (std::vector<uint32_t>{0, 0, 0}));
}

TEST_F(ClientSessionTest, ALeaseWaitsForANewMasterAndTheRequestsBehindItWaitToo) {
  start(kOneServer);
  host_->master_pending = true;
  receive(command({"BLPOP", "q", "0"}) + command({"GET", "k"}));
  EXPECT_TRUE(host_->lease_requests.empty());
  EXPECT_TRUE(host_->sent.empty());  // GET stays behind the waiting BLPOP
  ASSERT_EQ(host_->master_waiters, (std::vector<ClientSession*>{session_.get()}));
  EXPECT_EQ(host_->interest & EPOLLIN, 0u);  // reads nothing more meanwhile
  host_->master_waiters.clear();
  session_->onMasterWait();  // a tick: still no master
  EXPECT_TRUE(host_->lease_requests.empty());
  EXPECT_EQ(host_->master_waiters.size(), 1u);
  host_->master_pending = false;
  host_->master_waiters.clear();
  session_->onMasterWait();  // the new master is known
  EXPECT_EQ(host_->lease_requests, (std::vector<uint32_t>{0}));
  ASSERT_EQ(host_->sent.size(), 1u);
  EXPECT_EQ(host_->sent[0].args, (std::vector<std::string>{"GET", "k"}));
  EXPECT_EQ(written(), "-" + host_->lease_refusal + "\r\n");
}

TEST_F(ClientSessionTest, ALeaseWaitsNoLongerThanFailoverWait) {
  start(
      "alpha:\n"
      "  listen: 127.0.0.1:22121\n"
      "  failover_wait: 1\n"
      "  servers:\n"
      "    - 127.0.0.1:6379:1 g\n"
      "    - 127.0.0.1:6380:1 g\n");
  host_->master_pending = true;
  receive(command({"MULTI"}));
  EXPECT_TRUE(host_->lease_requests.empty());
  ASSERT_EQ(host_->master_waiters.size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  host_->master_waiters.clear();
  session_->onMasterWait();
  EXPECT_TRUE(host_->master_waiters.empty());
  EXPECT_EQ(host_->lease_requests, (std::vector<uint32_t>{0}));  // refused with its reason
  ASSERT_EQ(host_->lease_waits_ms.size(), 1u);
  EXPECT_GE(host_->lease_waits_ms[0], 5);  // the refusal says how long it waited
  EXPECT_EQ(written(), "-" + host_->lease_refusal + "\r\n");
}

TEST_F(ClientSessionTest, ASubscriptionWaitsForANewMasterButLeavingDoesNot) {
  start(kTwoShards);
  host_->master_pending = true;
  receive(command({"UNSUBSCRIBE", "news"}));  // needs no connection: answered at once
  EXPECT_TRUE(host_->master_waiters.empty());
  EXPECT_NE(written().find("unsubscribe"), std::string::npos);
  receive(command({"PSUBSCRIBE", "n*"}));
  EXPECT_TRUE(host_->lease_requests.empty());
  ASSERT_EQ(host_->master_waiters.size(), 1u);
  host_->master_pending = false;
  host_->master_waiters.clear();
  session_->onMasterWait();
  EXPECT_FALSE(host_->lease_requests.empty());  // now it asks (and this fake refuses)
}

TEST_F(ClientSessionTest, AClientThatLeavesWhileWaitingForAMasterIsClosed) {
  start(kOneServer);
  host_->master_pending = true;
  receive(command({"WATCH", "k"}));
  EXPECT_NE(host_->interest & EPOLLRDHUP, 0u);
  session_->onEvents(EPOLLRDHUP, scratch_);
  runDeferredCalls();
  EXPECT_FALSE(session_);
}

TEST_F(ClientSessionTest, ASubscriptionWithoutAConnectionFailsAndLeavesNoState) {
  start(kTwoShards);
  // PSUBSCRIBE needs every backend: the first refusal answers, nothing is subscribed.
  receive(command({"PSUBSCRIBE", "news.*"}) + command({"SUBSCRIBE", "a", "b"}) +
          command({"GET", "k"}) + command({"PING"}));
  ASSERT_EQ(host_->sent.size(), 1u);  // GET runs: the session is not in the subscribed context
  reply(0, "$1\r\nv\r\n");
  EXPECT_EQ(written(), "-" + host_->lease_refusal + "\r\n-" + host_->lease_refusal +
                           "\r\n$1\r\nv\r\n+PONG\r\n");
  EXPECT_EQ(host_->lease_requests.size(), 2u);
}

TEST_F(ClientSessionTest, UnsubscribingFromNothingNeedsNoConnection) {
  start(kOneServer);
  receive(command({"UNSUBSCRIBE"}) + command({"PUNSUBSCRIBE", "x"}));
  // Unsubscribing from nothing needs no connection, and answers as Redis does.
  EXPECT_EQ(written(),
            "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"
            "*3\r\n$12\r\npunsubscribe\r\n$1\r\nx\r\n:0\r\n");
  EXPECT_TRUE(host_->lease_requests.empty());
}

TEST_F(ClientSessionTest, ResetAnswersAfterTheRepliesBeforeIt) {
  start(kOneServer);
  receive(command({"SELECT", "3"}) + command({"GET", "k"}) + command({"RESET"}) +
          command({"GET", "k"}));
  ASSERT_EQ(host_->sent.size(), 1u);  // RESET waits for GET's reply; the second GET for RESET
  EXPECT_EQ(host_->sent[0].db, 3);
  reply(0, "$-1\r\n");
  EXPECT_EQ(written(), "+OK\r\n$-1\r\n");  // the flush resumes the requests held back
  EXPECT_EQ(written(), "+RESET\r\n");
  ASSERT_EQ(host_->sent.size(), 2u);
  EXPECT_EQ(host_->sent[1].db, 0);  // back to the pool's database
}

TEST_F(ClientSessionTest, ScriptBodiesSentByAClientAreRegisteredOnce) {
  start(kOneServer);
  const backend::ScriptRegistry& scripts = host_->proxyStats().scripts;
  receive(command({"EVAL", "return 1", "0"}) + command({"eval_ro", "return 2", "1", "k"}) +
          command({"SCRIPT", "LOAD", "return 3"}) + command({"EVAL", "return 1", "0"}) +
          command({"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"}) +
          command({"SCRIPT", "EXISTS", "return 4"}) + command({"GET", "return 5"}));
  EXPECT_EQ(host_->sent.size(), 7u);
  std::vector<std::string> bodies;
  scripts.forEachSince(0, [&](std::string_view body) { bodies.emplace_back(body); });
  EXPECT_EQ(bodies, (std::vector<std::string>{"return 1", "return 2", "return 3"}));
}

TEST_F(ClientSessionTest, AScriptOfAClientNotYetAuthenticatedIsNotRegistered) {
  start(kWithPassword);
  receive(command({"EVAL", "return 1", "0"}) + command({"SCRIPT", "LOAD"}));
  EXPECT_EQ(host_->proxyStats().scripts.version(), 0u);
}

TEST_F(ClientSessionTest, AClientIdleForTheTimeoutIsClosedUnlessARequestIsPending) {
  start(kOneServer);
  common::stampEventTime();  // as the worker does before its reads
  const common::Millis timeout(400);
  common::TimePoint later = common::now() + timeout + std::chrono::milliseconds(10);
  receive(command({"GET", "x"}));
  EXPECT_FALSE(session_->closeIfIdle(later, timeout));  // its GET is in flight
  reply(0, "$1\r\nx\r\n");
  written();
  EXPECT_FALSE(session_->closeIfIdle(common::now(), timeout));
  EXPECT_TRUE(session_->closeIfIdle(later + timeout, timeout));
  runDeferredCalls();
  EXPECT_EQ(session_, nullptr);
  EXPECT_EQ(counters_.clients_idle_closed.get(), 1u);
}

TEST_F(ClientSessionTest, APoolsRequestLimitsApplyAndFollowItsReload) {
  start(
      "alpha:\n"
      "  listen: 127.0.0.1:22121\n"
      "  max_request_args: 2\n"
      "  servers:\n"
      "    - 127.0.0.1:6379:1 a\n");
  auto relaxed = topology::buildFromYaml(
      "alpha:\n"
      "  listen: 127.0.0.1:22121\n"
      "  servers:\n"
      "    - 127.0.0.1:6379:1 a\n");
  session_->followPool(0, *relaxed->pools()[0].config);
  receive(command({"MGET", "a", "b"}));  // three arguments: within the new limit
  EXPECT_EQ(host_->sent.size(), 1u);
  auto strict = topology::buildFromYaml(
      "alpha:\n"
      "  listen: 127.0.0.1:22121\n"
      "  max_request_args: 2\n"
      "  servers:\n"
      "    - 127.0.0.1:6379:1 a\n");
  session_->followPool(0, *strict->pools()[0].config);
  receive("*3\r\n");
  reply(0, "*2\r\n$-1\r\n$-1\r\n");
  EXPECT_EQ(written(), "*2\r\n$-1\r\n$-1\r\n-ERR Protocol error: invalid multibulk length\r\n");
  EXPECT_EQ(counters_.requests_over_limit.get(), 1u);
}

// --- drain: closed at the first moment between requests

// The client's end of a session's socket.
class DrainTest : public ClientSessionTest {
 protected:
  void startWithSocket() {
    int ends[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, ends), 0);
    session_end_ = ends[0];
    client_ = ends[1];
    start(kOneServer, ends[0]);
  }
  ~DrainTest() override {
    if (client_ >= 0) ::close(client_);
  }
  // What the client can read now; "<EOF>" appended when the session closed its end.
  std::string clientReads() {
    std::string got;
    char buffer[4096];
    for (;;) {
      ssize_t n = ::recv(client_, buffer, sizeof(buffer), 0);
      if (n > 0) {
        got.append(buffer, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) got += "<EOF>";
      return got;
    }
  }
  int session_end_ = -1;  // owned by the session
  int client_ = -1;
};

TEST_F(DrainTest, ASessionWithRequestsInFlightIsClosedAsItsLastRepliesLeave) {
  startWithSocket();
  receive(command({"GET", "x"}) + command({"GET", "y"}));
  ASSERT_EQ(host_->sent.size(), 2u);
  common::TimePoint now = common::now();
  session_->drain(now);
  session_->drain(now + std::chrono::seconds(1));  // busy: an idle time does not apply
  ASSERT_NE(session_, nullptr);
  reply(1, "$1\r\ny\r\n");
  reply(0, "$1\r\nx\r\n");
  EXPECT_EQ(written(), "");  // written by the session itself, with the close
  runDeferredCalls();
  EXPECT_EQ(session_, nullptr);
  EXPECT_EQ(clientReads(), "$1\r\nx\r\n$1\r\ny\r\n<EOF>");
}

TEST_F(DrainTest, BytesOfANextRequestInTheSocketKeepTheSessionOpen) {
  startWithSocket();
  receive(command({"GET", "x"}));
  session_->drain(common::now());
  std::string next = command({"GET", "z"});
  ASSERT_EQ(::send(client_, next.data(), next.size(), 0), static_cast<ssize_t>(next.size()));
  reply(0, "$1\r\nx\r\n");
  EXPECT_EQ(written(), "$1\r\nx\r\n");  // the reply leaves, the connection stays
  runDeferredCalls();
  ASSERT_NE(session_, nullptr);
  char taken[256];  // the read the host would make, into receive() below
  ASSERT_EQ(::recv(session_end_, taken, sizeof(taken), 0), static_cast<ssize_t>(next.size()));
  receive(next);  // its reply closes the session
  ASSERT_EQ(host_->sent.size(), 2u);
  reply(1, "$1\r\nz\r\n");
  EXPECT_EQ(written(), "");
  runDeferredCalls();
  EXPECT_EQ(session_, nullptr);
}

TEST_F(DrainTest, AnIdleSessionIsClosedAfterTheIdleTime) {
  startWithSocket();
  receive(command({"GET", "x"}));
  reply(0, "$1\r\nx\r\n");
  EXPECT_EQ(written(), "$1\r\nx\r\n");  // before the drain: written with the turn's batch
  common::TimePoint start = common::now();
  session_->drain(start);
  session_->drain(start + ClientSession::kDrainIdleClose - std::chrono::milliseconds(1));
  ASSERT_NE(session_, nullptr);
  session_->drain(start + ClientSession::kDrainIdleClose);
  runDeferredCalls();
  EXPECT_EQ(session_, nullptr);
  EXPECT_EQ(clientReads(), "<EOF>");  // (the batch's write is the host's, not in this test)
}

}  // namespace
}  // namespace sy::server
