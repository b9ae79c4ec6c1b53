#include <gtest/gtest.h>

#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "command/command.h"

namespace sy::command {
namespace {

const CommandInfo* find(std::vector<std::string_view> args) { return findCommand(args); }

TEST(CommandLookup, FindsCommandsIgnoringCase) {
  for (std::string_view name : {"get", "GET", "Get", "gEt"}) {
    const CommandInfo* command = find({name, "k"});
    ASSERT_NE(command, nullptr) << name;
    EXPECT_EQ(command->name, "get");
    EXPECT_EQ(command->arity, 2);
    EXPECT_TRUE(command->hasFlag(kFlagReadOnly));
    EXPECT_TRUE(command->hasFlag(kFlagFast));
    EXPECT_FALSE(command->hasFlag(kFlagWrite));
  }
  EXPECT_EQ(find({"GEORADIUSBYMEMBER_RO"})->name, "georadiusbymember_ro");
  EXPECT_EQ(find({"Restore-Asking"})->name, "restore-asking");
}

TEST(CommandLookup, UnknownNamesAreNull) {
  EXPECT_EQ(find({"nosuchcommand"}), nullptr);
  EXPECT_EQ(find({""}), nullptr);
  EXPECT_EQ(find({"ge"}), nullptr);
  EXPECT_EQ(find({"gett"}), nullptr);
  EXPECT_EQ(find({std::string_view("get\0", 4)}), nullptr);
  EXPECT_EQ(find({"get|x"}), nullptr);
  EXPECT_EQ(find({"config|get"}), nullptr);  // subcommands only through args[1]
  EXPECT_EQ(find({std::string(4096, 'a')}), nullptr);
  EXPECT_EQ(findTopLevel("g\xc3\xa9t"), nullptr);
}

TEST(CommandLookup, EveryCommandFindsItself) {
  for (const CommandInfo& command : allCommands()) {
    std::string upper(command.name);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(findTopLevel(command.name), &command);
    EXPECT_EQ(findTopLevel(upper), &command);
    for (const CommandInfo& sub : command.subcommands) {
      const std::string_view sub_name = sub.name.substr(command.name.size() + 1);
      std::array<std::string_view, 2> args{upper, sub_name};
      EXPECT_EQ(findCommand(args), &sub) << sub.name;
    }
  }
}

TEST(CommandLookup, SubcommandsAreSelectedByTheSecondArgument) {
  const CommandInfo* config_get = find({"CONFIG", "get", "maxmemory"});
  ASSERT_NE(config_get, nullptr);
  EXPECT_EQ(config_get->name, "config|get");
  EXPECT_EQ(config_get->arity, -3);
  EXPECT_EQ(find({"client", "SETNAME", "x"})->name, "client|setname");
  EXPECT_EQ(find({"object", "Encoding", "k"})->name, "object|encoding");
  EXPECT_EQ(find({"xinfo", "STREAM", "s"})->name, "xinfo|stream");
  EXPECT_EQ(find({"client", "no-evict", "on"})->name, "client|no-evict");
}

TEST(CommandLookup, ContainerWithoutAKnownSubcommandIsReturnedItself) {
  const CommandInfo* alone = find({"config"});
  ASSERT_NE(alone, nullptr);
  EXPECT_EQ(alone->name, "config");
  EXPECT_TRUE(alone->isContainer());
  EXPECT_FALSE(arityOk(*alone, 1));
  EXPECT_EQ(wrongArityError(*alone), "ERR wrong number of arguments for 'config' command");

  const CommandInfo* unknown = find({"Config", "nosuch"});
  ASSERT_NE(unknown, nullptr);
  EXPECT_EQ(unknown->name, "config");
  EXPECT_EQ(unknownSubcommandError(*unknown, "nosuch"),
            "ERR unknown subcommand 'nosuch'. Try CONFIG HELP.");
  EXPECT_EQ(find({"config", "get|x"})->name, "config");
  EXPECT_EQ(find({"config", ""})->name, "config");
}

TEST(CommandLookup, NonContainersIgnoreTheSecondArgument) {
  EXPECT_EQ(find({"set", "get", "v"})->name, "set");
  EXPECT_FALSE(find({"get", "k"})->isContainer());
}

TEST(CommandLookup, ErrorTextsStayOnOneLineAndAreBounded) {
  const CommandInfo& client = *find({"client"});
  EXPECT_EQ(unknownSubcommandError(client, "a\r\nb"),
            "ERR unknown subcommand 'a  b'. Try CLIENT HELP.");
  const std::string long_error = unknownSubcommandError(client, std::string(500, 'x'));
  EXPECT_EQ(long_error, "ERR unknown subcommand '" + std::string(128, 'x') + "'. Try CLIENT HELP.");
  EXPECT_EQ(wrongArityError(*find({"config", "get"})),
            "ERR wrong number of arguments for 'config|get' command");
}

TEST(CommandArity, FollowsRedisRules) {
  const CommandInfo& get = *find({"get"});  // arity 2
  EXPECT_FALSE(arityOk(get, 1));
  EXPECT_TRUE(arityOk(get, 2));
  EXPECT_FALSE(arityOk(get, 3));
  const CommandInfo& mset = *find({"mset"});  // arity -3
  EXPECT_EQ(mset.arity, -3);
  EXPECT_FALSE(arityOk(mset, 2));
  EXPECT_TRUE(arityOk(mset, 3));
  EXPECT_TRUE(arityOk(mset, 1001));
  const CommandInfo& ping = *find({"ping"});  // arity -1
  EXPECT_TRUE(arityOk(ping, 1));
  EXPECT_TRUE(arityOk(ping, 2));
  EXPECT_FALSE(arityOk(*find({"object", "encoding"}), 2));
  EXPECT_TRUE(arityOk(*find({"object", "encoding"}), 3));
}

TEST(CommandTable, ListsEveryRedis70CommandInNameOrder) {
  const std::span<const CommandInfo> commands = allCommands();
  EXPECT_EQ(commands.size(), 240u);  // COMMAND COUNT of redis-server 7.0.15
  for (size_t i = 1; i < commands.size(); ++i) {
    EXPECT_LT(commands[i - 1].name, commands[i].name);
  }
  size_t with_subcommands = 0;
  for (const CommandInfo& command : commands) with_subcommands += command.subcommands.size();
  EXPECT_EQ(commands.size() + with_subcommands, 366u);  // COMMAND LIST of 7.0.15
}

TEST(CommandTable, FlagsAreDecoded) {
  EXPECT_TRUE(find({"blpop"})->hasFlag(kFlagBlocking));
  EXPECT_TRUE(find({"set"})->hasFlag(kFlagDenyOom));
  EXPECT_TRUE(find({"eval"})->hasFlag(kFlagMovableKeys));
  EXPECT_TRUE(find({"eval"})->hasFlag(kFlagNoMandatoryKeys));
  EXPECT_TRUE(find({"auth"})->hasFlag(kFlagNoAuth));
  EXPECT_TRUE(find({"shutdown"})->hasFlag(kFlagAdmin));
  EXPECT_TRUE(find({"multi"})->hasFlag(kFlagAllowBusy));
  EXPECT_TRUE(find({"subscribe"})->hasFlag(kFlagPubSub));
  EXPECT_TRUE(find({"restore-asking"})->hasFlag(kFlagAsking));
  EXPECT_TRUE(find({"xadd"})->hasFlag(kFlagWrite));
}

}  // namespace
}  // namespace sy::command
