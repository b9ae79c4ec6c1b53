// The command table: every Redis 7.0 command with its flags, arity, key specs and the
// proxy's handling of it (see docs/commands.md for the policy as a table).
//
//   request args --findCommand()--> CommandInfo (static, immutable)
//     arityOk()      wrong count? wrongArityError()
//     handling       forward / split / local / keyless / refused / transaction / blocking
//     extractKeys()  key positions for routing
//     mayBlock()     XREAD ... BLOCK and friends
//
// The Redis facts (flags, arity, key specs, COMMAND INFO / COMMAND DOCS replies) are generated
// by tools/gen_command_table.py from a real redis-server into command_*.inc; the proxy's
// policy is the hand-written list in policy.h, applied at compile time.
//
// Thread safety: everything here is immutable static data or a pure function; any thread.
// Lifetime: every CommandInfo, span and string_view lives for the whole program.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sy::command {

// Command flags as `COMMAND` reports them in Redis 7.0.
enum CommandFlag : uint32_t {
  kFlagWrite = 1u << 0,
  kFlagReadOnly = 1u << 1,
  kFlagDenyOom = 1u << 2,
  kFlagAdmin = 1u << 3,
  kFlagPubSub = 1u << 4,
  kFlagNoScript = 1u << 5,
  kFlagBlocking = 1u << 6,
  kFlagLoading = 1u << 7,
  kFlagStale = 1u << 8,
  kFlagSkipMonitor = 1u << 9,
  kFlagSkipSlowlog = 1u << 10,
  kFlagFast = 1u << 11,
  kFlagNoAuth = 1u << 12,
  kFlagMayReplicate = 1u << 13,
  kFlagNoMulti = 1u << 14,
  kFlagMovableKeys = 1u << 15,
  kFlagAllowBusy = 1u << 16,
  kFlagAsking = 1u << 17,
  kFlagNoMandatoryKeys = 1u << 18,
  kFlagNoAsyncLoading = 1u << 19,
  kFlagModule = 1u << 20,
};

// Key spec flags as `COMMAND` reports them (Redis 7 key specs).
enum KeySpecFlag : uint16_t {
  kKeyRo = 1u << 0,
  kKeyRw = 1u << 1,
  kKeyOw = 1u << 2,
  kKeyRm = 1u << 3,
  kKeyAccess = 1u << 4,
  kKeyUpdate = 1u << 5,
  kKeyInsert = 1u << 6,
  kKeyDelete = 1u << 7,
  kKeyNotKey = 1u << 8,          // a channel, not a key (SPUBLISH ...): never extracted
  kKeyIncomplete = 1u << 9,      // the spec may miss keys
  kKeyVariableFlags = 1u << 10,  // positions are exact, the RO/RW flags depend on arguments
};

enum class BeginSearch : uint8_t {
  kIndex,    // keys start at argument `index`
  kKeyword,  // keys start after `keyword`, searched from argument `index` (negative: from the end)
  kUnknown,  // Redis cannot tell where (SORT's BY/GET/STORE)
};

enum class FindKeys : uint8_t {
  kRange,    // last_key (negative: from the end), key_step, limit (divides the remaining args)
  kKeynum,   // the key count is at keynum_index; keys from first_key, every key_step
  kUnknown,  // Redis cannot tell how many
};

// One Redis 7 key spec in compact form; field meanings follow BeginSearch and FindKeys.
struct KeySpec {
  uint16_t flags;  // KeySpecFlag bits
  BeginSearch begin_search;
  FindKeys find_keys;
  int16_t index;  // kIndex: the position; kKeyword: startfrom
  std::string_view keyword;
  int16_t last_key;
  int16_t key_step;
  int16_t limit;
  int16_t keynum_index;
  int16_t first_key;
};

