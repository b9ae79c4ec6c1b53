// The proxy's policy for every command: the one hand-written list applied at compile time on
// top of the table generated from redis-server (command_table.inc). docs/commands.md shows
// the result as a table (tests/unit/command/commands_doc_test.cpp keeps it in step).
//
// Rules:
//   - A command listed here gets the handling written next to it.
//   - A command not listed that has keys (a key spec not flagged not_key) is kForward.
//   - A command not listed without keys is kRefused with kNotSupported. A unit test makes
//     sure every keyless command of Redis 7.0 is listed, so this default only catches
//     commands of a future Redis until someone decides about them here.
// Internal to sy_command: include command/command.h instead.
#pragma once

#include <string_view>

#include "command/command.h"

namespace sy::command {

struct PolicyEntry {
  std::string_view name;  // as in the table: "get", "config|get"
  Handling handling;
  MergeRule merge = MergeRule::kNone;
  std::string_view refusal = {};
};

// Refusal reasons, in words for the client.
inline constexpr std::string_view kNotSupported = "this command is not supported through the proxy";
inline constexpr std::string_view kPrivateConnection =
    "transactions and pub/sub need a private backend connection, which the proxy does not provide "
    "yet";
inline constexpr std::string_view kBackendControl =
    "the proxy does not let clients stop, reconfigure or take over its backends";
inline constexpr std::string_view kReplication =
    "replication is managed by the proxy and Sentinel, not by clients";
inline constexpr std::string_view kClusterCommands =
    "CLUSTER commands are not supported through the proxy";
inline constexpr std::string_view kConnectionState =
    "this command changes the state of a shared backend connection";
inline constexpr std::string_view kOtherDatabases =
    "the proxy serves one database; commands that touch other databases are not supported";
inline constexpr std::string_view kAcl =
    "ACL commands would act on the backends' users, not on the proxy's clients";
inline constexpr std::string_view kDebugging =
    "debugging commands are not supported through the proxy";
inline constexpr std::string_view kTracking =
    "client-side caching (tracking) is not supported through the proxy";

// clang-format off
inline constexpr PolicyEntry kPolicy[] = {
    // --- Split: multi-key commands spread over backends and merged (DESIGN.md 1.3). MSETNX is
    // not here: its all-or-nothing answer cannot be split, so it is kForward by its keys.
    {"mget", Handling::kSplit, MergeRule::kMgetArray},
    {"mset", Handling::kSplit, MergeRule::kMsetOk},
    {"del", Handling::kSplit, MergeRule::kSumIntegers},
    {"unlink", Handling::kSplit, MergeRule::kSumIntegers},
    {"exists", Handling::kSplit, MergeRule::kSumIntegers},
    {"touch", Handling::kSplit, MergeRule::kSumIntegers},

    // --- Local: the proxy answers these from its own state; forwarding them would answer for
    // (or change) a shared backend connection instead of the client's session.
    {"ping", Handling::kLocal},
    {"echo", Handling::kLocal},
    {"quit", Handling::kLocal},
    {"hello", Handling::kLocal},
    {"select", Handling::kLocal},  // the session's database, mapped onto the pool's redis_db
    {"auth", Handling::kLocal},    // checked against the proxy's client_auth
    // COMMAND is answered from this table (info_reply, docs_reply, extractKeys()).
    {"command", Handling::kLocal},
    // INFO describes the proxy (its pools, backends, commands and latency), not one backend.
    {"info", Handling::kLocal},
    {"command|count", Handling::kLocal},
    {"command|docs", Handling::kLocal},
    {"command|info", Handling::kLocal},
    {"command|list", Handling::kLocal},
    {"command|getkeys", Handling::kLocal},
    // Key flags of variable-flag commands (SET ... GET) are computed by Redis per call; any
    // backend answers the same, so one backend is asked.
    {"command|getkeysandflags", Handling::kKeyless},
    // CLIENT: the session's own id, name and description. CLIENT SETINFO is Redis 7.2.
    {"client", Handling::kLocal},
    {"client|id", Handling::kLocal},
    {"client|getname", Handling::kLocal},
    {"client|setname", Handling::kLocal},
    {"client|info", Handling::kLocal},
    // The rest of CLIENT would list, kill, pause or reconfigure the proxy's backend connections.
    {"client|list", Handling::kRefused, MergeRule::kNone,
     "CLIENT LIST would show the proxy's backend connections, not the clients of the proxy"},
    {"client|kill", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"client|pause", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"client|unpause", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"client|unblock", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"client|no-evict", Handling::kRefused, MergeRule::kNone, kConnectionState},
    {"client|reply", Handling::kRefused, MergeRule::kNone, kConnectionState},
    {"client|tracking", Handling::kRefused, MergeRule::kNone, kTracking},
    {"client|caching", Handling::kRefused, MergeRule::kNone, kTracking},
    {"client|getredir", Handling::kRefused, MergeRule::kNone, kTracking},
    {"client|trackinginfo", Handling::kRefused, MergeRule::kNone, kTracking},
    // The other containers answer an unknown subcommand locally (see Handling::kLocal).
    {"acl", Handling::kLocal},
    {"cluster", Handling::kLocal},
    {"config", Handling::kLocal},
    {"function", Handling::kLocal},
    {"latency", Handling::kLocal},
    {"memory", Handling::kLocal},
    {"module", Handling::kLocal},
    {"object", Handling::kLocal},
    {"pubsub", Handling::kLocal},
    {"script", Handling::kLocal},
    {"slowlog", Handling::kLocal},
    {"xgroup", Handling::kLocal},
    {"xinfo", Handling::kLocal},

    // --- Keyless: no key, and harmless on a backend. Forwarded when the pool has one backend.
    // The proxy will answer INFO itself later; until then the backend's INFO is shown.
    {"dbsize", Handling::kKeyless},
    {"keys", Handling::kKeyless},
    {"scan", Handling::kKeyless},
    {"randomkey", Handling::kKeyless},
    // FLUSHDB empties only the pool's redis_db, the database every client of the proxy sees.
    {"flushdb", Handling::kKeyless},
    {"time", Handling::kKeyless},
    {"lastsave", Handling::kKeyless},
    {"lolwut", Handling::kKeyless},
    // PUBLISH needs no subscription state on the publishing connection.
    {"publish", Handling::kKeyless},
    {"spublish", Handling::kKeyless},  // its key spec names a channel (not_key)
    {"pubsub|channels", Handling::kKeyless},
    {"pubsub|numpat", Handling::kKeyless},
    {"pubsub|numsub", Handling::kKeyless},
    {"pubsub|shardchannels", Handling::kKeyless},
    {"pubsub|shardnumsub", Handling::kKeyless},
    // Read-only introspection of a backend: harmless, and useful on a single-backend pool.
    {"config|get", Handling::kKeyless},
    {"latency|doctor", Handling::kKeyless},
    {"latency|graph", Handling::kKeyless},
    {"latency|histogram", Handling::kKeyless},
    {"latency|history", Handling::kKeyless},
    {"latency|latest", Handling::kKeyless},
    {"slowlog|get", Handling::kKeyless},
    {"slowlog|len", Handling::kKeyless},
    {"memory|doctor", Handling::kKeyless},
    {"memory|malloc-stats", Handling::kKeyless},
    {"memory|stats", Handling::kKeyless},
    // Scripts and functions are loaded on the backend that runs them; with one backend that
    // is all of them. (Loading functions changes every client's view: refused below.)
    {"script|load", Handling::kKeyless},
    {"script|exists", Handling::kKeyless},
    {"function|dump", Handling::kKeyless},
    {"function|list", Handling::kKeyless},
    {"function|stats", Handling::kKeyless},
    {"acl|cat", Handling::kKeyless},      // a fixed list
    {"acl|genpass", Handling::kKeyless},  // random bytes
    // Every container's HELP is a fixed text.
    {"acl|help", Handling::kKeyless},
    {"client|help", Handling::kKeyless},
    {"cluster|help", Handling::kKeyless},
    {"command|help", Handling::kKeyless},
    {"config|help", Handling::kKeyless},
    {"function|help", Handling::kKeyless},
    {"latency|help", Handling::kKeyless},
    {"memory|help", Handling::kKeyless},
    {"module|help", Handling::kKeyless},
    {"object|help", Handling::kKeyless},
    {"pubsub|help", Handling::kKeyless},
    {"script|help", Handling::kKeyless},
    {"slowlog|help", Handling::kKeyless},
    {"xgroup|help", Handling::kKeyless},
    {"xinfo|help", Handling::kKeyless},

    // --- Refused: blocking commands would stall a backend connection that other clients'
    // requests are pipelined on. XREAD and XREADGROUP block only with BLOCK: they stay
    // kForward and the caller refuses them when mayBlock() says so.
    {"blpop", Handling::kRefused, MergeRule::kNone, kBlockingRefusal},
    {"brpop", Handling::kRefused, MergeRule::kNone, kBlockingRefusal},
    {"blmove", Handling::kRefused, MergeRule::kNone, kBlockingRefusal},
    {"brpoplpush", Handling::kRefused, MergeRule::kNone, kBlockingRefusal},
    {"blmpop", Handling::kRefused, MergeRule::kNone, kBlockingRefusal},
    {"bzpopmin", Handling::kRefused, MergeRule::kNone, kBlockingRefusal},
    {"bzpopmax", Handling::kRefused, MergeRule::kNone, kBlockingRefusal},
    {"bzmpop", Handling::kRefused, MergeRule::kNone, kBlockingRefusal},
    // WAIT blocks too, and counts the writes of every client sharing the connection.
    {"wait", Handling::kRefused, MergeRule::kNone, kBlockingRefusal},

    // --- Refused: transactions and subscriptions hold state on the connection.
    {"multi", Handling::kRefused, MergeRule::kNone, kPrivateConnection},
    {"exec", Handling::kRefused, MergeRule::kNone, kPrivateConnection},
    {"discard", Handling::kRefused, MergeRule::kNone, kPrivateConnection},
    {"watch", Handling::kRefused, MergeRule::kNone, kPrivateConnection},
    {"unwatch", Handling::kRefused, MergeRule::kNone, kPrivateConnection},
    {"subscribe", Handling::kRefused, MergeRule::kNone, kPrivateConnection},
    {"psubscribe", Handling::kRefused, MergeRule::kNone, kPrivateConnection},
    {"ssubscribe", Handling::kRefused, MergeRule::kNone, kPrivateConnection},
    {"unsubscribe", Handling::kRefused, MergeRule::kNone, kPrivateConnection},
    {"punsubscribe", Handling::kRefused, MergeRule::kNone, kPrivateConnection},
    {"sunsubscribe", Handling::kRefused, MergeRule::kNone, kPrivateConnection},

    // --- Refused: connection state that would leak to every client of a shared connection.
    {"reset", Handling::kRefused, MergeRule::kNone, kConnectionState},
    {"readonly", Handling::kRefused, MergeRule::kNone, kConnectionState},
    {"readwrite", Handling::kRefused, MergeRule::kNone, kConnectionState},
    {"asking", Handling::kRefused, MergeRule::kNone, kConnectionState},

    // --- Refused: stopping, reconfiguring or taking over a backend.
    {"shutdown", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"config|set", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"config|rewrite", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"config|resetstat", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"monitor", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"save", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"bgsave", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"bgrewriteaof", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"latency|reset", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"slowlog|reset", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"memory|purge", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"module|list", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"module|load", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"module|loadex", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"module|unload", Handling::kRefused, MergeRule::kNone, kBackendControl},
    // SCRIPT KILL and FUNCTION KILL would stop another client's script; flushing or loading
    // functions changes what every client of every backend can call.
    {"script|kill", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"script|flush", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"function|kill", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"function|load", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"function|delete", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"function|flush", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"function|restore", Handling::kRefused, MergeRule::kNone, kBackendControl},
    {"debug", Handling::kRefused, MergeRule::kNone, kDebugging},
    {"script|debug", Handling::kRefused, MergeRule::kNone, kDebugging},
    {"pfdebug", Handling::kRefused, MergeRule::kNone, kDebugging},
    {"pfselftest", Handling::kRefused, MergeRule::kNone, kDebugging},

    // --- Refused: the proxy owns replication and failover (DESIGN.md 1.1); ROLE would expose
    // the backend behind the proxy.
    {"replicaof", Handling::kRefused, MergeRule::kNone, kReplication},
    {"slaveof", Handling::kRefused, MergeRule::kNone, kReplication},
    {"failover", Handling::kRefused, MergeRule::kNone, kReplication},
    {"sync", Handling::kRefused, MergeRule::kNone, kReplication},
    {"psync", Handling::kRefused, MergeRule::kNone, kReplication},
    {"replconf", Handling::kRefused, MergeRule::kNone, kReplication},
    {"role", Handling::kRefused, MergeRule::kNone, kReplication},

    // --- Refused: data placement is the proxy's. MIGRATE moves keys to a server the proxy
    // does not place them on; MOVE, SWAPDB and FLUSHALL reach databases other than the pool's
    // redis_db. RESTORE-ASKING is part of cluster resharding.
    {"migrate", Handling::kRefused, MergeRule::kNone,
     "MIGRATE would move keys away from the backend the proxy places them on"},
    {"move", Handling::kRefused, MergeRule::kNone, kOtherDatabases},
    {"swapdb", Handling::kRefused, MergeRule::kNone, kOtherDatabases},
    {"flushall", Handling::kRefused, MergeRule::kNone, kOtherDatabases},
    {"restore-asking", Handling::kRefused, MergeRule::kNone, kClusterCommands},

    // --- Refused: cluster support comes with cluster pools.
    {"cluster|addslots", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|addslotsrange", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|bumpepoch", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|count-failure-reports", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|countkeysinslot", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|delslots", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|delslotsrange", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|failover", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|flushslots", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|forget", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|getkeysinslot", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|info", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|keyslot", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|links", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|meet", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|myid", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|nodes", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|replicas", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|replicate", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|reset", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|saveconfig", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|set-config-epoch", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|setslot", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|shards", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|slaves", Handling::kRefused, MergeRule::kNone, kClusterCommands},
    {"cluster|slots", Handling::kRefused, MergeRule::kNone, kClusterCommands},

    // --- Refused: ACL acts on backend users; the proxy will have its own users.
    {"acl|deluser", Handling::kRefused, MergeRule::kNone, kAcl},
    {"acl|dryrun", Handling::kRefused, MergeRule::kNone, kAcl},
    {"acl|getuser", Handling::kRefused, MergeRule::kNone, kAcl},
    {"acl|list", Handling::kRefused, MergeRule::kNone, kAcl},
    {"acl|load", Handling::kRefused, MergeRule::kNone, kAcl},
    {"acl|log", Handling::kRefused, MergeRule::kNone, kAcl},
    {"acl|save", Handling::kRefused, MergeRule::kNone, kAcl},
    {"acl|setuser", Handling::kRefused, MergeRule::kNone, kAcl},
    {"acl|users", Handling::kRefused, MergeRule::kNone, kAcl},
    {"acl|whoami", Handling::kRefused, MergeRule::kNone, kAcl},
};
// clang-format on

// Commands whose key specs Redis cannot resolve (begin_search "unknown"): extractKeys()
// follows Redis's getkeys procedure for them. MIGRATE (an incomplete spec) is refused above.
// SORT's BY and GET patterns name keys derived from the data, which the proxy cannot route;
// they are only correct on a single-backend pool or with keys sharing a hash tag.
constexpr KeyFinder keyFinderFor(std::string_view name) {
  if (name == "sort") return KeyFinder::kSort;
  if (name == "sort_ro") return KeyFinder::kSortRo;
  return KeyFinder::kSpecs;
}

constexpr bool specsHaveKeys(std::span<const KeySpec> specs) {
  for (const KeySpec& spec : specs) {
    if ((spec.flags & kKeyNotKey) == 0) return true;
  }
  return false;
}

// A generated entry with the policy above applied.
constexpr CommandInfo makeCommand(std::string_view name, int arity, uint32_t flags,
                                  std::span<const KeySpec> key_specs,
                                  std::span<const CommandInfo> subcommands,
                                  std::string_view info_reply, std::string_view docs_reply) {
  CommandInfo info{name,
                   arity,
                   flags,
                   Handling::kRefused,
                   MergeRule::kNone,
                   keyFinderFor(name),
                   kNotSupported,
                   key_specs,
                   subcommands,
                   info_reply,
                   docs_reply};
  for (const PolicyEntry& entry : kPolicy) {
    if (entry.name == name) {
      info.handling = entry.handling;
      info.merge = entry.merge;
      info.refusal = entry.refusal;
      return info;
    }
  }
  if (specsHaveKeys(key_specs)) {
    info.handling = Handling::kForward;
    info.refusal = {};
  }
  return info;
}

}  // namespace sy::command
