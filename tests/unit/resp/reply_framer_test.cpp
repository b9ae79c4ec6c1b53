#include "resp/reply_framer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "feed.h"
#include "resp/errors.h"

namespace sy::resp {
namespace {

using Outcomes = std::vector<Outcome>;

std::string nested(size_t depth) {
  std::string reply;
  for (size_t i = 0; i < depth; ++i) reply += "*1\r\n";
  return reply + ":1\r\n";
}

TEST(ReplyFramer, FramesEveryResp2Type) {
  for (std::string reply :
       {"+OK\r\n", "+\r\n", "-ERR unknown command 'x'\r\n", ":0\r\n", ":-9223372036854775808\r\n",
        "$3\r\nfoo\r\n", "$0\r\n\r\n", "$4\r\na\r\nb\r\n", "$-1\r\n", "*-1\r\n", "*0\r\n",
        "*3\r\n$1\r\na\r\n$-1\r\n:7\r\n", "*2\r\n*1\r\n+a\r\n*0\r\n",
        "*2\r\n*2\r\n-ERR x\r\n*-1\r\n$2\r\nok\r\n"}) {
    EXPECT_EQ(frameEveryWay(reply), Outcomes{okReply(reply)}) << reply;
  }
}

TEST(ReplyFramer, FramesResp3Types) {
  for (std::string reply :
       {"_\r\n", ",3.14\r\n", ",-inf\r\n", "#t\r\n", "#f\r\n",
        "(3492890328409238509324850943850943825024385\r\n", "(-1\r\n", "=15\r\ntxt:Some string\r\n",
        "!21\r\nSYNTAX invalid syntax\r\n", "%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n", "%0\r\n",
        "~2\r\n+a\r\n+b\r\n", ">3\r\n+message\r\n+chan\r\n$2\r\nhi\r\n",
        "*2\r\n%1\r\n+k\r\n~1\r\n_\r\n#t\r\n"}) {
    EXPECT_EQ(frameEveryWay(reply), Outcomes{okReply(reply)}) << reply;
  }
}

TEST(ReplyFramer, AttributeBelongsToTheValueAfterIt) {
  const std::string top = "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*2\r\n:1\r\n:2\r\n";
  EXPECT_EQ(frameEveryWay(top), Outcomes{okReply(top)});
  const std::string inner = "*2\r\n:1\r\n|1\r\n+ttl\r\n:3600\r\n:2\r\n";
  EXPECT_EQ(frameEveryWay(inner), Outcomes{okReply(inner)});
  const std::string empty = "|0\r\n+OK\r\n";
  EXPECT_EQ(frameEveryWay(empty), Outcomes{okReply(empty)});
  EXPECT_EQ(frameReplies("|1\r\n+a\r\n+b\r\n", {}), Outcomes{needMoreOutcome()});
}

TEST(ReplyFramer, FramesPipelinedReplies) {
  const std::string input = "+OK\r\n$1\r\nx\r\n*2\r\n:1\r\n$-1\r\n-ERR e\r\n:5";
  EXPECT_EQ(frameEveryWay(input),
            (Outcomes{okReply("+OK\r\n"), okReply("$1\r\nx\r\n"), okReply("*2\r\n:1\r\n$-1\r\n"),
                      okReply("-ERR e\r\n"), needMoreOutcome()}));
}

TEST(ReplyFramer, IncompleteRepliesNeedMore) {
  const std::string reply = "*3\r\n$3\r\nfoo\r\n*1\r\n:1\r\n+x\r\n";
  for (size_t n = 1; n < reply.size(); ++n) {
    EXPECT_EQ(frameReplies(reply.substr(0, n), {}), Outcomes{needMoreOutcome()}) << n;
  }
}

TEST(ReplyFramer, MalformedReplies) {
  struct Case {
    std::string reply;
    std::string_view error;
  };
  const std::vector<Case> cases = {
      {"?x\r\n", kErrReplyUnknownType},
      {"\r\n", kErrReplyUnknownType},
      {"*1\r\nOK\r\n", kErrReplyUnknownType},
      {"+OK\rX", kErrReplyBadLineEnd},
      {":abc\r\n", kErrReplyBadInteger},
      {":\r\n", kErrReplyBadInteger},
      {":01\r\n", kErrReplyBadInteger},
      {"(1.5\r\n", kErrReplyBadInteger},
      {"(\r\n", kErrReplyBadInteger},
      {"$-2\r\n", kErrReplyBadLength},
      {"$x\r\n", kErrReplyBadLength},
      {"*-2\r\n", kErrReplyBadLength},
      {"%-1\r\n", kErrReplyBadLength},
      {"!-1\r\n", kErrReplyBadLength},
      {"*1x\r\n", kErrReplyBadLength},
      {"$3\r\nfooXY", kErrReplyBulkNotTerminated},
      {"$3\r\nfoo\n\r", kErrReplyBulkNotTerminated},
      {"_x\r\n", kErrReplyBadNull},
      {"#x\r\n", kErrReplyBadBoolean},
      {"#\r\n", kErrReplyBadBoolean},
      {",\r\n", kErrReplyBadDouble},
      {"=3\r\nabc\r\n", kErrReplyBadVerbatim},
      {"=5\r\nabcde\r\n", kErrReplyBadVerbatim},
      {"$?\r\n", kErrReplyStreamed},
      {"*?\r\n", kErrReplyStreamed},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(frameEveryWay(c.reply), Outcomes{errorOutcome(c.error)}) << c.reply;
  }
}

TEST(ReplyFramer, LineLimit) {
  FramerLimits limits;
  limits.max_line_bytes = 8;
  EXPECT_EQ(frameEveryWay(",1234567\r\n", limits), Outcomes{okReply(",1234567\r\n")});
  EXPECT_EQ(frameEveryWay(",12345678\r\n", limits), Outcomes{errorOutcome(kErrReplyLineTooLong)});
  EXPECT_EQ(frameEveryWay(",1234567", limits), Outcomes{needMoreOutcome()});
  EXPECT_EQ(frameEveryWay(",12345678", limits), Outcomes{errorOutcome(kErrReplyLineTooLong)});
  EXPECT_EQ(frameEveryWay("*1\r\n$0000000", limits), Outcomes{needMoreOutcome()});
  EXPECT_EQ(frameEveryWay("*1\r\n$00000000", limits), Outcomes{errorOutcome(kErrReplyLineTooLong)});
}

TEST(ReplyFramer, AggregatesOfAnyDepth) {
  // A script can return a table nested as deep as it likes; Redis forwards it as it is.
  EXPECT_EQ(frameEveryWay(nested(300)), Outcomes{okReply(nested(300))});
  const std::string deep = nested(1'000'000);
  EXPECT_EQ(frameReplies(deep, {}), Outcomes{okReply(deep)});
  EXPECT_EQ(frameReplies(deep, chunksOf(4096, deep.size())), Outcomes{okReply(deep)});
  // Every level still open, then each closing in turn with more elements after it.
  std::string wide;
  for (int i = 0; i < 1000; ++i) wide += "*2\r\n";
  wide += ":1\r\n";
  for (int i = 0; i < 1000; ++i) wide += "+x\r\n";
  EXPECT_EQ(frameReplies(wide + "+OK\r\n", chunksOf(7, wide.size() + 5)),
            (Outcomes{okReply(wide), okReply("+OK\r\n")}));
  // Empty and null aggregates open no level.
  EXPECT_EQ(frameEveryWay("*3\r\n*1\r\n*1\r\n*0\r\n*-1\r\n%0\r\n"),
            Outcomes{okReply("*3\r\n*1\r\n*1\r\n*0\r\n*-1\r\n%0\r\n")});
}

TEST(ReplyFramer, SimpleStringsAndErrorsHaveNoLineLimit) {
  // redis.status_reply() and redis.error_reply() take any text a script gives them.
  FramerLimits limits;
  limits.max_line_bytes = 8;
  const std::string status = "+" + std::string(100, 's') + "\r\n";
  const std::string error = "-ERR " + std::string(100, 'e') + "\r\n";
  EXPECT_EQ(frameEveryWay(status + error, limits), (Outcomes{okReply(status), okReply(error)}));
  EXPECT_EQ(frameEveryWay("*1\r\n" + status, limits), Outcomes{okReply("*1\r\n" + status)});
  EXPECT_EQ(frameEveryWay("+" + std::string(100, 's'), limits), Outcomes{needMoreOutcome()});
}

TEST(ReplyFramer, RepliesPastTheLimitAreFramedAndReportedOversized) {
  FramerLimits limits;
  limits.max_reply_bytes = 16;
  const std::string at_limit = "$6\r\n123456\r\n+OK\r\n";  // 12 bytes, then 5
  EXPECT_EQ(frameEveryWay(at_limit, limits),
            (Outcomes{okReply("$6\r\n123456\r\n"), okReply("+OK\r\n")}));
  const std::string sixteen = "$9\r\n123456789\r\n";
  EXPECT_EQ(frameEveryWay(sixteen, limits), Outcomes{okReply(sixteen)});
  struct Case {
    std::string reply;
    size_t size;
  };
  const std::vector<Case> cases = {
      {"$10\r\n1234567890\r\n", 17},
      {"$40\r\n" + std::string(40, 'b') + "\r\n", 47},
      {"*3\r\n:1\r\n:2\r\n$8\r\n12345678\r\n", 26},
      {"+" + std::string(30, 's') + "\r\n", 33},
      {"-ERR " + std::string(30, 'e') + "\r\n", 37},
      {"*2\r\n+" + std::string(30, 's') + "\r\n$1\r\nx\r\n", 44},
      {"=30\r\ntxt:" + std::string(26, 'v') + "\r\n", 37},
      {nested(10), 44},
  };
  for (const Case& c : cases) {
    ASSERT_EQ(c.reply.size(), c.size) << c.reply;
    EXPECT_EQ(frameEveryWay(c.reply + ":7\r\n", limits),
              (Outcomes{oversizedReply(c.size), okReply(":7\r\n")}))
        << c.reply;
  }
  // Bytes that are not RESP are still malformed, oversized or not.
  EXPECT_EQ(frameEveryWay("*2\r\n$20\r\n" + std::string(20, 'x') + "\r\n?", limits),
            Outcomes{errorOutcome(kErrReplyUnknownType)});
  EXPECT_EQ(frameEveryWay("$20\r\n" + std::string(20, 'x') + "XY", limits),
            Outcomes{errorOutcome(kErrReplyBulkNotTerminated)});
  EXPECT_EQ(frameEveryWay("=30\r\ntxt;" + std::string(26, 'v') + "\r\n", limits),
            Outcomes{errorOutcome(kErrReplyBadVerbatim)});
}

TEST(ReplyFramer, AnOversizedReplyIsNotHeld) {
  // The caller drops what droppable() allows after each read: it never holds much more than
  // one read, whatever the reply's size or shape.
  FramerLimits limits;
  limits.max_reply_bytes = 64 * 1024;
  std::string many = "*200000\r\n";
  for (int i = 0; i < 200000; ++i) many += "$5\r\nvalue\r\n";
  const std::vector<std::string> replies = {
      "$8388608\r\n" + std::string(8 * 1024 * 1024, 'x') + "\r\n", many,
      "-ERR " + std::string(4 * 1024 * 1024, 'e') + "\r\n"};
  for (const std::string& reply : replies) {
    ReplyFramer framer(limits);
    std::string buffer;
    size_t most_held = 0;
    size_t consumed = 0;
    ParseStatus status = ParseStatus::kNeedMore;
    for (size_t given = 0; given < reply.size(); given += 4096) {
      buffer.append(reply.substr(given, 4096));
      most_held = std::max(most_held, buffer.size());
      status = framer.frame(buffer, consumed);
      if (status != ParseStatus::kNeedMore) break;
      size_t drop = framer.droppable();
      buffer.erase(0, drop);
      framer.dropped(drop);
    }
    ASSERT_EQ(status, ParseStatus::kOk);
    EXPECT_TRUE(framer.lastReplyOversized());
    EXPECT_EQ(framer.lastReplySize(), reply.size());
    EXPECT_EQ(consumed, buffer.size());
    EXPECT_LE(most_held, limits.max_reply_bytes + 2 * 4096);
  }
}

TEST(ReplyFramer, ErrorsAreStickyUntilReset) {
  ReplyFramer framer;
  size_t consumed = 0;
  ASSERT_EQ(framer.frame("?\r\n", consumed), ParseStatus::kError);
  EXPECT_EQ(framer.error(), kErrReplyUnknownType);
  EXPECT_EQ(framer.frame("+OK\r\n", consumed), ParseStatus::kError);
  framer.reset();
  EXPECT_TRUE(framer.error().empty());
  EXPECT_EQ(framer.frame("+OK\r\n", consumed), ParseStatus::kOk);
  EXPECT_EQ(consumed, 5u);
}

TEST(ReplyFramer, ResetForgetsPartialReply) {
  ReplyFramer framer;
  size_t consumed = 0;
  ASSERT_EQ(framer.frame("*2\r\n:1\r\n", consumed), ParseStatus::kNeedMore);
  framer.reset();
  ASSERT_EQ(framer.frame(":1\r\n", consumed), ParseStatus::kOk);
  EXPECT_EQ(consumed, 4u);
}

TEST(ReplyFramer, BigRepliesInSmallReadsAreLinear) {
  const std::string bulk = "$16777216\r\n" + std::string(16 * 1024 * 1024, 'x') + "\r\n";
  std::string array = "*100000\r\n";
  for (int i = 0; i < 100000; ++i) array += "$5\r\nvalue\r\n";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(frameReplies(bulk, chunksOf(4096, bulk.size())), Outcomes{okReply(bulk)});
  EXPECT_EQ(frameReplies(array, chunksOf(4096, array.size())), Outcomes{okReply(array)});
  // Rescanning on every read would be ~32 GiB for the bulk and ~140 GB for the array.
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            std::chrono::seconds(5) * SY_TEST_TIME_FACTOR);
}

}  // namespace
}  // namespace sy::resp
