#include "resp/request_parser.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "feed.h"
#include "resp/errors.h"

namespace sy::resp {
namespace {

using Outcomes = std::vector<Outcome>;
using namespace std::string_literals;

std::string multibulk(const std::vector<std::string>& args) {
  std::string out;
  out.append("*").append(std::to_string(args.size())).append("\r\n");
  for (const std::string& arg : args) {
    out.append("$").append(std::to_string(arg.size())).append("\r\n").append(arg).append("\r\n");
  }
  return out;
}

TEST(RequestParser, ParsesMultibulkCommands) {
  const std::string get = multibulk({"GET", "key"});
  EXPECT_EQ(parseEveryWay(get), Outcomes{okRequest({"GET", "key"}, get)});
  const std::string set = multibulk({"SET", "key", std::string(32, 'v')});
  EXPECT_EQ(parseEveryWay(set), Outcomes{okRequest({"SET", "key", std::string(32, 'v')}, set)});
}

TEST(RequestParser, BulkArgumentsAreBinarySafe) {
  const std::string payload = "a\r\nb\0c*$\n"s;
  const std::string request = multibulk({"SET", "", payload});
  EXPECT_EQ(parseEveryWay(request), Outcomes{okRequest({"SET", "", payload}, request)});
}

TEST(RequestParser, EmptyMultibulkRequestsHaveNoArguments) {
  for (std::string request : {"*0\r\n", "*-1\r\n", "*-5\r\n"}) {
    EXPECT_EQ(parseEveryWay(request), Outcomes{okRequest({}, request)}) << request;
  }
}

TEST(RequestParser, ParsesPipelinedRequestsOneAtATime) {
  const std::string a = multibulk({"GET", "a"});
  const std::string b = multibulk({"MGET", "a", "b", "c"});
  const std::string input = a + "PING\r\n" + b + "*0\r\n" + "ECHO x\n" + b.substr(0, 9);
  EXPECT_EQ(parseEveryWay(input),
            (Outcomes{okRequest({"GET", "a"}, a), okRequest({"PING"}, "PING\r\n", true),
                      okRequest({"MGET", "a", "b", "c"}, b), okRequest({}, "*0\r\n"),
                      okRequest({"ECHO", "x"}, "ECHO x\n", true), needMoreOutcome()}));
}

TEST(RequestParser, IncompleteRequestsNeedMore) {
  const std::string set = multibulk({"SET", "key", "value"});
  for (size_t n = 1; n < set.size(); ++n) {
    EXPECT_EQ(parseRequests(set.substr(0, n), {}), Outcomes{needMoreOutcome()}) << n;
  }
  EXPECT_EQ(parseRequests("PING", {}), Outcomes{needMoreOutcome()});
  EXPECT_EQ(parseRequests("PING\r", {}), Outcomes{needMoreOutcome()});
}

TEST(RequestParser, InlineLinesEndWithLfOrCrLf) {
  EXPECT_EQ(parseEveryWay("PING\r\n"), Outcomes{okRequest({"PING"}, "PING\r\n", true)});
  EXPECT_EQ(parseEveryWay("PING\n"), Outcomes{okRequest({"PING"}, "PING\n", true)});
  EXPECT_EQ(parseEveryWay("  set\t a   b \r\n"),
            Outcomes{okRequest({"set", "a", "b"}, "  set\t a   b \r\n", true)});
  // A lone CR inside the line separates arguments, as in Redis.
  EXPECT_EQ(parseEveryWay("a\rb\r\r\n"), Outcomes{okRequest({"a", "b"}, "a\rb\r\r\n", true)});
}

TEST(RequestParser, EmptyInlineLinesHaveNoArguments) {
  EXPECT_EQ(parseEveryWay("\r\n"), Outcomes{okRequest({}, "\r\n", true)});
  EXPECT_EQ(parseEveryWay("\n"), Outcomes{okRequest({}, "\n", true)});
  EXPECT_EQ(parseEveryWay("   \t \r\n"), Outcomes{okRequest({}, "   \t \r\n", true)});
}

struct InlineCase {
  std::string line;
  std::vector<std::string> args;
};

// Cases from the behaviour of sdssplitargs (Redis's inline splitter).
TEST(RequestParser, InlineQuotingFollowsRedis) {
  const std::vector<InlineCase> cases = {
      {R"(set "foo bar" 'x y')", {"set", "foo bar", "x y"}},
      {R"("\x41\x42\x7a" "\x4")", {"ABz", "x4"}},
      {R"("\xZZ" "\xa")", {"xZZ", "xa"}},
      {R"("a\nb\rc\td\be\af\\g\"h\q")", {"a\nb\rc\td\be\af\\g\"hq"}},
      {R"('it\'s' 'a\nb' 'back\\slash')", {"it's", R"(a\nb)", R"(back\\slash)"}},
      {R"(a"b c" d'e f')", {"ab c", "de f"}},
      {R"("" '')", {"", ""}},
      {"\"tab\"\tx", {"tab", "x"}},
      {"a\vb \fc", {"a\vb", "c"}},    // \v and \f separate only between arguments
      {"GET a\0b c"s, {"GET", "a"}},  // a NUL byte ends the line
      {"\"\\x00\"", {"\0"s}},
      {"\xff\xfe \"\xe9\"", {"\xff\xfe", "\xe9"}},
  };
  for (const InlineCase& c : cases) {
    const std::string line = c.line + "\r\n";
    EXPECT_EQ(parseEveryWay(line), Outcomes{okRequest(c.args, line, true)}) << c.line;
  }
}

