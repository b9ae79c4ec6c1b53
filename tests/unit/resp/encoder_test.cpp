#include "resp/encoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "resp/request_parser.h"

namespace sy::resp {
namespace {

using common::ByteBuffer;

TEST(Encoder, Replies) {
  ByteBuffer out;
  appendSimple(out, "OK");
  appendError(out, "ERR unknown command");
  appendInteger(out, 0);
  appendInteger(out, -42);
  appendInteger(out, INT64_MIN);
  appendBulk(out, "foo");
  appendBulk(out, "");
  appendNullBulk(out);
  appendArrayHeader(out, 2);
  appendArrayHeader(out, 0);
  appendNullArray(out);
  EXPECT_EQ(out.view(),
            "+OK\r\n-ERR unknown command\r\n:0\r\n:-42\r\n:-9223372036854775808\r\n"
            "$3\r\nfoo\r\n$0\r\n\r\n$-1\r\n*2\r\n*0\r\n*-1\r\n");
}

TEST(Encoder, ErrorsNeverCarryLineBreaks) {
  ByteBuffer out;
  appendError(out, "ERR bad\r\ninput\n");
  EXPECT_EQ(out.view(), "-ERR bad  input \r\n");
}

TEST(Encoder, BulkIsBinarySafe) {
  ByteBuffer out;
  const std::string payload("a\r\n\0b", 5);
  appendBulk(out, payload);
  EXPECT_EQ(out.view(), std::string("$5\r\na\r\n\0b\r\n", 11));
}

TEST(Encoder, CommandRoundTripsThroughTheParser) {
  const std::vector<std::string_view> args = {"SET", "key", "", std::string_view("v\r\n\0", 4)};
  ByteBuffer out;
  appendCommand(out, args);
  EXPECT_EQ(out.view(),
            std::string("*4\r\n$3\r\nSET\r\n$3\r\nkey\r\n$0\r\n\r\n$4\r\nv\r\n\0\r\n", 38));
  RequestParser parser;
  Request request;
  size_t consumed = 0;
  ASSERT_EQ(parser.parse(out.view(), consumed, request), ParseStatus::kOk);
  EXPECT_EQ(consumed, out.size());
  EXPECT_EQ(request.args, args);
}

TEST(Encoder, AppendsAfterExistingBytesAndGrows) {
  ByteBuffer out(4);
  out.append("xy");
  appendBulk(out, std::string(1000, 'z'));
  EXPECT_EQ(out.view().substr(0, 9), "xy$1000\r\n");
  EXPECT_EQ(out.size(), 2 + 7 + 1000 + 2u);
  std::vector<std::string_view> none;
  appendCommand(out, none);
  EXPECT_EQ(out.view().substr(out.size() - 4), "*0\r\n");
}

}  // namespace
}  // namespace sy::resp
