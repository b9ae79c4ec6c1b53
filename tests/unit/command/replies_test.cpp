// The raw COMMAND INFO / COMMAND DOCS entries are well-formed RESP2 (and RESP3, in their
// RESP3 spelling) and describe their own command.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "command/command.h"
#include "resp_frame.h"

namespace sy::command {
namespace {

TEST(FrameCheck, RejectsMalformedInput) {
  EXPECT_EQ(frameAt("$3\r\nab\r\n", 0).end, kBad);
  EXPECT_EQ(frameAt("*2\r\n:1\r\n", 0).end, kBad);
  EXPECT_EQ(frameAt(":x\r\n", 0).end, kBad);
  EXPECT_EQ(frameAt("!1\r\n", 0).end, kBad);
  EXPECT_EQ(frameAt("*1\r\n$1\r\na\r\n", 0).end, 11u);
}

std::string_view infoOf(const CommandInfo& command, bool resp3) {
  return resp3 ? command.info_reply3 : command.info_reply;
}

void checkInfo(const CommandInfo& command, bool resp3) {
  SCOPED_TRACE(std::string(command.name) + (resp3 ? " (RESP3)" : ""));
  const std::string_view info = infoOf(command, resp3);
  ASSERT_EQ(frameAt(info, 0).end, info.size());
  const std::vector<Frame> fields = elements(info, 0);
  ASSERT_EQ(fields.size(), 10u);
  EXPECT_EQ(bulk(info, fields[0]), command.name);
  EXPECT_EQ(fields[1].type, ':');
  EXPECT_EQ(fields[1].line, std::to_string(command.arity));
  EXPECT_EQ(elements(info, fields[2].start).size(),
            static_cast<size_t>(__builtin_popcount(command.flags)));
  const std::vector<Frame> specs = elements(info, fields[8].start);
  EXPECT_EQ(specs.size(), command.key_specs.size());
  const std::vector<Frame> subs = elements(info, fields[9].start);
  ASSERT_EQ(subs.size(), command.subcommands.size());
  for (size_t i = 0; i < subs.size(); ++i) {
    EXPECT_EQ(info.substr(subs[i].start, subs[i].end - subs[i].start),
              infoOf(command.subcommands[i], resp3));
  }
}

void checkDocs(const CommandInfo& command, bool resp3) {
  SCOPED_TRACE(std::string(command.name) + (resp3 ? " (RESP3)" : ""));
  const std::string_view docs = resp3 ? command.docs_reply3 : command.docs_reply;
  const Frame name = frameAt(docs, 0);
  ASSERT_NE(name.end, kBad);
  EXPECT_EQ(bulk(docs, name), command.name);
  const Frame map = frameAt(docs, name.end);
  ASSERT_EQ(map.end, docs.size());
  const std::vector<Frame> fields = elements(docs, name.end);
  ASSERT_EQ(fields.size() % 2, 0u);
  bool has_summary = false;
  for (size_t i = 0; i < fields.size(); i += 2) {
    if (bulk(docs, fields[i]) == "summary") has_summary = !bulk(docs, fields[i + 1]).empty();
  }
  EXPECT_TRUE(has_summary);
}

TEST(CommandReplies, InfoAndDocsAreWellFormedAndDescribeTheirCommand) {
  for (const bool resp3 : {false, true}) {
    for (const CommandInfo& command : allCommands()) {
      checkInfo(command, resp3);
      checkDocs(command, resp3);
      for (const CommandInfo& sub : command.subcommands) {
        checkInfo(sub, resp3);
        checkDocs(sub, resp3);
      }
    }
  }
}

TEST(CommandReplies, GetIsExactlyWhatRedisPrints) {
  const CommandInfo* get = findTopLevel("get");
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->info_reply,
            "*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n"
            "*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n"
            "*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n"
            "$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n"
            "$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n"
            "$5\r\nlimit\r\n:0\r\n*0\r\n");
  EXPECT_TRUE(get->docs_reply.starts_with("$3\r\nget\r\n*"));
  // RESP3: flags, categories, tips, key specs and subcommands are sets, each key spec a map.
  EXPECT_EQ(get->info_reply3,
            "*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n"
            "~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n"
            "~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n"
            "$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n"
            "$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n"
            "$5\r\nlimit\r\n:0\r\n~0\r\n");
  EXPECT_TRUE(get->docs_reply3.starts_with("$3\r\nget\r\n%"));
}

}  // namespace
}  // namespace sy::command