TEST(RequestParser, UnbalancedQuotesAreErrors) {
  for (std::string line :
       std::vector<std::string>{R"("foo)", R"('foo)", R"("foo"bar)", R"('foo'bar)", R"("foo"'bar')",
                                R"(a "b\")", R"("a\)", "\"a\0\""s}) {
    EXPECT_EQ(parseEveryWay(line + "\r\n"), Outcomes{errorOutcome(kErrUnbalancedQuotes)}) << line;
  }
}

TEST(RequestParser, InlineQuotedArgumentsSurviveTheNextRead) {
  // Unquoted arguments live in the parser: they stay valid while the caller's buffer moves.
  RequestParser parser;
  Request request;
  size_t consumed = 0;
  std::string buffer = "SET \"a b\" 'c'\r\n";
  ASSERT_EQ(parser.parse(buffer, consumed, request), ParseStatus::kOk);
  const std::vector<std::string_view> args = request.args;
  EXPECT_EQ(args[0].data(), buffer.data());
  buffer = std::string(1000, 'x');
  EXPECT_EQ(args[1], "a b");
  EXPECT_EQ(args[2], "c");
}

TEST(RequestParser, InvalidMultibulkLengths) {
  for (std::string header : {"*x", "*1x", "*01", "*-0", "*+1", "*", "* 1", "*1 ", "*2147483648",
                             "*99999999999999999999", "*1\n"}) {
    EXPECT_EQ(parseEveryWay(header + "\r\n$1\r\na\r\n"),
              Outcomes{errorOutcome(kErrInvalidMultibulkLength)})
        << header;
  }
  // CR must be followed by LF (Redis skips the byte unchecked; we refuse it).
  EXPECT_EQ(parseEveryWay("*1\rX$1\r\na\r\n"), Outcomes{errorOutcome(kErrInvalidMultibulkLength)});
}

TEST(RequestParser, ExpectsDollarBeforeEachArgument) {
  EXPECT_EQ(parseEveryWay("*1\r\nx3\r\nfoo\r\n"),
            Outcomes{errorOutcome("Protocol error: expected '$', got 'x'")});
  EXPECT_EQ(parseEveryWay("*2\r\n$1\r\na\r\n:1\r\n"),
            Outcomes{errorOutcome("Protocol error: expected '$', got ':'")});
  EXPECT_EQ(parseEveryWay("*1\r\n\r\n"),
            Outcomes{errorOutcome("Protocol error: expected '$', got ' '")});
}

TEST(RequestParser, InvalidBulkLengths) {
  for (std::string header :
       {"$-1", "$-2", "$x", "$01", "$+1", "$", "$1 ", "$-0", "$99999999999999999999", "$1\rx"}) {
    EXPECT_EQ(parseEveryWay("*1\r\n" + header + "\r\na\r\n"),
              Outcomes{errorOutcome(kErrInvalidBulkLength)})
        << header;
  }
}

TEST(RequestParser, BulkDataMustEndWithCrLf) {
  for (std::string request :
       {"*1\r\n$3\r\nfooXY", "*1\r\n$3\r\nfoo\rX", "*1\r\n$3\r\nfoo\n\r", "*1\r\n$3\r\nfoob\r\n"}) {
    EXPECT_EQ(parseEveryWay(request), Outcomes{errorOutcome(kErrBulkNotTerminated)}) << request;
  }
}

TEST(RequestParser, InlineLineLimit) {
  ParserLimits limits;
  limits.max_inline_bytes = 8;
  EXPECT_EQ(parseEveryWay("12345678\n", limits),
            Outcomes{okRequest({"12345678"}, "12345678\n", true)});
  EXPECT_EQ(parseEveryWay("1234567\r\n", limits),
            Outcomes{okRequest({"1234567"}, "1234567\r\n", true)});
  EXPECT_EQ(parseEveryWay("12345678", limits), Outcomes{needMoreOutcome()});
  EXPECT_EQ(parseEveryWay("123456789", limits), Outcomes{errorOutcome(kErrTooBigInlineRequest)});
  EXPECT_EQ(parseEveryWay("12345678\r\n", limits), Outcomes{errorOutcome(kErrTooBigInlineRequest)});
  // The default is Redis's 64 KiB.
  EXPECT_EQ(parseRequests(std::string(64 * 1024, 'a'), {}), Outcomes{needMoreOutcome()});
  EXPECT_EQ(parseRequests(std::string(64 * 1024 + 1, 'a'), {}),
            Outcomes{errorOutcome(kErrTooBigInlineRequest)});
}

