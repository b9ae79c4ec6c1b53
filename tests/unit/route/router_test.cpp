// Router: command -> plan, against topologies built from YAML exactly as the proxy builds them.
#include "route/router.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../topology/build_topology.h"
#include "command/command.h"
#include "config/config.h"
#include "resp/errors.h"
#include "topology/topology.h"

namespace sy::route {
namespace {

constexpr std::string_view kConfig =
    "two:\n"
    "  listen: 127.0.0.1:22121\n"
    "  hash: fnv1a_64\n"
    "  hash_tag: \"{}\"\n"
    "  distribution: ketama\n"
    "  servers:\n"
    "    - 127.0.0.1:6379:1 a\n"
    "    - 127.0.0.1:6380:1 b\n"
    "one:\n"
    "  listen: 127.0.0.1:22122\n"
    "  servers:\n"
    "    - 127.0.0.1:6381:1\n";

class RouterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto config = std::make_shared<const config::Config>(config::parseConfig(kConfig, "r.yml"));
    auto built = topology::buildTopology(config);
    ASSERT_TRUE(built.ok()) << built.error().message;
    topology_ = new std::shared_ptr<const topology::Topology>(*built);
  }
  static void TearDownTestSuite() {
    delete topology_;
    topology_ = nullptr;
  }

  const topology::PoolTopology& two() const { return (*topology_)->pools()[0]; }
  const topology::PoolTopology& one() const { return (*topology_)->pools()[1]; }

  // Plans `args` against `pool`, keeping the argument strings alive in the fixture.
  const Plan& planFor(const topology::PoolTopology& pool, std::initializer_list<std::string> args) {
    storage_.assign(args);
    views_.assign(storage_.begin(), storage_.end());
    router_.plan(pool, views_, plan_);
    return plan_;
  }

  // The n-th key (of the form "<prefix><i>") that the two-server pool places on `server`.
  std::string keyOn(uint32_t server, int n = 0, const std::string& prefix = "key:") const {
    for (int i = 0; i < 10000; ++i) {
      std::string key = prefix + std::to_string(i);
      if (two().serverForKey(key) == server && n-- == 0) return key;
    }
    ADD_FAILURE() << "no key for server " << server;
    return {};
  }

  static std::shared_ptr<const topology::Topology>* topology_;
  Router router_;
  Plan plan_;
  std::vector<std::string> storage_;
  std::vector<std::string_view> views_;
};

std::shared_ptr<const topology::Topology>* RouterTest::topology_ = nullptr;

bool sameRoutes(const std::vector<KeyRoute>& actual, const std::vector<KeyRoute>& expected) {
  if (actual.size() != expected.size()) return false;
  for (size_t i = 0; i < actual.size(); ++i) {
    if (actual[i].position != expected[i].position || actual[i].server != expected[i].server) {
      return false;
    }
  }
  return true;
}

std::string describe(const std::vector<KeyRoute>& routes) {
  std::string out;
  for (const KeyRoute& route : routes) {
    out += "(" + std::to_string(route.position) + "," + std::to_string(route.server) + ")";
  }
  return out;
}

TEST_F(RouterTest, UnknownCommandIsWordedAsRedis7Does) {
  const Plan& plan = planFor(two(), {"foo", "a", "b"});
  EXPECT_EQ(plan.kind, PlanKind::kError);
  EXPECT_EQ(plan.command, nullptr);
  EXPECT_EQ(plan.error, "ERR unknown command 'foo', with args beginning with: 'a' 'b' ");

  EXPECT_EQ(planFor(two(), {"foo"}).error, "ERR unknown command 'foo', with args beginning with: ");
  EXPECT_EQ(planFor(two(), {"FoO", "x", "y", "z", "w"}).error,
            "ERR unknown command 'FoO', with args beginning with: 'x' 'y' 'z' 'w' ");
  // CR and LF from the client become spaces, as Redis does.
  EXPECT_EQ(planFor(two(), {"foo", "a\r\nb"}).error,
            "ERR unknown command 'foo', with args beginning with: 'a  b' ");
  EXPECT_EQ(unknownCommandError(views_), plan_.error);
}

