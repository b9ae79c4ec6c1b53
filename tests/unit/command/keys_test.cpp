#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "command/command.h"

namespace sy::command {
namespace {

using Positions = std::vector<uint32_t>;

// Keys of a request, or {999} when extractKeys() rejects the arguments.
Positions keysOf(std::vector<std::string_view> args) {
  const CommandInfo* command = findCommand(args);
  EXPECT_NE(command, nullptr) << args[0];
  if (command == nullptr) return {};
  Positions out{42};  // extractKeys clears it first
  if (!extractKeys(*command, args, out)) {
    EXPECT_TRUE(out.empty());
    return {999};
  }
  return out;
}

const Positions kRejected{999};

TEST(ExtractKeys, SingleKeyCommands) {
  EXPECT_EQ(keysOf({"GET", "k"}), Positions{1});
  EXPECT_EQ(keysOf({"set", "k", "v", "EX", "10", "GET"}), Positions{1});
  EXPECT_EQ(keysOf({"hset", "h", "f", "v", "f2", "v2"}), Positions{1});
  EXPECT_EQ(keysOf({"bitfield", "b", "GET", "u8", "0"}), Positions{1});
  EXPECT_EQ(keysOf({"object", "ENCODING", "k"}), Positions{2});
  EXPECT_EQ(keysOf({"object", "freq", "k"}), Positions{2});
  EXPECT_EQ(keysOf({"memory", "usage", "k", "SAMPLES", "5"}), Positions{2});
  EXPECT_EQ(keysOf({"xinfo", "stream", "s", "FULL"}), Positions{2});
  EXPECT_EQ(keysOf({"xgroup", "create", "s", "g", "$"}), Positions{2});
}

TEST(ExtractKeys, RangesWithStep) {
  EXPECT_EQ(keysOf({"mget", "a", "b", "c"}), (Positions{1, 2, 3}));
  EXPECT_EQ(keysOf({"del", "a"}), Positions{1});
  EXPECT_EQ(keysOf({"mset", "a", "1", "b", "2", "c", "3"}), (Positions{1, 3, 5}));
  EXPECT_EQ(keysOf({"msetnx", "a", "1", "b", "2"}), (Positions{1, 3}));
  EXPECT_EQ(keysOf({"mset", "a", "1", "b"}), (Positions{1, 3}));  // Redis then says arity
  EXPECT_EQ(keysOf({"rename", "a", "b"}), (Positions{1, 2}));
  EXPECT_EQ(keysOf({"smove", "a", "b", "m"}), (Positions{1, 2}));
  EXPECT_EQ(keysOf({"bitop", "AND", "dst", "a", "b"}), (Positions{2, 3, 4}));
  EXPECT_EQ(keysOf({"sdiffstore", "dst", "a", "b"}), (Positions{1, 2, 3}));
  EXPECT_EQ(keysOf({"lmove", "a", "b", "LEFT", "RIGHT"}), (Positions{1, 2}));
}

TEST(ExtractKeys, NoKeys) {
  EXPECT_EQ(keysOf({"ping"}), Positions{});
  EXPECT_EQ(keysOf({"dbsize"}), Positions{});
  EXPECT_EQ(keysOf({"config", "get", "maxmemory"}), Positions{});
  // SPUBLISH's spec names a channel (not_key), which is never a key.
  EXPECT_EQ(keysOf({"spublish", "channel", "message"}), Positions{});
}

TEST(ExtractKeys, EvalWithNumkeys) {
  EXPECT_EQ(keysOf({"eval", "return 1", "0"}), Positions{});
  EXPECT_EQ(keysOf({"eval", "return 1", "0", "arg"}), Positions{});
  EXPECT_EQ(keysOf({"EVAL", "s", "2", "a", "b", "arg"}), (Positions{3, 4}));
  EXPECT_EQ(keysOf({"evalsha", "sha", "1", "a"}), Positions{3});
  EXPECT_EQ(keysOf({"eval_ro", "s", "1", "a"}), Positions{3});
  EXPECT_EQ(keysOf({"fcall", "f", "2", "a", "b"}), (Positions{3, 4}));
  EXPECT_EQ(keysOf({"fcall_ro", "f", "0"}), Positions{});
  EXPECT_EQ(keysOf({"eval", "s", "3", "a", "b"}), kRejected);  // numkeys too big
  EXPECT_EQ(keysOf({"eval", "s", "9223372036854775807", "a"}), kRejected);
  EXPECT_EQ(keysOf({"eval", "s", "-1", "a"}), kRejected);        // negative
  EXPECT_EQ(keysOf({"eval", "s", "two", "a", "b"}), kRejected);  // not a number
  EXPECT_EQ(keysOf({"eval", "s", "1x", "a"}), kRejected);
  EXPECT_EQ(keysOf({"eval", "s", "+1", "a"}), kRejected);
  EXPECT_EQ(keysOf({"eval", "s", "01", "a"}), kRejected);
  EXPECT_EQ(keysOf({"eval", "s", " 1", "a"}), kRejected);
  EXPECT_EQ(keysOf({"eval", "s", "", "a"}), kRejected);
  EXPECT_EQ(keysOf({"eval", "s", "99999999999999999999999", "a"}), kRejected);
  EXPECT_EQ(keysOf({"eval", "s"}), kRejected);  // numkeys missing
}

TEST(ExtractKeys, NumkeysCommands) {
  EXPECT_EQ(keysOf({"zunionstore", "dst", "2", "a", "b", "WEIGHTS", "1", "2"}),
            (Positions{1, 3, 4}));
  EXPECT_EQ(keysOf({"zinterstore", "dst", "3", "a", "b"}), kRejected);
  EXPECT_EQ(keysOf({"zunion", "2", "a", "b", "WITHSCORES"}), (Positions{2, 3}));
  EXPECT_EQ(keysOf({"zdiff", "1", "a"}), Positions{2});
  EXPECT_EQ(keysOf({"sintercard", "2", "a", "b", "LIMIT", "5"}), (Positions{2, 3}));
  EXPECT_EQ(keysOf({"zintercard", "1", "a"}), Positions{2});
  EXPECT_EQ(keysOf({"lmpop", "2", "a", "b", "LEFT", "COUNT", "3"}), (Positions{2, 3}));
  EXPECT_EQ(keysOf({"zmpop", "1", "a", "MIN"}), Positions{2});
  EXPECT_EQ(keysOf({"lmpop", "x", "a", "LEFT"}), kRejected);
}

TEST(ExtractKeys, StreamsKeyword) {
  EXPECT_EQ(keysOf({"xread", "STREAMS", "a", "b", "0", "0"}), (Positions{2, 3}));
  EXPECT_EQ(keysOf({"xread", "COUNT", "5", "streams", "a", "0"}), Positions{4});
  EXPECT_EQ(
      keysOf({"XREAD", "COUNT", "5", "BLOCK", "100", "STREAMS", "a", "b", "c", "$", "$", "$"}),
      (Positions{6, 7, 8}));
  EXPECT_EQ(keysOf({"xreadgroup", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "a", ">"}),
            Positions{7});
  EXPECT_EQ(keysOf({"xreadgroup", "GROUP", "g", "c", "BLOCK", "0", "NOACK", "STREAMS", "a", "b",
                    ">", ">"}),
            (Positions{8, 9}));
  // No STREAMS keyword: the spec finds nothing (Redis then answers a syntax error).
  EXPECT_EQ(keysOf({"xread", "COUNT", "5", "a", "0"}), Positions{});
}

TEST(ExtractKeys, StoreKeywords) {
  EXPECT_EQ(keysOf({"georadius", "g", "0", "0", "10", "km"}), Positions{1});
  EXPECT_EQ(keysOf({"georadius", "g", "0", "0", "10", "km", "STORE", "dst"}), (Positions{1, 7}));
  EXPECT_EQ(keysOf({"georadius", "g", "0", "0", "10", "km", "ASC", "storedist", "dst"}),
            (Positions{1, 8}));
  EXPECT_EQ(keysOf({"georadiusbymember", "g", "m", "10", "km", "STORE", "dst"}), (Positions{1, 6}));
  EXPECT_EQ(keysOf({"geosearchstore", "dst", "src", "FROMMEMBER", "m", "BYRADIUS", "1", "km"}),
            (Positions{1, 2}));
}

TEST(ExtractKeys, SortFollowsRedisSortGetKeys) {
  EXPECT_EQ(keysOf({"sort", "list"}), Positions{1});
  EXPECT_EQ(keysOf({"sort", "list", "ALPHA", "STORE", "dst"}), (Positions{1, 4}));
  EXPECT_EQ(keysOf({"sort", "list", "BY", "store", "LIMIT", "0", "10", "GET", "#", "store", "d"}),
            (Positions{1, 10}));
  EXPECT_EQ(keysOf({"sort", "list", "store", "a", "STORE", "b"}), (Positions{1, 5}));
  EXPECT_EQ(keysOf({"sort", "list", "STORE"}), Positions{1});
  EXPECT_EQ(keysOf({"sort_ro", "list", "BY", "w_*", "GET", "o_*"}), Positions{1});
}

TEST(ExtractKeys, ReusesCapacity) {
  const std::vector<std::string_view> args{"mset", "a", "1", "b", "2"};
  Positions out;
  out.reserve(8);
  const uint32_t* data = out.data();
  ASSERT_TRUE(extractKeys(*findCommand(args), args, out));
  EXPECT_EQ(out.data(), data);
  EXPECT_EQ(out, (Positions{1, 3}));
}

TEST(MayBlock, OnlyWhenTheCallBlocks) {
  auto blocks = [](std::vector<std::string_view> args) {
    return mayBlock(*findCommand(args), args);
  };
  EXPECT_TRUE(blocks({"blpop", "a", "0"}));
  EXPECT_TRUE(blocks({"bzmpop", "0", "1", "a", "MIN"}));
  EXPECT_FALSE(blocks({"lpop", "a"}));
  EXPECT_FALSE(blocks({"xread", "STREAMS", "a", "0"}));
  EXPECT_FALSE(blocks({"xread", "COUNT", "1", "STREAMS", "block", "0"}));
  EXPECT_TRUE(blocks({"xread", "COUNT", "1", "block", "0", "STREAMS", "a", "0"}));
  EXPECT_TRUE(blocks({"xreadgroup", "GROUP", "block", "c", "BLOCK", "0", "STREAMS", "a", ">"}));
  EXPECT_FALSE(blocks({"xreadgroup", "GROUP", "block", "c", "NOACK", "STREAMS", "a", ">"}));
}

TEST(BlockTimeout, FindsTheArgumentAndItsUnit) {
  // "index unit", or "none".
  auto timeout = [](std::vector<std::string_view> args) -> std::string {
    const BlockTimeout found = blockTimeout(*findCommand(args), args);
    if (!found.index) return "none";
    return std::to_string(*found.index) + (found.milliseconds ? " ms" : " s");
  };
  EXPECT_EQ(timeout({"blpop", "a", "b", "1.5"}), "3 s");
  EXPECT_EQ(timeout({"blmove", "a", "b", "LEFT", "RIGHT", "0"}), "5 s");
  EXPECT_EQ(timeout({"bzmpop", "2", "1", "a", "MIN"}), "1 s");
  EXPECT_EQ(timeout({"blmpop", "2", "1", "a", "LEFT"}), "1 s");
  EXPECT_EQ(timeout({"xread", "COUNT", "1", "BLOCK", "50", "STREAMS", "a", "0"}), "4 ms");
  EXPECT_EQ(timeout({"xreadgroup", "GROUP", "block", "c", "BLOCK", "0", "STREAMS", "a", ">"}),
            "5 ms");
  EXPECT_EQ(timeout({"xread", "STREAMS", "block", "0"}), "none");
  EXPECT_EQ(timeout({"lpop", "a", "1"}), "none");
}

}  // namespace
}  // namespace sy::command