TEST(RequestParser, HeaderLineLimits) {
  ParserLimits limits;
  limits.max_inline_bytes = 8;
  EXPECT_EQ(parseEveryWay("*0000000", limits), Outcomes{needMoreOutcome()});
  EXPECT_EQ(parseEveryWay("*00000000", limits), Outcomes{errorOutcome(kErrTooBigMbulkCountString)});
  EXPECT_EQ(parseEveryWay("*0000000\r\n", limits),
            Outcomes{errorOutcome(kErrInvalidMultibulkLength)});
  EXPECT_EQ(parseEveryWay("*1\r\n$0000000", limits), Outcomes{needMoreOutcome()});
  EXPECT_EQ(parseEveryWay("*1\r\n$00000000", limits),
            Outcomes{errorOutcome(kErrTooBigBulkCountString)});
  EXPECT_EQ(parseEveryWay("*1\r\n$1234567\r\n", limits), Outcomes{needMoreOutcome()});
}

TEST(RequestParser, ArgumentCountLimit) {
  ParserLimits limits;
  limits.max_args = 2;
  const std::string two = multibulk({"GET", "a"});
  EXPECT_EQ(parseEveryWay(two, limits), Outcomes{okRequest({"GET", "a"}, two)});
  EXPECT_EQ(parseEveryWay(multibulk({"MGET", "a", "b"}), limits),
            Outcomes{errorOutcome(kErrInvalidMultibulkLength)});
  // Refused from the header alone, before any argument arrives.
  EXPECT_EQ(parseRequests("*3\r\n", {}, limits),
            Outcomes{errorOutcome(kErrInvalidMultibulkLength)});
  // The default is Redis's limit.
  EXPECT_EQ(parseRequests("*1048576\r\n", {}), Outcomes{needMoreOutcome()});
  EXPECT_EQ(parseRequests("*1048577\r\n", {}), Outcomes{errorOutcome(kErrInvalidMultibulkLength)});
}

TEST(RequestParser, BulkSizeLimit) {
  ParserLimits limits;
  limits.max_bulk_bytes = 10;
  const std::string fits = multibulk({"SET", "k", std::string(10, 'v')});
  EXPECT_EQ(parseEveryWay(fits, limits),
            (Outcomes{okRequest({"SET", "k", std::string(10, 'v')}, fits)}));
  EXPECT_EQ(parseRequests("*1\r\n$11\r\n", {}, limits),
            Outcomes{errorOutcome(kErrInvalidBulkLength)});
  EXPECT_EQ(parseRequests("*1\r\n$536870912\r\n", {}), Outcomes{needMoreOutcome()});
  EXPECT_EQ(parseRequests("*1\r\n$536870913\r\n", {}),
            Outcomes{errorOutcome(kErrInvalidBulkLength)});
}

TEST(RequestParser, RequestSizeLimit) {
  ParserLimits limits;
  const std::string request = multibulk({"SET", "k", std::string(10, 'v')});  // 35 bytes
  limits.max_request_bytes = request.size();
  EXPECT_EQ(parseEveryWay(request, limits),
            (Outcomes{okRequest({"SET", "k", std::string(10, 'v')}, request)}));
  limits.max_request_bytes = request.size() - 1;
  // Refused at the header of the argument that would not fit, before its bytes arrive.
  EXPECT_EQ(parseRequests(request.substr(0, request.size() - 12), {}, limits),
            Outcomes{errorOutcome(kErrTooBigRequest)});
  // The default, 1 GiB, takes Redis's largest argument.
  EXPECT_EQ(parseRequests("*1\r\n$536870912\r\n", {}), Outcomes{needMoreOutcome()});
}

TEST(RequestParser, OnlyACrossedLimitCountsAsOverLimit) {
  ParserLimits limits;
  limits.max_args = 2;
  limits.max_bulk_bytes = 4;
  auto overLimit = [&](std::string_view input) {
    RequestParser parser(limits);
    Request request;
    size_t consumed = 0;
    EXPECT_EQ(parser.parse(input, consumed, request), ParseStatus::kError) << input;
    return parser.overLimit();
  };
  EXPECT_TRUE(overLimit("*3\r\n"));
  EXPECT_TRUE(overLimit("*1\r\n$5\r\n"));
  EXPECT_FALSE(overLimit("*x\r\n"));
  EXPECT_FALSE(overLimit("*1\r\n$-2\r\n"));
  EXPECT_FALSE(overLimit("*1\r\n:1\r\n"));
}