TEST_F(RouterTest, UnknownCommandClipsTheNameTo128Bytes) {
  std::string name(200, 'c');
  EXPECT_EQ(planFor(two(), {name, "x"}).error,
            "ERR unknown command '" + std::string(128, 'c') + "', with args beginning with: 'x' ");
}

// redis-server 7.0 prints arguments only while their text is under 128 bytes, and clips each
// one to the room left: "'" + 100 x a + "' " (103 bytes) leaves 25 bytes of the next one.
TEST_F(RouterTest, UnknownCommandClipsArgumentsLikeRedis) {
  std::string a100(100, 'a');
  EXPECT_EQ(planFor(two(), {"foo", a100, std::string(50, 'b'), "x"}).error,
            "ERR unknown command 'foo', with args beginning with: '" + a100 + "' '" +
                std::string(25, 'b') + "' ");
  EXPECT_EQ(
      planFor(two(), {"foo", std::string(200, 'a'), std::string(50, 'b')}).error,
      "ERR unknown command 'foo', with args beginning with: '" + std::string(128, 'a') + "' ");
}

TEST_F(RouterTest, WrongArity) {
  const Plan& plan = planFor(two(), {"GET"});
  EXPECT_EQ(plan.kind, PlanKind::kError);
  ASSERT_NE(plan.command, nullptr);
  EXPECT_EQ(plan.command->name, "get");
  EXPECT_EQ(plan.error, "ERR wrong number of arguments for 'get' command");
  EXPECT_EQ(planFor(two(), {"set", "k"}).error, "ERR wrong number of arguments for 'set' command");
  EXPECT_EQ(planFor(two(), {"config", "get"}).error,
            "ERR wrong number of arguments for 'config|get' command");
  EXPECT_EQ(planFor(two(), {"config"}).error, "ERR wrong number of arguments for 'config' command");
}

TEST_F(RouterTest, UnknownSubcommand) {
  const Plan& plan = planFor(two(), {"CONFIG", "foo"});
  EXPECT_EQ(plan.kind, PlanKind::kError);
  EXPECT_EQ(plan.error, "ERR unknown subcommand 'foo'. Try CONFIG HELP.");
  // Redis checks the subcommand before the arity.
  EXPECT_EQ(planFor(two(), {"client", "bogus", "x", "y"}).error,
            "ERR unknown subcommand 'bogus'. Try CLIENT HELP.");
}

TEST_F(RouterTest, RefusedCommandsGiveTheirReason) {
  struct Case {
    std::initializer_list<std::string> args;
    std::string error;
  };
  const std::string backend_control =
      "the proxy does not let clients stop, reconfigure or take over its backends";
  const std::string wait = std::string(resp::kErrRefusalWait);
  for (const Case& c : std::initializer_list<Case>{
           {{"SHUTDOWN"}, "ERR 'shutdown' is not supported by switchyard: " + backend_control},
           {{"CONFIG", "SET", "maxmemory", "1"},
            "ERR 'config|set' is not supported by switchyard: " + backend_control},
           {{"WAIT", "1", "0"}, "ERR 'wait' is not supported by switchyard: " + wait},
       }) {
    // In a single-backend pool too: refusal does not depend on the topology.
    for (const topology::PoolTopology* pool : {&two(), &one()}) {
      const Plan& plan = planFor(*pool, c.args);
      EXPECT_EQ(plan.kind, PlanKind::kError) << *c.args.begin();
      EXPECT_EQ(plan.error, c.error);
    }
  }
}

