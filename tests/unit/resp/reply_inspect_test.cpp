#include "resp/reply_inspect.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sy::resp {
namespace {

using Views = std::vector<std::string_view>;

TEST(ReplyInspect, IsErrorReply) {
  EXPECT_TRUE(isErrorReply("-ERR x\r\n"));
  EXPECT_TRUE(isErrorReply("-MOVED 3999 127.0.0.1:6381\r\n"));
  EXPECT_FALSE(isErrorReply("+OK\r\n"));
  EXPECT_FALSE(isErrorReply("$4\r\n-ERR\r\n"));
  EXPECT_FALSE(isErrorReply(""));
}

TEST(ReplyInspect, SplitArrayGivesEachTopLevelElement) {
  Views out{"stale"};
  ASSERT_TRUE(splitArray("*4\r\n$3\r\nfoo\r\n$-1\r\n*2\r\n:1\r\n*1\r\n+x\r\n-ERR e\r\n", out));
  EXPECT_EQ(out, (Views{"$3\r\nfoo\r\n", "$-1\r\n", "*2\r\n:1\r\n*1\r\n+x\r\n", "-ERR e\r\n"}));
  ASSERT_TRUE(splitArray("*0\r\n", out));
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(splitArray("*2\r\n$4\r\na\r\nb\r\n*-1\r\n", out));
  EXPECT_EQ(out, (Views{"$4\r\na\r\nb\r\n", "*-1\r\n"}));
}

TEST(ReplyInspect, SplitArrayUnderstandsResp3Elements) {
  Views out;
  ASSERT_TRUE(
      splitArray("*4\r\n%1\r\n+k\r\n:1\r\n_\r\n|1\r\n+a\r\n+b\r\n#t\r\n=5\r\ntxt:x\r\n", out));
  EXPECT_EQ(out,
            (Views{"%1\r\n+k\r\n:1\r\n", "_\r\n", "|1\r\n+a\r\n+b\r\n#t\r\n", "=5\r\ntxt:x\r\n"}));
}

TEST(ReplyInspect, SplitArrayRejectsOtherRepliesAndMalformedBytes) {
  Views out{"stale"};
  EXPECT_FALSE(splitArray("*-1\r\n", out));
  EXPECT_TRUE(out.empty());
  for (std::string_view framed :
       {"+OK\r\n", "$1\r\n*\r\n", "", "*", "*2\r\n:1\r\n", "*1\r\n$5\r\nab\r\n", "*1\r\n$2\r\nabXY",
        "*x\r\n", "*1\r\n*99999\r\n", "*1\r\n:1\rx"}) {
    out = {"stale"};
    EXPECT_FALSE(splitArray(framed, out)) << framed;
    EXPECT_TRUE(out.empty()) << framed;
  }
}

TEST(ReplyInspect, ReplyLength) {
  EXPECT_EQ(replyLength("+OK\r\n+next\r\n"), 5u);
  EXPECT_EQ(replyLength("*2\r\n$1\r\na\r\n:2\r\nmore"), 15u);
  EXPECT_EQ(replyLength("|1\r\n+a\r\n+b\r\n:1\r\n"), 16u);
  EXPECT_EQ(replyLength("*2\r\n$1\r\na\r\n"), 0u);
  EXPECT_EQ(replyLength(""), 0u);
}

TEST(ReplyInspect, IntegerReply) {
  EXPECT_EQ(integerReply(":0\r\n"), 0);
  EXPECT_EQ(integerReply(":42\r\n"), 42);
  EXPECT_EQ(integerReply(":-9223372036854775808\r\n"), INT64_MIN);
  EXPECT_EQ(integerReply(":9223372036854775807\r\n"), INT64_MAX);
  EXPECT_EQ(integerReply(":9223372036854775808\r\n"), std::nullopt);
  EXPECT_EQ(integerReply(":x\r\n"), std::nullopt);
  EXPECT_EQ(integerReply(":1"), std::nullopt);
  EXPECT_EQ(integerReply("+1\r\n"), std::nullopt);
  EXPECT_EQ(integerReply("$1\r\n1\r\n"), std::nullopt);
}

TEST(ReplyInspect, LineReplyText) {
  EXPECT_EQ(lineReplyText("+OK\r\n"), "OK");
  EXPECT_EQ(lineReplyText("-ERR wrong type\r\n"), "ERR wrong type");
  EXPECT_EQ(lineReplyText("+\r\n"), "");
  EXPECT_EQ(lineReplyText(":1\r\n"), "");
  EXPECT_EQ(lineReplyText("+OK"), "");
}

TEST(ReplyInspect, BulkReply) {
  EXPECT_EQ(bulkReply("$3\r\nfoo\r\n"), "foo");
  EXPECT_EQ(bulkReply("$0\r\n\r\n"), "");
  EXPECT_EQ(bulkReply("$4\r\na\r\nb\r\n"), "a\r\nb");
  EXPECT_EQ(bulkReply("$-1\r\n"), std::nullopt);
  EXPECT_EQ(bulkReply("+foo\r\n"), std::nullopt);
  EXPECT_EQ(bulkReply("$5\r\nfoo\r\n"), std::nullopt);
  EXPECT_EQ(bulkReply("$x\r\n"), std::nullopt);
}

TEST(ReplyInspect, TextReplyIsABulkOrASimpleString) {
  EXPECT_EQ(textReply("$3\r\nfoo\r\n"), "foo");
  EXPECT_EQ(textReply("+master\r\n"), "master");
  EXPECT_EQ(textReply("$-1\r\n"), std::nullopt);
  EXPECT_EQ(textReply(":1\r\n"), std::nullopt);
  EXPECT_EQ(textReply("-ERR x\r\n"), std::nullopt);
}

TEST(ReplyInspect, IntegerOrDecimalReplyReadsBothSpellings) {
  EXPECT_EQ(integerOrDecimalReply(":7000\r\n"), 7000);
  EXPECT_EQ(integerOrDecimalReply("$4\r\n7000\r\n"), 7000);
  EXPECT_EQ(integerOrDecimalReply("+-12\r\n"), -12);
  EXPECT_EQ(integerOrDecimalReply("$0\r\n\r\n"), std::nullopt);
  EXPECT_EQ(integerOrDecimalReply("$3\r\n12x\r\n"), std::nullopt);
  EXPECT_EQ(integerOrDecimalReply("$21\r\n999999999999999999999\r\n"), std::nullopt);
  EXPECT_EQ(integerOrDecimalReply("*0\r\n"), std::nullopt);
}

}  // namespace
}  // namespace sy::resp