TEST(RequestParser, ErrorsAreStickyUntilReset) {
  RequestParser parser;
  Request request;
  size_t consumed = 0;
  ASSERT_EQ(parser.parse("*x\r\n", consumed, request), ParseStatus::kError);
  EXPECT_EQ(parser.error(), kErrInvalidMultibulkLength);
  EXPECT_EQ(parser.parse("PING\r\n", consumed, request), ParseStatus::kError);
  parser.reset();
  EXPECT_TRUE(parser.error().empty());
  EXPECT_EQ(parser.parse("PING\r\n", consumed, request), ParseStatus::kOk);
  EXPECT_EQ(consumed, 6u);
}

TEST(RequestParser, ResetForgetsPartialRequest) {
  RequestParser parser;
  Request request;
  size_t consumed = 0;
  ASSERT_EQ(parser.parse("*2\r\n$3\r\nGET\r\n", consumed, request), ParseStatus::kNeedMore);
  parser.reset();
  ASSERT_EQ(parser.parse("PING\r\n", consumed, request), ParseStatus::kOk);
  EXPECT_EQ(request.args, std::vector<std::string_view>{"PING"});
}

TEST(RequestParser, BytesNeededIsALowerBoundOfTheRequest) {
  const std::string request = multibulk({"SET", std::string(100, 'k'), "v"});
  RequestParser parser;
  Request out;
  size_t consumed = 0;
  for (size_t n = 1; n < request.size(); ++n) {
    ASSERT_EQ(parser.parse(std::string_view(request).substr(0, n), consumed, out),
              ParseStatus::kNeedMore);
    EXPECT_GT(parser.bytesNeeded(), n);
    EXPECT_LE(parser.bytesNeeded(), request.size());
  }
  // Once the big argument's header is in, the bound covers it and the smallest possible rest.
  parser.reset();
  ASSERT_EQ(parser.parse(std::string_view(request).substr(0, 20), consumed, out),
            ParseStatus::kNeedMore);
  EXPECT_EQ(parser.bytesNeeded(), request.size() - 1);
}

TEST(RequestParser, ReusesArgumentStorage) {
  RequestParser parser;
  Request out;
  size_t consumed = 0;
  const std::string set = multibulk({"SET", "key", "value"});
  ASSERT_EQ(parser.parse(set, consumed, out), ParseStatus::kOk);
  const std::string_view* storage = out.args.data();
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(parser.parse(set, consumed, out), ParseStatus::kOk);
    ASSERT_EQ(parser.parse("GET k\r\n", consumed, out), ParseStatus::kOk);
  }
  EXPECT_EQ(out.args.data(), storage);
}

TEST(RequestParser, SixteenMebibyteBulkIn4KiBReadsIsLinear) {
  const std::string payload(16 * 1024 * 1024, 'x');
  const std::string request = multibulk({"SET", "big", payload});
  const auto start = std::chrono::steady_clock::now();
  const Outcomes outcomes = parseRequests(request, chunksOf(4096, request.size()));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].status, ParseStatus::kOk);
  EXPECT_EQ(outcomes[0].args[2].size(), payload.size());
  // Rescanning from the start on every read would touch ~32 GiB here.
  EXPECT_LT(elapsed, std::chrono::seconds(5) * SY_TEST_TIME_FACTOR);
}

TEST(RequestParser, LongLinesOneByteAtATimeAreLinear) {
  ParserLimits limits;
  limits.max_inline_bytes = 1024 * 1024;
  const std::string line(limits.max_inline_bytes, 'a');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(parseRequests(line + "\n", oneByteAtATime(line.size() + 1), limits),
            Outcomes{okRequest({line}, line + "\n", true)});
  EXPECT_EQ(parseRequests("$" + line, oneByteAtATime(line.size() + 1), limits).size(), 1u);
  EXPECT_EQ(parseRequests("*1\r\n$" + line, oneByteAtATime(line.size() + 5), limits),
            Outcomes{errorOutcome(kErrTooBigBulkCountString)});
  // Rescanning would be ~10^12 byte reads.
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            std::chrono::seconds(10) * SY_TEST_TIME_FACTOR);
}

TEST(RequestParser, ManyArgumentsInSmallReads) {
  std::vector<std::string> args(20000, "arg");
  args[0] = "DEL";
  const std::string request = multibulk(args);
  const Outcomes outcomes = parseRequests(request, chunksOf(100, request.size()));
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].args, args);
}

}  // namespace
}  // namespace sy::resp