TEST_F(RouterTest, PublishGoesWhereItsChannelWouldBeAsAKey) {
  for (std::string channel : {"news", "sports", "weather", "a", "b", "c"}) {
    for (const char* verb : {"PUBLISH", "SPUBLISH"}) {
      const Plan& plan = planFor(two(), {verb, channel, "hello"});
      EXPECT_EQ(plan.kind, PlanKind::kForward) << verb;
      EXPECT_EQ(plan.server, two().serverForKey(channel)) << channel;
    }
  }
  EXPECT_EQ(planFor(one(), {"PUBLISH", "news", "x"}).server, 0u);
  // The session keeps subscriptions itself; the plan only says so.
  for (const auto& args : std::initializer_list<std::initializer_list<std::string>>{
           {"SUBSCRIBE", "a", "b"}, {"PSUBSCRIBE", "n*"}, {"UNSUBSCRIBE"}, {"SSUBSCRIBE", "s"}}) {
    EXPECT_EQ(planFor(two(), args).kind, PlanKind::kSubscribe) << *args.begin();
  }
  EXPECT_EQ(planFor(two(), {"SUBSCRIBE"}).kind, PlanKind::kError);  // arity
}

TEST_F(RouterTest, BlockingCommandsGoToTheirKeysBackend) {
  const Plan& blpop = planFor(two(), {"BLPOP", "list", "0"});
  EXPECT_EQ(blpop.kind, PlanKind::kBlocking);
  EXPECT_EQ(blpop.server, two().serverForKey("list"));
  EXPECT_FALSE(blpop.retry_read);

  const Plan& xread = planFor(two(), {"XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", "0"});
  EXPECT_EQ(xread.kind, PlanKind::kBlocking);
  EXPECT_EQ(xread.server, two().serverForKey("s"));

  const Plan& plain = planFor(two(), {"XREAD", "COUNT", "1", "STREAMS", "s", "0"});
  EXPECT_EQ(plain.kind, PlanKind::kForward);
  EXPECT_EQ(plain.server, two().serverForKey("s"));
  EXPECT_TRUE(plain.read_only);
  EXPECT_EQ(plain.error, "");

  // Keys on two backends: refused as any multi-key command is.
  std::string a = "a", b = "b";
  while (two().serverForKey(a) == two().serverForKey(b)) b += "b";
  const Plan& cross = planFor(two(), {"BLPOP", a, b, "0"});
  EXPECT_EQ(cross.kind, PlanKind::kError);
  EXPECT_EQ(cross.error, resp::kErrCrossShard);
}

TEST_F(RouterTest, TransactionCommands) {
  for (auto args : std::initializer_list<std::initializer_list<std::string>>{
           {"MULTI"}, {"EXEC"}, {"DISCARD"}, {"UNWATCH"}}) {
    const Plan& plan = planFor(two(), args);
    EXPECT_EQ(plan.kind, PlanKind::kTransaction) << *args.begin();
    EXPECT_EQ(plan.server, kAnyServer);
  }
  const Plan& watch = planFor(two(), {"WATCH", "k"});
  EXPECT_EQ(watch.kind, PlanKind::kTransaction);
  EXPECT_EQ(watch.server, two().serverForKey("k"));

  const Plan& keyless = planFor(two(), {"TIME"});
  EXPECT_EQ(keyless.kind, PlanKind::kError);
  EXPECT_TRUE(keyless.keyless);
  EXPECT_TRUE(planFor(two(), {"DBSIZE"}).keyless);  // fan-out: keyless too
  EXPECT_FALSE(planFor(two(), {"GET", "k"}).keyless);
}

TEST_F(RouterTest, LocalCommands) {
  for (auto args : std::initializer_list<std::initializer_list<std::string>>{{"PING"},
                                                                             {"ping", "hello"},
                                                                             {"COMMAND", "COUNT"},
                                                                             {"COMMAND"},
                                                                             {"HELLO", "2"},
                                                                             {"SELECT", "1"},
                                                                             {"ECHO", "x"}}) {
    const Plan& plan = planFor(two(), args);
    EXPECT_EQ(plan.kind, PlanKind::kLocal) << *args.begin();
    EXPECT_EQ(plan.error, "");
    ASSERT_NE(plan.command, nullptr);
  }
  EXPECT_EQ(planFor(two(), {"COMMAND", "COUNT"}).command->name, "command|count");
}