// How the proxy treats a command.
enum class Handling : uint8_t {
  // Routed by its keys; every key must land on one backend. Read-only iff kFlagReadOnly.
  // A kForward call whose extractKeys() finds zero keys (EVAL "..." 0, FCALL f 0) is handled
  // by the caller exactly like kKeyless.
  kForward,
  // Split per backend and merged by `merge`: MGET MSET DEL UNLINK EXISTS TOUCH.
  kSplit,
  // Answered by the proxy itself. A container (non-empty `subcommands`) returned by
  // findCommand() is kLocal: the proxy answers unknownSubcommandError().
  kLocal,
  // No key, harmless on a backend: forwarded only when the pool has a single backend; a
  // sharded pool refuses it.
  kKeyless,
  // No key, about the whole data set (DBSIZE, KEYS, SCAN, FLUSHDB, SCRIPT LOAD ...): sent to
  // every shard (the master of each group, the one server of a plain shard) on the shared
  // connections, and the replies merged by `merge`. Also in a pool of one backend.
  kFanout,
  // SCRIPT KILL, FUNCTION KILL: like kFanout, but each copy goes on a private connection of its
  // own, so that it is not queued behind the runaway script on a shared pipelined connection.
  kFanoutPrivate,
  // Never reaches a backend; `refusal` says why, in words for the client.
  kRefused,
  // MULTI EXEC DISCARD WATCH UNWATCH: the session leases a private connection to the master
  // of the shard of the transaction's first key and pins itself there until the transaction
  // (and every WATCH) ends.
  kTransaction,
  // Blocking commands (BLPOP ...): sent alone on a private connection to the master of their
  // keys' shard, without the pool's timeout; the session reads nothing more until the reply.
  // XREAD and XREADGROUP are kForward, and planned so when mayBlock() says they block.
  kBlocking,
  // PUBLISH, SPUBLISH: placed by their channel (the first argument) with the pool's hash, as
  // a key would be, so that they meet the subscriptions of that channel.
  kChannel,
  // SUBSCRIBE and the rest of that family: the session keeps the subscriptions and carries
  // them on private connections to every backend they need (server/subscriptions.h).
  kSubscribe,
  // CLUSTER COUNTKEYSINSLOT: no key, but a hash slot (its last argument). A cluster pool sends
  // it to the shard serving that slot; any other pool answers as a standalone Redis does
  // (resp::kErrClusterDisabled).
  kSlot,
};

// How the partial replies of a kSplit, kFanout or kFanoutPrivate command are merged. Unless
// a rule says otherwise, a part that answered an error makes the answer the first such error
// (in shard order), in Redis's words.
enum class MergeRule : uint8_t {
  kNone,
  kMgetArray,    // MGET: one array, values in the request's key order
  kMsetOk,       // MSET: +OK once every part answered +OK
  kSumIntegers,  // DEL UNLINK EXISTS TOUCH, DBSIZE: the sum of the integer replies
  // Fan-out rules (docs/commands.md names each); server/merge.cpp takes every rule from kAllOk
  // on as one, so they stay last:
  kAllOk,         // FLUSHDB FLUSHALL SCRIPT|FLUSH FUNCTION|FLUSH|RESTORE: +OK from every shard
  kConcatArrays,  // KEYS: the shards' arrays one after another
  kRandomNonNil,  // RANDOMKEY: a random shard's non-nil reply; nil only if all are nil
  kIdentical,     // SCRIPT|LOAD FUNCTION|LOAD|DELETE|LIST|DUMP: every reply equal, once
  kAndArrays,     // SCRIPT|EXISTS: element-wise AND of the 0/1 arrays
  kUnionArrays,   // PUBSUB CHANNELS|SHARDCHANNELS: the union, first seen first, no repeats
  kSumPairs,      // PUBSUB NUMSUB|SHARDNUMSUB: [name, count, ...] with counts summed
  kMaxInteger,    // PUBSUB NUMPAT: the largest integer (each shard has every pattern)
  kScanCursor,    // SCAN: one shard's page, its cursor turned into the proxy's
  kAnyKilled,     // SCRIPT|KILL FUNCTION|KILL: +OK if a shard killed one; else NOTBUSY
};

// Commands whose Redis key specs cannot locate every key; extractKeys() uses the same
// hand-written rule as Redis's getkeys procedure for them.
enum class KeyFinder : uint8_t {
  kSpecs,   // the key specs are complete
  kSort,    // SORT key [BY p] [LIMIT o c] [GET p ...] [STORE dst]: key 1 and the last STORE's key
  kSortRo,  // SORT_RO key ...: key 1 only
};

struct CommandInfo {
  std::string_view name;  // lowercase, as Redis names it: "get", "config|get"
  int arity;              // > 0: exact argument count including the name; < 0: minimum
  uint32_t flags;         // CommandFlag bits
  Handling handling;
  MergeRule merge;  // kNone unless kSplit, kFanout or kFanoutPrivate
  KeyFinder key_finder;
  std::string_view refusal;  // kRefused: the reason; empty otherwise
  std::span<const KeySpec> key_specs;
  std::span<const CommandInfo> subcommands;  // containers (CONFIG, CLIENT, ...); sorted by name
  // `COMMAND INFO name` entry (one element of the reply array), raw RESP2 bytes as
  // redis-server 7.0 prints them.
  std::string_view info_reply;
  // `COMMAND DOCS name` entry: the name bulk string followed by the docs map, raw RESP2.
  std::string_view docs_reply;
  // The same two entries as redis-server sends them to a client that sent HELLO 3 (flags,
  // categories and tips as sets, key specs and docs as maps).
  std::string_view info_reply3;
  std::string_view docs_reply3;

