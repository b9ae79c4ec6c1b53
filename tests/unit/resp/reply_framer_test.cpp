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
  EXPECT_EQ(frameEveryWay("+1234567\r\n", limits), Outcomes{okReply("+1234567\r\n")});
  EXPECT_EQ(frameEveryWay("+12345678\r\n", limits), Outcomes{errorOutcome(kErrReplyLineTooLong)});
  EXPECT_EQ(frameEveryWay("+1234567", limits), Outcomes{needMoreOutcome()});
  EXPECT_EQ(frameEveryWay("+12345678", limits), Outcomes{errorOutcome(kErrReplyLineTooLong)});
  EXPECT_EQ(frameEveryWay("*1\r\n$0000000", limits), Outcomes{needMoreOutcome()});
  EXPECT_EQ(frameEveryWay("*1\r\n$00000000", limits), Outcomes{errorOutcome(kErrReplyLineTooLong)});
}

TEST(ReplyFramer, BulkLimit) {
  FramerLimits limits;
  limits.max_bulk_bytes = 4;
  EXPECT_EQ(frameEveryWay("$4\r\nabcd\r\n", limits), Outcomes{okReply("$4\r\nabcd\r\n")});
  EXPECT_EQ(frameReplies("$5\r\n", {}, limits), Outcomes{errorOutcome(kErrReplyBulkTooBig)});
  EXPECT_EQ(frameReplies("!5\r\n", {}, limits), Outcomes{errorOutcome(kErrReplyBulkTooBig)});
  EXPECT_EQ(frameReplies("$1073741824\r\n", {}), Outcomes{needMoreOutcome()});
  EXPECT_EQ(frameReplies("$1073741825\r\n", {}), Outcomes{errorOutcome(kErrReplyBulkTooBig)});
}

TEST(ReplyFramer, DepthLimit) {
  FramerLimits limits;
  limits.max_depth = 3;
  EXPECT_EQ(frameEveryWay(nested(3), limits), Outcomes{okReply(nested(3))});
  EXPECT_EQ(frameEveryWay(nested(4), limits), Outcomes{errorOutcome(kErrReplyTooDeep)});
  EXPECT_EQ(frameReplies(nested(128), {}), Outcomes{okReply(nested(128))});
  EXPECT_EQ(frameReplies(nested(129), {}), Outcomes{errorOutcome(kErrReplyTooDeep)});
  // Empty and null aggregates open no level.
  EXPECT_EQ(frameEveryWay("*3\r\n*1\r\n*1\r\n*0\r\n*-1\r\n%0\r\n", limits),
            Outcomes{okReply("*3\r\n*1\r\n*1\r\n*0\r\n*-1\r\n%0\r\n")});
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