TEST_F(RouterTest, KeylessCommandsNeedASingleBackend) {
  const Plan& single = planFor(one(), {"TIME"});
  EXPECT_EQ(single.kind, PlanKind::kForward);
  EXPECT_EQ(single.server, 0u);

  const Plan& sharded = planFor(two(), {"TIME"});
  EXPECT_EQ(sharded.kind, PlanKind::kError);
  EXPECT_EQ(sharded.error,
            "ERR 'time' has no key to route by, and pool 'two' has 2 backends: it runs only "
            "through a pool with a single backend");
  EXPECT_EQ(planFor(two(), {"CONFIG", "GET", "x"}).kind, PlanKind::kError);
  EXPECT_EQ(planFor(one(), {"CONFIG", "GET", "x"}).kind, PlanKind::kForward);
}

TEST_F(RouterTest, FanoutCommandsGoToEveryShard) {
  for (auto args :
       std::initializer_list<std::initializer_list<std::string>>{{"DBSIZE"},
                                                                 {"KEYS", "*"},
                                                                 {"RANDOMKEY"},
                                                                 {"FLUSHDB", "ASYNC"},
                                                                 {"SCRIPT", "LOAD", "return 1"},
                                                                 {"SCRIPT", "EXISTS", "abc"},
                                                                 {"SCRIPT", "KILL"},
                                                                 {"FUNCTION", "KILL"},
                                                                 {"PUBSUB", "NUMSUB", "a", "b"},
                                                                 {"PUBSUB", "NUMPAT"}}) {
    for (const topology::PoolTopology* pool : {&two(), &one()}) {
      const Plan& plan = planFor(*pool, args);
      EXPECT_EQ(plan.kind, PlanKind::kFanout) << *args.begin();
      EXPECT_EQ(plan.server, kAnyServer) << *args.begin();
      EXPECT_TRUE(plan.keyless);
      EXPECT_FALSE(plan.retry_read);
    }
  }
  EXPECT_EQ(planFor(two(), {"SCRIPT", "KILL"}).command->handling,
            command::Handling::kFanoutPrivate);
  EXPECT_EQ(planFor(two(), {"DBSIZE"}).command->merge, command::MergeRule::kSumIntegers);
}

TEST_F(RouterTest, ScanGoesToTheShardItsCursorNames) {
  const Plan& start = planFor(two(), {"SCAN", "0", "MATCH", "a*"});
  EXPECT_EQ(start.kind, PlanKind::kFanout);
  EXPECT_EQ(start.server, 0u);
  EXPECT_EQ(start.scan_cursor, 0u);
  const Plan& second = planFor(two(), {"SCAN", "1"});
  EXPECT_EQ(second.server, 1u);
  EXPECT_EQ(second.scan_cursor, 0u);
  const Plan& later = planFor(two(), {"SCAN", "21", "COUNT", "5"});
  EXPECT_EQ(later.server, 1u);
  EXPECT_EQ(later.scan_cursor, 10u);
  const Plan& single = planFor(one(), {"SCAN", "18446744073709551615"});
  EXPECT_EQ(single.server, 0u);
  EXPECT_EQ(single.scan_cursor, 18446744073709551615u);
  for (auto cursor : {"x", "-", "18446744073709551616", " 1", ""}) {
    const Plan& bad = planFor(two(), {"SCAN", cursor});
    EXPECT_EQ(bad.kind, PlanKind::kError) << cursor;
    EXPECT_EQ(bad.error, "ERR invalid cursor");
  }
}

