// The proxy's policy for every command: the one hand-written list applied at compile time on
// top of the table generated from redis-server (command_table.inc). docs/commands.md shows
// the result as a table (tests/unit/command/commands_doc_test.cpp keeps it in step).
//
// Rules:
//   - A command listed here gets the handling written next to it.
//   - A command not listed that has keys (a key spec not flagged not_key) is kForward.
//   - A command not listed without keys is kRefused with resp::kErrRefusalNotSupported. A
//     unit test makes sure every keyless command of Redis 7.0 is listed, so this default only
//     catches commands of a future Redis until someone decides about them here.
// The refusal reasons, words for the client, are in resp/errors.h.
// Internal to sy_command: include command/command.h instead.
#pragma once

#include <string_view>

#include "command/command.h"
#include "resp/errors.h"

namespace sy::command {

struct PolicyEntry {
  std::string_view name;  // as in the table: "get", "config|get"
  Handling handling;
  MergeRule merge = MergeRule::kNone;
  std::string_view refusal = {};
};

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
    {"select", Handling::kLocal},  // the session's database (it starts in the pool's redis_db)
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
    {"client|list", Handling::kLocal},  // the calling connection alone
    {"client|kill", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalBackendControl},
    {"client|pause", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalBackendControl},
    {"client|unpause", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalBackendControl},
    {"client|unblock", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalBackendControl},
    {"client|no-evict", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalConnectionState},
    {"client|reply", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalConnectionState},
    {"client|tracking", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalTracking},
    {"client|caching", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalTracking},
    {"client|getredir", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalTracking},
    {"client|trackinginfo", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalTracking},
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

    // --- Fan-out: the whole data set's commands go to every shard (its master) and the replies
    // are merged (command.h MergeRule; docs/commands.md). FLUSHDB and FLUSHALL act on the
    // session's database (SELECT) or on all of them, as in Redis.
    {"dbsize", Handling::kFanout, MergeRule::kSumIntegers},
    {"keys", Handling::kFanout, MergeRule::kConcatArrays},
    {"scan", Handling::kFanout, MergeRule::kScanCursor},
    {"randomkey", Handling::kFanout, MergeRule::kRandomNonNil},
    {"flushdb", Handling::kFanout, MergeRule::kAllOk},
    {"flushall", Handling::kFanout, MergeRule::kAllOk},
    // Scripts and functions are loaded everywhere, so that EVALSHA and FCALL find them on the
    // shard of whatever keys they name.
    {"script|load", Handling::kFanout, MergeRule::kIdentical},
    {"script|exists", Handling::kFanout, MergeRule::kAndArrays},
    {"script|flush", Handling::kFanout, MergeRule::kAllOk},
    {"function|load", Handling::kFanout, MergeRule::kIdentical},
    {"function|delete", Handling::kFanout, MergeRule::kIdentical},
    {"function|list", Handling::kFanout, MergeRule::kIdentical},
    {"function|flush", Handling::kFanout, MergeRule::kAllOk},
    {"function|dump", Handling::kFanout, MergeRule::kIdentical},
    {"function|restore", Handling::kFanout, MergeRule::kAllOk},
    // A runaway script blocks its backend's shared connection: the kill goes around it.
    {"script|kill", Handling::kFanoutPrivate, MergeRule::kAnyKilled},
    {"function|kill", Handling::kFanoutPrivate, MergeRule::kAnyKilled},
    // Channels live on the shard their name hashes to; patterns are on every shard
    // (server/subscriptions.h), so NUMPAT is the largest count, not the sum.
    {"pubsub|channels", Handling::kFanout, MergeRule::kUnionArrays},
    {"pubsub|shardchannels", Handling::kFanout, MergeRule::kUnionArrays},
    {"pubsub|numsub", Handling::kFanout, MergeRule::kSumPairs},
    {"pubsub|shardnumsub", Handling::kFanout, MergeRule::kSumPairs},
    {"pubsub|numpat", Handling::kFanout, MergeRule::kMaxInteger},

    // --- Keyless: no key, and harmless on a backend. Forwarded when the pool has one backend.
    // The proxy will answer INFO itself later; until then the backend's INFO is shown.
    // SWAPDB acts on the session's database (SELECT), as in Redis.
    {"swapdb", Handling::kKeyless},
    {"time", Handling::kKeyless},
    {"lastsave", Handling::kKeyless},
    {"lolwut", Handling::kKeyless},
    // PUBLISH needs no subscription state on the publishing connection.
    {"publish", Handling::kChannel},
    {"spublish", Handling::kChannel},  // its key spec names a channel (not_key)
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
    // One backend's view of its functions (the running script differs from shard to shard).
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