  bool hasFlag(CommandFlag flag) const { return (flags & flag) != 0; }
  bool isContainer() const { return !subcommands.empty(); }
};

// The command for a request: case-insensitive lookup of args[0], without allocation. For a
// container, args[1] (case-insensitive) selects the subcommand when present and known;
// otherwise the container itself is returned. nullptr when args[0] is unknown.
// Precondition: !args.empty().
//
// Callers check in Redis's order: nullptr -> unknown command; a container with
// args.size() >= 2 -> unknownSubcommandError(); !arityOk() -> wrongArityError().
const CommandInfo* findCommand(std::span<const std::string_view> args);

// The top-level command named `name` (case-insensitive), or nullptr. Subcommands are not
// found by their "container|sub" names here; use findCommand().
const CommandInfo* findTopLevel(std::string_view name);

// Redis arity check: arity > 0 -> argc == arity; arity < 0 -> argc >= -arity.
bool arityOk(const CommandInfo& command, size_t argc);

// Positions (indexes into args) of every key, following the command's key specs as Redis 7's
// getKeysUsingKeySpecs() does: index or keyword begin search; range with lastkey/keystep/limit;
// keynum with keynumidx/firstkey/keystep; specs flagged not_key are skipped; a keynum of 0
// yields no keys. `out` is cleared first. Returns false when the args do not fit the specs
// (numkeys missing, non-numeric, negative or larger than the remaining args; a range outside
// the args; a spec Redis itself cannot resolve): the caller answers an error. Commands with a
// KeyFinder other than kSpecs follow Redis's getkeys procedure instead. Keys appear in spec
// order (for ZUNIONSTORE: dst, then the sources). No allocation once `out` has capacity.
bool extractKeys(const CommandInfo& command, std::span<const std::string_view> args,
                 std::vector<uint32_t>& out);

// True when this call would block a backend connection: every kFlagBlocking command except
// XREAD and XREADGROUP, which block only with a BLOCK option before STREAMS.
bool mayBlock(const CommandInfo& command, std::span<const std::string_view> args);

// Where a blocking call carries its timeout, so that it can be sent again with the time that
// is left: seconds (a decimal; BLPOP ... timeout, BLMPOP timeout ...) or milliseconds (XREAD
// and XREADGROUP's BLOCK).
struct BlockTimeout {
  // The timeout's argument; none when the call has no timeout to rewrite (WAIT, whose
  // meaning is tied to the node it ran on, a call that does not block, or a malformed call
  // the backend refuses): such a call is sent again, if at all, as it is.
  std::optional<size_t> index;
  bool milliseconds = false;
};
BlockTimeout blockTimeout(const CommandInfo& command, std::span<const std::string_view> args);

// Every top-level command, sorted by name, for `COMMAND`, `COMMAND COUNT` and `COMMAND LIST`.
std::span<const CommandInfo> allCommands();

// A dense id for every command and subcommand, for per-command statistics kept in arrays:
// top-level commands take their index in allCommands(), subcommands follow, container by
// container. O(1) for a top-level command, a short scan of the containers for a subcommand;
// no allocation. `command` must come from this table (findCommand, findTopLevel, ...).
uint16_t commandId(const CommandInfo& command);
// The number of ids: every valid id is below it.
size_t commandIdCount();
// The command with id `id` (< commandIdCount()).
const CommandInfo& commandById(uint16_t id);

// The Redis version whose command table and behaviour the proxy presents (HELLO, INFO).
inline constexpr std::string_view kPresentedRedisVersion = "7.0.15";

// Redis's error texts (without the leading '-' and the CRLF), with CR and LF replaced by
// spaces as Redis does:
//   "ERR unknown subcommand 'x'. Try CONFIG HELP."  (subcommand cut to 128 bytes)
//   "ERR wrong number of arguments for 'config|get' command"
std::string unknownSubcommandError(const CommandInfo& container, std::string_view subcommand);
std::string wrongArityError(const CommandInfo& command);

}  // namespace sy::command