TEST_F(RouterTest, ScanMovesPastEjectedShards) {
  topology::PoolTopology pool = two();
  pool.servers[0].ejected = true;
  const Plan& skipped = planFor(pool, {"SCAN", "0"});
  EXPECT_EQ(skipped.kind, PlanKind::kFanout);
  EXPECT_EQ(skipped.server, 1u);
  EXPECT_EQ(skipped.scan_cursor, 0u);
  pool.servers[0].ejected = false;
  pool.servers[1].ejected = true;
  const Plan& over = planFor(pool, {"SCAN", "7"});  // shard 1 (ejected), backend cursor 3
  EXPECT_EQ(over.kind, PlanKind::kFanout);
  EXPECT_EQ(over.server, kAnyServer);  // nothing left: the end of the iteration
  EXPECT_TRUE(hasLiveShard(pool));
  pool.servers[0].ejected = true;  // every server out: no skipping, the shard answers
  EXPECT_FALSE(hasLiveShard(pool));
  const Plan& all_out = planFor(pool, {"SCAN", "7"});
  EXPECT_EQ(all_out.server, 1u);
  EXPECT_EQ(all_out.scan_cursor, 3u);
}

TEST_F(RouterTest, SingleKeyCommandsGoWhereThePlacerSays) {
  bool seen[2] = {false, false};
  for (int i = 0; i < 200; ++i) {
    std::string key = "user:" + std::to_string(i);
    const Plan& plan = planFor(two(), {"GET", key});
    ASSERT_EQ(plan.kind, PlanKind::kForward) << key;
    ASSERT_LT(plan.server, 2u);
    EXPECT_EQ(plan.server, two().placer.serverForKey(key)) << key;
    EXPECT_TRUE(plan.keys.empty());
    seen[plan.server] = true;
  }
  EXPECT_TRUE(seen[0] && seen[1]) << "200 keys should reach both backends";
  // The hash tag decides: "{<tag>}..." lands where "<tag>" does.
  for (int i = 0; i < 50; ++i) {
    std::string tag = "t" + std::to_string(i);
    EXPECT_EQ(planFor(two(), {"SET", "{" + tag + "}x", "v"}).server, two().serverForKey(tag));
  }
}

TEST_F(RouterTest, ReadOnlyFlag) {
  EXPECT_TRUE(planFor(two(), {"GET", "k"}).read_only);
  EXPECT_FALSE(planFor(two(), {"SET", "k", "v"}).read_only);
  EXPECT_TRUE(planFor(two(), {"MGET", keyOn(0), keyOn(1)}).read_only);
  EXPECT_FALSE(planFor(two(), {"DEL", keyOn(0), keyOn(1)}).read_only);
  EXPECT_FALSE(planFor(two(), {"INCR", "k"}).read_only);
}

TEST_F(RouterTest, MultiKeyCommandsForwardWhenKeysShareATag) {
  const Plan& sinter = planFor(two(), {"SINTER", "{u}a", "{u}b", "{u}c"});
  EXPECT_EQ(sinter.kind, PlanKind::kForward);
  EXPECT_EQ(sinter.server, two().serverForKey("u"));
  EXPECT_TRUE(sinter.keys.empty());

  const Plan& rename = planFor(two(), {"RENAME", "{u}a", "{u}b"});
  EXPECT_EQ(rename.kind, PlanKind::kForward);
  EXPECT_EQ(rename.server, two().serverForKey("u"));
}

TEST_F(RouterTest, MultiKeyCommandsAcrossBackendsGetCrossSlot) {
  const std::string expected = std::string(resp::kErrCrossShard);
  EXPECT_EQ(expected.rfind("CROSSSLOT ", 0), 0u);
  const Plan& sinter = planFor(two(), {"SINTER", keyOn(0), keyOn(1)});
  EXPECT_EQ(sinter.kind, PlanKind::kError);
  EXPECT_EQ(sinter.error, expected);
  EXPECT_EQ(planFor(two(), {"RENAME", keyOn(1), keyOn(0)}).error, expected);
  // The mismatch may come after several agreeing keys.
  EXPECT_EQ(planFor(two(), {"SUNION", keyOn(0), keyOn(0, 1), keyOn(0, 2), keyOn(1)}).error,
            expected);
  // In a one-backend pool every key agrees.
  EXPECT_EQ(planFor(one(), {"SINTER", "a", "b", "c"}).kind, PlanKind::kForward);
}

