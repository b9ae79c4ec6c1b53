// docs/commands.md is rendered from the table; this test fails when it is out of step.
// Regenerate:
//   SY_UPDATE_COMMANDS_DOC=1 <build>/tests/unit/command/command_test --gtest_filter=CommandsDoc.*
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "command/command.h"

namespace sy::command {
namespace {

std::string upper(std::string_view name) {
  std::string out;
  for (char c : name) out.push_back(c == '|' ? ' ' : static_cast<char>(std::toupper(c)));
  return out;
}

std::string_view handlingName(Handling handling) {
  switch (handling) {
    case Handling::kForward:
      return "forward";
    case Handling::kSplit:
      return "split";
    case Handling::kLocal:
      return "local";
    case Handling::kKeyless:
      return "keyless";
    case Handling::kRefused:
      return "refused";
    case Handling::kTransaction:
      return "transaction";
    case Handling::kBlocking:
      return "blocking";
    case Handling::kChannel:
      return "channel";
    case Handling::kSubscribe:
      return "subscribe";
    case Handling::kSlot:
      return "slot";
    case Handling::kFanout:
      return "fan-out";
    case Handling::kFanoutPrivate:
      return "fan-out (private)";
  }
  return "?";
}

// The merge rule of a command sent to every shard, in words.
std::string_view fanoutRule(MergeRule rule) {
  switch (rule) {
    case MergeRule::kSumIntegers:
      return "every shard; the sum of the counts";
    case MergeRule::kAllOk:
      return "every shard; +OK when every shard answers +OK, else the first error";
    case MergeRule::kConcatArrays:
      return "every shard; the shards' arrays one after another";
    case MergeRule::kRandomNonNil:
      return "every shard; a random shard's non-nil reply (nil only when every shard is empty)";
    case MergeRule::kIdentical:
      return "every shard; the replies must be identical (else an error naming the shards that "
             "disagree)";
    case MergeRule::kAndArrays:
      return "every shard; 1 only where every shard answers 1";
    case MergeRule::kUnionArrays:
      return "every shard; the union of the arrays, without repeats";
    case MergeRule::kSumPairs:
      return "every shard; each channel's counts summed, in request order";
    case MergeRule::kMaxInteger:
      return "every shard; the largest count (patterns are subscribed on every shard)";
    case MergeRule::kScanCursor:
      return "one shard per call, every shard in turn: proxy cursor = backend cursor x shards + "
             "shard; always the master";
    case MergeRule::kAnyKilled:
      return "every shard, each on a private connection; +OK when a shard had a script to kill, "
             "else NOTBUSY";
    default:
      return "every shard";
  }
}

std::string note(const CommandInfo& command) {
  switch (command.handling) {
    case Handling::kForward:
      if (command.name == "xread" || command.name == "xreadgroup") {
        return "routed by its keys; with BLOCK, as blocking";
      }
      if (command.hasFlag(kFlagNoMandatoryKeys)) {
        return "routed by its keys; with no key, as keyless";
      }
      return command.hasFlag(kFlagReadOnly) ? "routed by its keys; read" : "routed by its keys";
    case Handling::kSplit:
      switch (command.merge) {
        case MergeRule::kMgetArray:
          return "split per backend; replies merged in key order";
        case MergeRule::kMsetOk:
          return "split per backend; +OK when every part is OK";
        case MergeRule::kSumIntegers:
          return "split per backend; integer replies summed";
        default:
          break;
      }
      return "split per backend";
    case Handling::kFanout:
    case Handling::kFanoutPrivate:
      return std::string(fanoutRule(command.merge));
    case Handling::kLocal:
      return command.isContainer() ? "unknown subcommands answered by the proxy"
                                   : "answered by the proxy";
    case Handling::kKeyless:
      return "forwarded only when the pool has one backend";
    case Handling::kRefused:
      return std::string(command.refusal);
    case Handling::kTransaction:
      return command.name == "watch" ? "pins the session to the master of its keys' backend"
                                     : "pins the session to one backend's master";
    case Handling::kBlocking:
      return "on a private connection to the master of its keys' backend";
    case Handling::kChannel:
      return "to the backend of its channel, placed as a key";
    case Handling::kSubscribe:
      return command.name.starts_with('p') ? "on private connections to every backend"
                                           : "on a private connection to its channels' backend";
    case Handling::kSlot:
      return "a cluster pool: the shard serving the slot; any other pool: cluster support is "
             "disabled";
  }
  return "";
}

std::string render() {
  std::ostringstream out;
  out << "# Commands\n\n"
         "How switchyard handles each Redis 7.0 command. Rendered from the command table\n"
         "(`src/command/policy.h` holds the decisions and their reasons); do not edit by hand:\n"
         "`SY_UPDATE_COMMANDS_DOC=1 build/dev/tests/unit/command/command_test "
         "--gtest_filter=CommandsDoc.*`.\n\n"
         "- **forward**: routed by its keys; all keys must land on one backend. Read-only "
         "commands follow the pool's `read_from`, everything else goes to the master.\n"
         "- **split**: split per backend and merged.\n"
         "- **local**: answered by the proxy.\n"
         "- **keyless**: no key; forwarded only when the pool has a single backend, refused in a "
         "sharded pool.\n"
         "- **transaction**: the session leases a private connection to the master of the "
         "backend of the transaction's first key (WATCH's keys, or the first keyed command "
         "after MULTI) and stays pinned to it until EXEC, DISCARD or UNWATCH; a command whose "
         "keys live elsewhere is refused with CROSSSLOT and EXEC then answers EXECABORT.\n"
         "- **blocking**: sent alone on a private connection to the master of its keys' "
         "backend, without the pool's `timeout` (the command's own timeout rules); the client's "
         "next requests wait for its reply, as Redis makes them wait.\n"
         "- **channel**: placed by its channel with the pool's hash, as a key would be, so "
         "that it reaches the backend where that channel's subscribers are.\n"
         "- **subscribe**: the session keeps the client's subscriptions and carries them on "
         "private connections (one per backend it needs, to the master), with Redis's replies "
         "and counts; channels are placed as PUBLISH places them, patterns go to every "
         "backend (in a cluster pool to one node: every node sees every PUBLISH). A "
         "subscription survives a failover: the proxy subscribes again on the new master. In a "
         "cluster pool a shard channel lives on its slot's master, one SSUBSCRIBE may name "
         "channels of any slots, and a shard channel whose slot moves is subscribed again where "
         "the slot lives now (messages published during the move are lost, as in any "
         "resubscription); PUBLISH counts the receivers of the node it went to, as in Redis "
         "Cluster.\n"
         "- **fan-out**: no key, about the whole data set: sent to every shard (the master of "
         "each group, the one server of a plain shard) and the replies merged by the rule in the "
         "notes; any shard's error is answered as it came. Also in a pool of one backend; a "
         "server ejected by `auto_eject_hosts` is skipped while it is out.\n"
         "- **fan-out (private)**: as fan-out, each copy on a private connection of its own, "
         "so that it is not queued behind the runaway script it is meant to stop.\n"
         "- **slot**: names a hash slot, not a key: a cluster pool sends it to the shard "
         "serving that slot.\n"
         "- **refused**: never reaches a backend; the client gets an error saying why.\n\n"
         "| command | handling | notes |\n|---|---|---|\n";
  auto row = [&out](const CommandInfo& command) {
    out << "| " << upper(command.name) << " | " << handlingName(command.handling) << " | "
        << note(command) << " |\n";
  };
  for (const CommandInfo& command : allCommands()) {
    row(command);
    for (const CommandInfo& sub : command.subcommands) row(sub);
  }
  return out.str();
}

TEST(CommandsDoc, DocsCommandsMdMatchesTheTable) {
  const std::string path = std::string(SY_SOURCE_DIR) + "/docs/commands.md";
  const std::string expected = render();
  if (std::getenv("SY_UPDATE_COMMANDS_DOC") != nullptr) {
    std::ofstream(path) << expected;
  }
  std::ifstream in(path);
  std::stringstream actual;
  actual << in.rdbuf();
  EXPECT_EQ(actual.str(), expected) << path << " is out of date; see the top of this test";
}

}  // namespace
}  // namespace sy::command