    // --- Private connections (command.h: kBlocking, kTransaction). A blocking command would
    // stall a shared connection that other clients' requests are pipelined on; a transaction
    // holds state on its connection.
    {"blpop", Handling::kBlocking},
    {"brpop", Handling::kBlocking},
    {"blmove", Handling::kBlocking},
    {"brpoplpush", Handling::kBlocking},
    {"blmpop", Handling::kBlocking},
    {"bzpopmin", Handling::kBlocking},
    {"bzpopmax", Handling::kBlocking},
    {"bzmpop", Handling::kBlocking},
    {"multi", Handling::kTransaction},
    {"exec", Handling::kTransaction},
    {"discard", Handling::kTransaction},
    {"watch", Handling::kTransaction},
    {"unwatch", Handling::kTransaction},
    // WAIT counts the writes of the connection it runs on, which a client shares with others.
    {"wait", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalWait},
    // Subscriptions hold state on their connections: the session keeps them.
    {"subscribe", Handling::kSubscribe},
    {"psubscribe", Handling::kSubscribe},
    {"ssubscribe", Handling::kSubscribe},
    {"unsubscribe", Handling::kSubscribe},
    {"punsubscribe", Handling::kSubscribe},
    {"sunsubscribe", Handling::kSubscribe},
    // The session's own state (transaction, subscriptions, database, name) back to a new
    // connection's.
    {"reset", Handling::kLocal},
    // --- Refused: connection state that would leak to every client of a shared connection.
    {"readonly", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalConnectionState},
    {"readwrite", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalConnectionState},
    {"asking", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalConnectionState},

    // --- Refused: stopping, reconfiguring or taking over a backend.
    {"shutdown", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalBackendControl},
    {"config|set", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalBackendControl},
    {"config|rewrite", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalBackendControl},
    {"config|resetstat", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalBackendControl},
    {"monitor", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalBackendControl},
    {"save", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalBackendControl},
    {"bgsave", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalBackendControl},
    {"bgrewriteaof", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalBackendControl},
    {"latency|reset", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalBackendControl},
    {"slowlog|reset", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalBackendControl},
    {"memory|purge", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalBackendControl},
    {"module|list", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalBackendControl},
    {"module|load", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalBackendControl},
    {"module|loadex", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalBackendControl},
    {"module|unload", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalBackendControl},
    {"debug", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalDebugging},
    {"script|debug", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalDebugging},
    {"pfdebug", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalDebugging},
    {"pfselftest", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalDebugging},

    // --- Refused: the proxy owns replication and failover (DESIGN.md 1.1); ROLE would expose
    // the backend behind the proxy.
    {"replicaof", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalReplication},
    {"slaveof", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalReplication},
    {"failover", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalReplication},
    {"sync", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalReplication},
    {"psync", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalReplication},
    {"replconf", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalReplication},
    {"role", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalReplication},

    // --- Refused: data placement is the proxy's. MIGRATE moves keys to a server the proxy
    // does not place them on; RESTORE-ASKING is part of cluster resharding.
    {"migrate", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalMigrate},
    {"restore-asking", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},

    // --- Refused: cluster support comes with cluster pools.
    {"cluster|addslots", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},
    {"cluster|addslotsrange", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},
    {"cluster|bumpepoch", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},
    {"cluster|count-failure-reports", Handling::kRefused, MergeRule::kNone,
     resp::kErrRefusalCluster},
    {"cluster|countkeysinslot", Handling::kSlot},
    {"cluster|delslots", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},
    {"cluster|delslotsrange", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},
    {"cluster|failover", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},
    {"cluster|flushslots", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},
    {"cluster|forget", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},
    {"cluster|getkeysinslot", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},
    {"cluster|info", Handling::kLocal},
    {"cluster|keyslot", Handling::kLocal},
    {"cluster|links", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},
    {"cluster|meet", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},
    {"cluster|myid", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},
    {"cluster|nodes", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},
    {"cluster|replicas", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},
    {"cluster|replicate", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},
    {"cluster|reset", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},
    {"cluster|saveconfig", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},
    {"cluster|set-config-epoch", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},
    {"cluster|setslot", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},
    {"cluster|shards", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},
    {"cluster|slaves", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},
    {"cluster|slots", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalCluster},

    // --- Refused: ACL acts on backend users; the proxy will have its own users.
    {"acl|deluser", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalAcl},
    {"acl|dryrun", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalAcl},
    {"acl|getuser", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalAcl},
    {"acl|list", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalAcl},
    {"acl|load", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalAcl},
    {"acl|log", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalAcl},
    {"acl|save", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalAcl},
    {"acl|setuser", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalAcl},
    {"acl|users", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalAcl},
    {"acl|whoami", Handling::kRefused, MergeRule::kNone, resp::kErrRefusalAcl},
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
                                  std::string_view info_reply, std::string_view docs_reply,
                                  std::string_view info_reply3, std::string_view docs_reply3) {
  CommandInfo info{name,
                   arity,
                   flags,
                   Handling::kRefused,
                   MergeRule::kNone,
                   keyFinderFor(name),
                   resp::kErrRefusalNotSupported,
                   key_specs,
                   subcommands,
                   info_reply,
                   docs_reply,
                   info_reply3,
                   docs_reply3};
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