TEST_F(RouterTest, SplitCommandsOnOneBackendAreForwardedUntouched) {
  for (std::string name : {"MGET", "DEL", "EXISTS", "TOUCH", "UNLINK"}) {
    const Plan& plan = planFor(two(), {name, keyOn(1), keyOn(1, 1), keyOn(1, 2)});
    EXPECT_EQ(plan.kind, PlanKind::kForward) << name;
    EXPECT_EQ(plan.server, 1u);
    EXPECT_TRUE(plan.keys.empty()) << name;
  }
  const Plan& mset = planFor(two(), {"MSET", keyOn(0), "1", keyOn(0, 1), "2"});
  EXPECT_EQ(mset.kind, PlanKind::kForward);
  EXPECT_EQ(mset.server, 0u);
  const Plan& single = planFor(one(), {"MGET", "a", "b", "c", "d"});
  EXPECT_EQ(single.kind, PlanKind::kForward);
  EXPECT_EQ(single.server, 0u);
}

TEST_F(RouterTest, SplitCommandsAcrossBackendsListEveryKey) {
  std::string a0 = keyOn(0), a1 = keyOn(0, 1), b0 = keyOn(1), b1 = keyOn(1, 1);
  for (std::string name : {"MGET", "DEL", "EXISTS", "TOUCH", "UNLINK"}) {
    const Plan& plan = planFor(two(), {name, b0, a0, a1, b1, a0});
    EXPECT_EQ(plan.kind, PlanKind::kSplit) << name;
    std::vector<KeyRoute> expected{{1, 1}, {2, 0}, {3, 0}, {4, 1}, {5, 0}};
    EXPECT_TRUE(sameRoutes(plan.keys, expected)) << name << ": " << describe(plan.keys);
    ASSERT_NE(plan.command, nullptr);
    EXPECT_EQ(plan.command->handling, command::Handling::kSplit);
  }
  EXPECT_EQ(planFor(two(), {"MGET", a0, b0}).command->merge, command::MergeRule::kMgetArray);
  EXPECT_EQ(planFor(two(), {"DEL", a0, b0}).command->merge, command::MergeRule::kSumIntegers);
}

TEST_F(RouterTest, MsetSplitListsKeyPositionsOnly) {
  std::string a0 = keyOn(0), b0 = keyOn(1), b1 = keyOn(1, 1);
  const Plan& plan = planFor(two(), {"MSET", a0, "va", b0, "vb", b1, "vc"});
  EXPECT_EQ(plan.kind, PlanKind::kSplit);
  EXPECT_TRUE(sameRoutes(plan.keys, {{1, 0}, {3, 1}, {5, 1}})) << describe(plan.keys);
  EXPECT_EQ(plan.command->merge, command::MergeRule::kMsetOk);
  EXPECT_FALSE(plan.read_only);
}

TEST_F(RouterTest, EvalRoutesByItsKeys) {
  const Plan& keyless_two = planFor(two(), {"EVAL", "return 1", "0"});
  EXPECT_EQ(keyless_two.kind, PlanKind::kError);
  EXPECT_EQ(keyless_two.error,
            "ERR 'eval' has no key to route by, and pool 'two' has 2 backends: it runs only "
            "through a pool with a single backend");
  const Plan& keyless_one = planFor(one(), {"EVAL", "return 1", "0"});
  EXPECT_EQ(keyless_one.kind, PlanKind::kForward);
  EXPECT_EQ(keyless_one.server, 0u);

  const Plan& keyed = planFor(two(), {"EVAL", "return 1", "2", "{s}a", "{s}b", "arg"});
  EXPECT_EQ(keyed.kind, PlanKind::kForward);
  EXPECT_EQ(keyed.server, two().serverForKey("s"));
  EXPECT_EQ(planFor(two(), {"EVAL", "return 1", "2", keyOn(0), keyOn(1)}).error,
            std::string(resp::kErrCrossShard));

  // An illegal numkeys goes to a backend, which refuses it with Redis's own words.
  for (std::string numkeys : {"x", "-1", "3"}) {
    const Plan& bad = planFor(two(), {"EVAL", "return 1", numkeys, "k"});
    EXPECT_EQ(bad.kind, PlanKind::kForward) << numkeys;
    EXPECT_EQ(bad.server, 0u);
  }
}

