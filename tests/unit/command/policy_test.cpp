#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "command/command.h"
#include "command/policy.h"
#include "resp/errors.h"

namespace sy::command {
namespace {

// Every command and subcommand of the table.
std::vector<const CommandInfo*> everyCommand() {
  std::vector<const CommandInfo*> all;
  for (const CommandInfo& command : allCommands()) {
    all.push_back(&command);
    for (const CommandInfo& sub : command.subcommands) all.push_back(&sub);
  }
  return all;
}

bool hasKeys(const CommandInfo& command) {
  for (const KeySpec& spec : command.key_specs) {
    if ((spec.flags & kKeyNotKey) == 0) return true;
  }
  return false;
}

bool specsComplete(const CommandInfo& command) {
  for (const KeySpec& spec : command.key_specs) {
    if (spec.begin_search == BeginSearch::kUnknown || spec.find_keys == FindKeys::kUnknown ||
        (spec.flags & kKeyIncomplete) != 0) {
      return false;
    }
  }
  return true;
}

const CommandInfo* byFullName(std::string_view name) {
  const size_t bar = name.find('|');
  if (bar == std::string_view::npos) return findTopLevel(name);
  std::vector<std::string_view> args{name.substr(0, bar), name.substr(bar + 1)};
  const CommandInfo* command = findCommand(args);
  return command != nullptr && command->name == name ? command : nullptr;
}

TEST(CommandPolicy, EveryPolicyEntryNamesARealCommandOnce) {
  std::set<std::string_view> seen;
  for (const PolicyEntry& entry : kPolicy) {
    EXPECT_NE(byFullName(entry.name), nullptr) << entry.name;
    EXPECT_TRUE(seen.insert(entry.name).second) << "listed twice: " << entry.name;
  }
}

TEST(CommandPolicy, EveryKeylessCommandIsDecidedExplicitly) {
  std::set<std::string_view> listed;
  for (const PolicyEntry& entry : kPolicy) listed.insert(entry.name);
  for (const CommandInfo* command : everyCommand()) {
    if (!hasKeys(*command)) {
      EXPECT_TRUE(listed.count(command->name)) << command->name;
    }
  }
}

TEST(CommandPolicy, RefusedCommandsSayWhyAndOthersDoNot) {
  for (const CommandInfo* command : everyCommand()) {
    if (command->handling == Handling::kRefused) {
      EXPECT_FALSE(command->refusal.empty()) << command->name;
      EXPECT_EQ(command->refusal.find_first_of("\r\n"), std::string_view::npos);
    } else {
      EXPECT_TRUE(command->refusal.empty()) << command->name;
    }
  }
}

TEST(CommandPolicy, SplitCommandsAndTheirMergeRules) {
  std::set<std::string_view> split;
  for (const CommandInfo* command : everyCommand()) {
    if (command->handling == Handling::kSplit) {
      split.insert(command->name);
      EXPECT_NE(command->merge, MergeRule::kNone) << command->name;
    } else if (command->handling != Handling::kFanout &&
               command->handling != Handling::kFanoutPrivate) {
      EXPECT_EQ(command->merge, MergeRule::kNone) << command->name;
    }
  }
  EXPECT_EQ(split,
            (std::set<std::string_view>{"del", "exists", "mget", "mset", "touch", "unlink"}));
  EXPECT_EQ(findTopLevel("mget")->merge, MergeRule::kMgetArray);
  EXPECT_EQ(findTopLevel("mset")->merge, MergeRule::kMsetOk);
  EXPECT_EQ(findTopLevel("del")->merge, MergeRule::kSumIntegers);
  EXPECT_EQ(findTopLevel("exists")->merge, MergeRule::kSumIntegers);
}

TEST(CommandPolicy, FanoutCommandsAndTheirMergeRules) {
  std::map<std::string_view, MergeRule> fanout;
  std::set<std::string_view> private_fanout;
  for (const CommandInfo* command : everyCommand()) {
    if (command->handling == Handling::kFanout || command->handling == Handling::kFanoutPrivate) {
      EXPECT_NE(command->merge, MergeRule::kNone) << command->name;
      EXPECT_FALSE(hasKeys(*command)) << command->name;
      fanout[command->name] = command->merge;
    }
    if (command->handling == Handling::kFanoutPrivate) private_fanout.insert(command->name);
  }
  const std::map<std::string_view, MergeRule> expected = {
      {"dbsize", MergeRule::kSumIntegers},
      {"keys", MergeRule::kConcatArrays},
      {"scan", MergeRule::kScanCursor},
      {"randomkey", MergeRule::kRandomNonNil},
      {"flushdb", MergeRule::kAllOk},
      {"flushall", MergeRule::kAllOk},
      {"script|load", MergeRule::kIdentical},
      {"script|exists", MergeRule::kAndArrays},
      {"script|flush", MergeRule::kAllOk},
      {"script|kill", MergeRule::kAnyKilled},
      {"function|load", MergeRule::kIdentical},
      {"function|delete", MergeRule::kIdentical},
      {"function|list", MergeRule::kIdentical},
      {"function|flush", MergeRule::kAllOk},
      {"function|dump", MergeRule::kIdentical},
      {"function|restore", MergeRule::kAllOk},
      {"function|kill", MergeRule::kAnyKilled},
      {"pubsub|channels", MergeRule::kUnionArrays},
      {"pubsub|shardchannels", MergeRule::kUnionArrays},
      {"pubsub|numsub", MergeRule::kSumPairs},
      {"pubsub|shardnumsub", MergeRule::kSumPairs},
      {"pubsub|numpat", MergeRule::kMaxInteger},
  };
  EXPECT_EQ(fanout, expected);
  EXPECT_EQ(private_fanout, (std::set<std::string_view>{"function|kill", "script|kill"}));
}

TEST(CommandPolicy, CommandsWithKeysAreForwardedUnlessDecidedOtherwise) {
  for (const CommandInfo* command : everyCommand()) {
    if (hasKeys(*command)) {
      EXPECT_TRUE(
          command->handling == Handling::kForward || command->handling == Handling::kSplit ||
          command->handling == Handling::kRefused || command->handling == Handling::kBlocking ||
          command->handling == Handling::kTransaction)
          << command->name;
    }
    if (command->handling == Handling::kForward) {
      EXPECT_TRUE(hasKeys(*command)) << command->name;
    }
    if (command->handling == Handling::kKeyless) {
      EXPECT_FALSE(hasKeys(*command)) << command->name;
    }
  }
  for (std::string_view name :
       {"get", "set", "msetnx", "eval", "evalsha", "fcall", "sort", "zunionstore", "xread",
        "xreadgroup", "georadius", "bitop", "copy", "rename", "restore", "dump", "pfmerge"}) {
    EXPECT_EQ(findTopLevel(name)->handling, Handling::kForward) << name;
  }
  const std::vector<std::string_view> object_freq{"object", "freq"};
  EXPECT_EQ(findCommand(object_freq)->handling, Handling::kForward);
}

TEST(CommandPolicy, KeysOfForwardedCommandsCanBeFound) {
  // extractKeys() resolves every spec of a command it may be asked about.
  for (const CommandInfo* command : everyCommand()) {
    if (command->handling == Handling::kRefused || specsComplete(*command)) continue;
    EXPECT_NE(command->key_finder, KeyFinder::kSpecs) << command->name;
  }
}

TEST(CommandPolicy, RefusesWhatWouldStallOrHijackABackend) {
  for (std::string_view name : {"shutdown", "replicaof", "slaveof", "debug", "monitor", "failover",
                                "sync", "psync", "replconf", "save", "bgsave", "bgrewriteaof",
                                "migrate", "wait", "readonly", "readwrite", "asking"}) {
    EXPECT_EQ(findTopLevel(name)->handling, Handling::kRefused) << name;
  }
  EXPECT_EQ(findTopLevel("wait")->refusal, resp::kErrRefusalWait);
  for (const CommandInfo* command : everyCommand()) {
    const bool blocking = command->hasFlag(kFlagBlocking);
    if (blocking && command->name != "xread" && command->name != "xreadgroup" &&
        command->name != "wait") {
      EXPECT_EQ(command->handling, Handling::kBlocking) << command->name;
    }
    // The proxy answers CLUSTER INFO and KEYSLOT itself; HELP is keyless; a cluster pool sends
    // COUNTKEYSINSLOT to its slot's shard; every other one is refused.
    if (command->name == "cluster|info" || command->name == "cluster|keyslot") {
      EXPECT_EQ(command->handling, Handling::kLocal) << command->name;
    } else if (command->name == "cluster|countkeysinslot") {
      EXPECT_EQ(command->handling, Handling::kSlot);
    } else if (command->name.starts_with("cluster|") && command->name != "cluster|help") {
      EXPECT_EQ(command->handling, Handling::kRefused) << command->name;
    }
  }
  for (std::string_view sub :
       {"kill", "pause", "unpause", "reply", "no-evict", "tracking", "caching", "unblock"}) {
    const std::vector<std::string_view> args{"client", sub};
    EXPECT_EQ(findCommand(args)->handling, Handling::kRefused) << sub;
  }
}

TEST(CommandPolicy, TransactionsAndBlockingCommandsLeaseAPrivateConnection) {
  for (std::string_view name : {"multi", "exec", "discard", "watch", "unwatch"}) {
    EXPECT_EQ(findTopLevel(name)->handling, Handling::kTransaction) << name;
  }
  for (std::string_view name :
       {"blpop", "brpop", "blmove", "brpoplpush", "bzpopmin", "bzpopmax", "blmpop", "bzmpop"}) {
    EXPECT_EQ(findTopLevel(name)->handling, Handling::kBlocking) << name;
  }
  EXPECT_EQ(findTopLevel("xread")->handling, Handling::kForward);
}

TEST(CommandPolicy, SubscriptionsAreKeptByTheSessionAndPublishFollowsTheChannel) {
  for (std::string_view name :
       {"subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe"}) {
    EXPECT_EQ(findTopLevel(name)->handling, Handling::kSubscribe) << name;
  }
  EXPECT_EQ(findTopLevel("publish")->handling, Handling::kChannel);
  EXPECT_EQ(findTopLevel("spublish")->handling, Handling::kChannel);
  EXPECT_EQ(findTopLevel("reset")->handling, Handling::kLocal);
}

TEST(CommandIds, DenseUniqueAndRoundTrip) {
  size_t subcommands = 0;
  for (const CommandInfo& command : allCommands()) subcommands += command.subcommands.size();
  ASSERT_EQ(commandIdCount(), allCommands().size() + subcommands);
  std::vector<bool> seen(commandIdCount(), false);
  auto check = [&](const CommandInfo& command) {
    uint16_t id = commandId(command);
    ASSERT_LT(id, commandIdCount()) << command.name;
    EXPECT_FALSE(seen[id]) << command.name;
    seen[id] = true;
    EXPECT_EQ(&commandById(id), &command) << command.name;
  };
  for (const CommandInfo& command : allCommands()) {
    check(command);
    for (const CommandInfo& sub : command.subcommands) check(sub);
  }
  EXPECT_EQ(commandId(*findTopLevel("get")),
            static_cast<uint16_t>(findTopLevel("get") - allCommands().data()));
  const std::vector<std::string_view> client_id{"CLIENT", "ID"};
  EXPECT_EQ(commandById(commandId(*findCommand(client_id))).name, "client|id");
}

TEST(CommandPolicy, LocalAndKeylessChoices) {
  for (std::string_view name :
       {"ping", "echo", "quit", "hello", "select", "auth", "command", "info"}) {
    EXPECT_EQ(findTopLevel(name)->handling, Handling::kLocal) << name;
  }
  for (std::string_view name : {"time", "lastsave", "swapdb", "lolwut"}) {
    EXPECT_EQ(findTopLevel(name)->handling, Handling::kKeyless) << name;
  }
  for (std::string_view name : {"dbsize", "keys", "scan", "randomkey", "flushdb", "flushall"}) {
    EXPECT_EQ(findTopLevel(name)->handling, Handling::kFanout) << name;
  }
  for (const CommandInfo& command : allCommands()) {
    if (command.isContainer()) {
      EXPECT_EQ(command.handling, Handling::kLocal) << command.name;
    }
  }
}

}  // namespace
}  // namespace sy::command