TEST_F(RouterTest, PlanIsResetBetweenCalls) {
  Plan& plan = plan_;
  planFor(two(), {"MGET", keyOn(0), keyOn(1)});
  ASSERT_EQ(plan.kind, PlanKind::kSplit);
  ASSERT_EQ(plan.keys.size(), 2u);
  planFor(two(), {"GET", keyOn(1)});
  EXPECT_EQ(plan.kind, PlanKind::kForward);
  EXPECT_EQ(plan.server, 1u);
  EXPECT_TRUE(plan.keys.empty());
  planFor(two(), {"nope"});
  EXPECT_EQ(plan.kind, PlanKind::kError);
  EXPECT_EQ(plan.command, nullptr);
  planFor(two(), {"GET", keyOn(0)});
  EXPECT_EQ(plan.kind, PlanKind::kForward);
  EXPECT_EQ(plan.error, "");
  EXPECT_EQ(plan.server, 0u);
}

TEST_F(RouterTest, WellFormedOnlyPastTheChecksRedisMakesBeforeAuthentication) {
  EXPECT_FALSE(planFor(two(), {"NOSUCHCOMMAND"}).well_formed);
  EXPECT_FALSE(planFor(two(), {"GET"}).well_formed);
  EXPECT_FALSE(planFor(two(), {"CLIENT", "NOSUCHSUB"}).well_formed);
  EXPECT_TRUE(planFor(two(), {"GET", "k"}).well_formed);
  EXPECT_TRUE(planFor(two(), {"TIME"}).well_formed);  // refused, but a valid command
  const Plan& cross = planFor(two(), {"RENAME", keyOn(0), keyOn(1)});
  EXPECT_EQ(cross.kind, PlanKind::kError);
  EXPECT_TRUE(cross.well_formed);
}

}  // namespace
}  // namespace sy::route

namespace sy::route {
namespace {

// A read of a replication group that read_from may send to a replica is planned as one to
// send again, by the same policy, if its connection fails before the reply.
TEST(RouterRetry, OnlyGroupReadsThatMayGoToAReplicaAreRetried) {
  auto topology = topology::buildFromYaml(
      "replicas:\n"
      "  listen: 127.0.0.1:22131\n"
      "  read_from: prefer_replica\n"
      "  servers:\n"
      "    - 127.0.0.1:6390:1 g\n"
      "    - 127.0.0.1:6391:1 g\n"
      "masters:\n"
      "  listen: 127.0.0.1:22132\n"
      "  servers:\n"
      "    - 127.0.0.1:6392:1 h\n"
      "    - 127.0.0.1:6393:1 h\n"
      "plain:\n"
      "  listen: 127.0.0.1:22133\n"
      "  servers:\n"
      "    - 127.0.0.1:6394:1\n");
  ASSERT_NE(topology, nullptr);
  Router router;
  Plan plan;
  auto planFor = [&](size_t pool, std::vector<std::string_view> args) {
    router.plan(topology->pools()[pool], args, plan);
    EXPECT_EQ(plan.kind, PlanKind::kForward);
    return plan.retry_read;
  };
  EXPECT_TRUE(planFor(0, {"GET", "k"}));
  EXPECT_TRUE(planFor(0, {"LOLWUT"}));  // keyless, on a pool of one group
  EXPECT_FALSE(planFor(0, {"SET", "k", "v"}));
  EXPECT_FALSE(planFor(1, {"GET", "k"}));  // read_from: master
  EXPECT_FALSE(planFor(2, {"GET", "k"}));  // not a group
}

}  // namespace
}  // namespace sy::route
