// Client-visible error strings, in one place (STYLE.md rule 9).
//
// Each is an error reply's text without the leading '-' and the CRLF, its prefix ("ERR",
// "NOAUTH", ...) included, unless its group says otherwise. The protocol errors use Redis 7.0's
// own wording so clients and their tests see what a real server would say. Other modules add
// their strings here, grouped by the module that emits them.
//
// A text with variable parts is a fmt format string, its "{}" fields named in the comment
// above it, used as fmt::format(resp::kErr..., args...): fmt checks it against the arguments
// at compile time, so a mismatch cannot reach the data path. The request parser alone keeps a
// prefix (kErrExpectedDollarPrefix), as it writes its text into a fixed buffer without fmt.
#pragma once

#include <string_view>

namespace sy::resp {

// --- Request parser (client -> proxy). The client is sent "-ERR <text>" and disconnected. ---
inline constexpr std::string_view kErrInvalidMultibulkLength =
    "Protocol error: invalid multibulk length";
inline constexpr std::string_view kErrInvalidBulkLength = "Protocol error: invalid bulk length";
// A multibulk request whose bytes would pass the pool's max_request_bytes.
inline constexpr std::string_view kErrTooBigRequest =
    "Protocol error: request larger than max_request_bytes";
inline constexpr std::string_view kErrTooBigInlineRequest =
    "Protocol error: too big inline request";
inline constexpr std::string_view kErrTooBigMbulkCountString =
    "Protocol error: too big mbulk count string";
inline constexpr std::string_view kErrTooBigBulkCountString =
    "Protocol error: too big bulk count string";
inline constexpr std::string_view kErrUnbalancedQuotes =
    "Protocol error: unbalanced quotes in request";
// Followed by the offending byte and a closing quote: "Protocol error: expected '$', got 'x'".
inline constexpr std::string_view kErrExpectedDollarPrefix = "Protocol error: expected '$', got '";
// Redis skips the two bytes after bulk data without looking; we insist they are CRLF.
inline constexpr std::string_view kErrBulkNotTerminated =
    "Protocol error: bulk argument not followed by CRLF";

// --- Reply framer (backend -> proxy). Logged; the backend connection is closed, and its
// requests in flight get the text in kErrReasonMalformedReply. ---
inline constexpr std::string_view kErrReplyUnknownType = "reply: unknown type byte";
inline constexpr std::string_view kErrReplyBadLineEnd = "reply: CR not followed by LF";
inline constexpr std::string_view kErrReplyLineTooLong = "reply: header or line too long";
inline constexpr std::string_view kErrReplyBadInteger = "reply: invalid integer";
inline constexpr std::string_view kErrReplyBadLength = "reply: invalid bulk or aggregate length";
inline constexpr std::string_view kErrReplyBulkNotTerminated = "reply: bulk not followed by CRLF";
inline constexpr std::string_view kErrReplyPlaceLost = "reply: framer lost its place";
inline constexpr std::string_view kErrReplyBadNull = "reply: RESP3 null with a payload";
inline constexpr std::string_view kErrReplyBadBoolean = "reply: RESP3 boolean not 't' or 'f'";
inline constexpr std::string_view kErrReplyBadDouble = "reply: RESP3 double is empty";
inline constexpr std::string_view kErrReplyBadVerbatim =
    "reply: RESP3 verbatim string without format";
inline constexpr std::string_view kErrReplyStreamed =
    "reply: RESP3 streamed types are not supported";

// --- Backend replies the proxy does not forward (backend/). Replied to the client that asked
// only. ---
// {} the reply's size, {} the limit, both in bytes.
inline constexpr std::string_view kErrReplyTooLarge =
    "ERR the backend's reply is {} bytes, more than the {}-byte limit on a reply the proxy "
    "forwards; the command was executed";

// --- Backend connections (backend/). Replied to each request a connection refuses or fails;
// the first two {} are the backend's name and address. ---
// {} the requests waiting for it, {} their bytes.
inline constexpr std::string_view kErrBackendOverloaded =
    "ERR backend {} ({}) is overloaded: {} requests ({} bytes) are waiting for it";
// {} the timeout in ms.
inline constexpr std::string_view kErrBackendTimedOut = "ERR backend {} ({}) timed out after {} ms";
// {} why (a reason below, or the OS's text): new requests, while the connection backs off.
inline constexpr std::string_view kErrBackendUnavailable = "ERR backend {} ({}) is unavailable: {}";
// {} why: the requests in flight when the connection failed.
inline constexpr std::string_view kErrBackendFailed = "ERR backend {} ({}) failed: {}";

// --- Why a backend connection failed (backend/). Logged, and the last {} of
// kErrBackendUnavailable and kErrBackendFailed. ---
// {} the OS's text.
inline constexpr std::string_view kErrReasonNoSocket = "cannot create socket: {}";
// {} the connect timeout in ms.
inline constexpr std::string_view kErrReasonConnectTimedOut = "connect timed out after {} ms";
// {} the OS's text.
inline constexpr std::string_view kErrReasonWriteFailed = "write failed: {}";
inline constexpr std::string_view kErrReasonClosedByBackend = "connection closed by backend";
// {} the framer's text (kErrReply... above).
inline constexpr std::string_view kErrReasonMalformedReply = "malformed reply: {}";
inline constexpr std::string_view kErrReasonUnpairedReply = "reply with no request in flight";
// {} how long the oldest request has waited past its deadline, in ms.
inline constexpr std::string_view kErrReasonStalled = "no reply for {} ms";
// {} the handshake command (AUTH, SELECT), {} the backend's error text.
inline constexpr std::string_view kErrReasonHandshakeRejected = "backend rejected {}: {}";
inline constexpr std::string_view kErrReasonServerRemoved = "its server left the configuration";
inline constexpr std::string_view kErrReasonLeaseEnded = "its private lease ended";
inline constexpr std::string_view kErrReasonMasterChanged =
    "its node no longer takes the writes it was leased for (a failover or a reload)";
inline constexpr std::string_view kErrReasonSubscriptionsEnded = "its client's subscriptions ended";

// --- Command table checks (command/). Redis 7.0's words; CR and LF in a {} become spaces. ---
// {} the subcommand, cut to 128 bytes; {} the container's name in capitals.
inline constexpr std::string_view kErrUnknownSubcommand =
    "ERR unknown subcommand '{}'. Try {} HELP.";
// {} the command's name as the table has it ("config|get").
inline constexpr std::string_view kErrWrongArity = "ERR wrong number of arguments for '{}' command";

// --- Why the proxy refuses a command (command/policy.h). The reason that ends the router's
// "not supported" reply. ---
inline constexpr std::string_view kErrRefusalNotSupported =
    "this command is not supported through the proxy";
inline constexpr std::string_view kErrRefusalBackendControl =
    "the proxy does not let clients stop, reconfigure or take over its backends";
inline constexpr std::string_view kErrRefusalReplication =
    "replication is managed by the proxy and Sentinel, not by clients";
inline constexpr std::string_view kErrRefusalCluster =
    "clients of switchyard see one Redis, not a cluster; run CLUSTER commands that manage or "
    "describe the cluster on its nodes";
// CLUSTER INFO, KEYSLOT and COUNTKEYSINSLOT in a pool that is not a cluster: a standalone
// Redis's words.
inline constexpr std::string_view kErrClusterDisabled =
    "ERR This instance has cluster support disabled";
inline constexpr std::string_view kErrInvalidSlot = "ERR Invalid slot";
inline constexpr std::string_view kErrRefusalConnectionState =
    "this command changes the state of a shared backend connection";
inline constexpr std::string_view kErrRefusalOtherDatabases =
    "this pool serves its redis_db alone; commands that reach other databases are refused";
inline constexpr std::string_view kErrRefusalAcl =
    "ACL commands would act on the backends' users, not on the proxy's clients";
inline constexpr std::string_view kErrRefusalDebugging =
    "debugging commands are not supported through the proxy";
inline constexpr std::string_view kErrRefusalTracking =
    "client-side caching (tracking) is not supported through the proxy";
inline constexpr std::string_view kErrRefusalWait =
    "WAIT counts the writes of the backend connection it runs on, which clients share through the "
    "proxy";
inline constexpr std::string_view kErrRefusalMigrate =
    "MIGRATE would move keys away from the backend the proxy places them on";

// --- Routing (route/). Replied as "-<text>"; the connection stays open. ---
// {} the command's name, cut to 128 bytes; {} its arguments, each as kErrUnknownCommandArg,
// until they reach 128 bytes (Redis 7.0's words).
inline constexpr std::string_view kErrUnknownCommand =
    "ERR unknown command '{}', with args beginning with: {}";
// {} one argument, cut to the room left.
inline constexpr std::string_view kErrUnknownCommandArg = "'{}' ";
// {} the command's name as the table has it, {} why (a kErrRefusal... reason).
inline constexpr std::string_view kErrNotSupported = "ERR '{}' is not supported by switchyard: {}";
// {} the command's name, {} the pool's name, {} its number of backends.
inline constexpr std::string_view kErrKeylessInShardedPool =
    "ERR '{}' has no key to route by, and pool '{}' has {} backends: it runs only through a pool "
    "with a single backend";
// Redis 7.0's words for a SCAN cursor that is not an unsigned 64-bit number.
inline constexpr std::string_view kErrInvalidCursor = "ERR invalid cursor";
// A cluster pool: a command (other than MGET, MSET, DEL, UNLINK, EXISTS, TOUCH, which are split)
// whose keys are in several hash slots; Redis Cluster's own words.
inline constexpr std::string_view kErrCrossSlot =
    "CROSSSLOT Keys in request don't hash to the same slot";
inline constexpr std::string_view kErrCrossShard =
    "CROSSSLOT Keys in request don't hash to the same backend (use a hash tag to keep them "
    "together)";

// --- Fan-out to every shard (server/merge.h). ---
// The shards answered a command that must agree everywhere differently. {} the command's
// name, {} and {} the two shards (their places in the pool's servers list, from 0).
inline constexpr std::string_view kErrShardsDisagree =
    "ERR switchyard: '{}' answered differently on shard {} and shard {} of this pool; the shards "
    "are out of step (load or delete on every shard again)";
// A shard answered a fan-out command with a reply of an unexpected type.
inline constexpr std::string_view kErrUnexpectedFanoutReply =
    "ERR switchyard: unexpected reply from a shard to a command sent to every shard";
// A shard's SCAN cursor is too large to carry its shard number in the proxy's cursor.
inline constexpr std::string_view kErrScanCursorOverflow =
    "ERR switchyard: a backend's SCAN cursor is too large to combine with its shard number";
// A command that fans out to every shard, inside a transaction of a sharded pool. {} the
// command's name.
inline constexpr std::string_view kErrFanoutInTransaction =
    "ERR switchyard: '{}' runs on every shard and cannot be queued in a transaction of a sharded "
    "pool";

// --- Private connections: transactions and blocking commands (server/). ---
// {} the server's (group's) name, {} the pool's, {} its private_connections.
inline constexpr std::string_view kErrNoPrivateConnection =
    "ERR switchyard: server '{}' of pool '{}' has all its {} private connections (for "
    "transactions, blocking commands and subscriptions) in use; raise private_connections or "
    "retry later";
// A command whose keys live on another backend than the one the transaction is pinned to.
// Refused while queuing, which makes EXEC answer kErrExecAbort.
inline constexpr std::string_view kErrTransactionCrossShard =
    "CROSSSLOT Keys in request don't hash to the backend this transaction (or WATCH) is pinned "
    "to (use a hash tag to keep them together)";
// {} the command's name.
inline constexpr std::string_view kErrNotInTransaction =
    "ERR '{}' cannot be queued in a transaction through switchyard";
// Redis 7.0's words: EXEC after a command was refused while queuing.
inline constexpr std::string_view kErrExecAbort =
    "EXECABORT Transaction discarded because of previous errors.";
// The private connection of a transaction was lost (the backend failed, or a failover made
// its node no longer the master): EXEC answers this and nothing was executed.
inline constexpr std::string_view kErrTransactionLost =
    "EXECABORT Transaction discarded because its backend connection was lost or its master "
    "changed (nothing was executed)";
// Redis 7.0's words for EXEC and DISCARD outside a transaction.
inline constexpr std::string_view kErrExecWithoutMulti = "ERR EXEC without MULTI";
inline constexpr std::string_view kErrDiscardWithoutMulti = "ERR DISCARD without MULTI";
inline constexpr std::string_view kErrMultiNested = "ERR MULTI calls can not be nested";
inline constexpr std::string_view kErrWatchInMulti = "ERR WATCH inside MULTI is not allowed";
// A command queued after the transaction's connection was lost (before EXEC).
inline constexpr std::string_view kErrQueuedAfterLoss =
    "ERR switchyard: this transaction's backend connection was lost; EXEC will abort it";

// --- Pub/Sub (server/subscriptions.h). ---
// Redis 7.0's words: a RESP2 client with subscriptions runs only these. {} the command's name
// as the table has it.
inline constexpr std::string_view kErrSubscribedContext =
    "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are "
    "allowed in this context";
// {} the command's name.
inline constexpr std::string_view kErrSubscribeInTransaction =
    "ERR switchyard: '{}' inside a transaction (MULTI or WATCH) is not supported";
// A client that reads its messages too slowly: closed, with this in the log. {} the limit.
inline constexpr std::string_view kErrReasonSubscriberTooSlow =
    "a subscriber's unsent messages passed the {}-byte output limit";

// --- Replication groups (topology/, server/). Replied to the request that cannot be served;
// the first two {} are the group's and the pool's names. ---
// {} how many nodes claim master, {} their addresses.
inline constexpr std::string_view kErrSeveralMasters =
    "ERR switchyard: group '{}' of pool '{}': {} nodes claim master ({}); writes are refused "
    "rather than split between them";
// {} how long the write was parked, in ms. TRYAGAIN: the client may retry it as it is.
inline constexpr std::string_view kErrNoConfirmedMaster =
    "TRYAGAIN switchyard: group '{}' of pool '{}' has no confirmed master (a failover is under "
    "way, or the master is unreachable); the write waited {} ms and was not sent, retry it";
inline constexpr std::string_view kErrNoHealthyReplica =
    "ERR switchyard: group '{}' of pool '{}' has no healthy replica to read from (read_from: "
    "replica)";
inline constexpr std::string_view kErrPoolLeftWhileBlocked =
    "ERR switchyard: the client's pool left the configuration while the command was blocked; "
    "it was not sent again";
// A cluster pool's request redirected (MOVED, ASK, TRYAGAIN, CLUSTERDOWN) that found no shard
// to take it in time, or whose pool went away meanwhile.
inline constexpr std::string_view kErrSlotUnserved =
    "TRYAGAIN switchyard: hash slot {} of pool '{}' has no reachable master (the cluster is "
    "failing over or moving the slot); the request waited {} ms and was not sent, retry it";
inline constexpr std::string_view kErrClusterPoolLeft =
    "ERR switchyard: pool '{}' left the configuration before the request could be sent";
inline constexpr std::string_view kErrGroupLeft =
    "ERR switchyard: group '{}' of pool '{}' left the configuration before the write could be "
    "sent";

// --- Authentication (server/). Replied as "-<text>"; the connection stays open. Redis 7.0's
// words, byte for byte, so clients that match on them keep working. ---
inline constexpr std::string_view kErrNoAuth = "NOAUTH Authentication required.";
inline constexpr std::string_view kErrWrongPass =
    "WRONGPASS invalid username-password pair or user is disabled.";
inline constexpr std::string_view kErrAuthWithoutPassword =
    "ERR AUTH <password> called without any password configured for the default user. Are you "
    "sure your configuration is correct?";
inline constexpr std::string_view kErrHelloNoAuth =
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
    "AUTH <user> <pass> option can be used to authenticate the client and select the RESP "
    "protocol version at the same time";
inline constexpr std::string_view kErrSyntax = "ERR syntax error";
inline constexpr std::string_view kErrHelloProtocolNotInteger =
    "ERR Protocol version is not an integer or out of range";
inline constexpr std::string_view kErrNoProto = "NOPROTO unsupported protocol version";
// {} the option, cut to 64 bytes.
inline constexpr std::string_view kErrHelloProtocolWhileStateful =
    "ERR switchyard: HELLO cannot change the protocol while the client is subscribed or in a "
    "transaction or WATCH; RESET first";
inline constexpr std::string_view kErrHelloSyntax = "ERR Syntax error in HELLO option '{}'";
inline constexpr std::string_view kErrBadClientName =
    "ERR Client names cannot contain spaces, newlines or special characters.";

// --- Commands the proxy answers itself (server/). Replied as "-<text>"; the connection stays
// open. ---
// SELECT's argument, in Redis 7.0's words.
inline constexpr std::string_view kErrNotInteger = "ERR value is not an integer or out of range";
// Redis 7.0's words: SELECT past the backends' `databases` (the pool key of that name).
inline constexpr std::string_view kErrDbIndexOutOfRange = "ERR DB index is out of range";
// {} the pool's redis_db.
inline constexpr std::string_view kErrSelectPoolDb =
    "ERR switchyard: this pool serves backend database {} (its redis_db) alone, which clients "
    "see as database 0";
inline constexpr std::string_view kErrSelectWhileWatching =
    "ERR switchyard: SELECT while WATCH is active is not supported; UNWATCH first";
// {} the subcommand, cut to 64 bytes.
inline constexpr std::string_view kErrClientSubcommandNotSupported =
    "ERR 'client|{}' is not supported by switchyard";
// COMMAND GETKEYS, in Redis 7.0's words.
inline constexpr std::string_view kErrGetKeysUnknownCommand = "ERR Invalid command specified";
inline constexpr std::string_view kErrGetKeysWrongArity =
    "ERR Invalid number of arguments specified for command";
inline constexpr std::string_view kErrGetKeysNoKeys = "ERR The command has no key arguments";
// {} the command's name.
inline constexpr std::string_view kErrNoLocalHandler =
    "ERR '{}' is marked local but switchyard has no local handler for it";
inline constexpr std::string_view kErrInfoUnavailable = "ERR INFO is not available in this process";

// --- Split commands (server/merge.cpp). Replied for the whole command, or (MGET) for each key
// of a fragment whose reply does not fit. ---
inline constexpr std::string_view kErrUnexpectedSplitReply =
    "ERR unexpected reply from backend to a split command";

// --- Client connections (server/). ---
// Written to a connection past the pool's client_connections, which is then closed; Redis
// 7.0's words.
inline constexpr std::string_view kErrMaxClients = "ERR max number of clients reached";
// Replied to the writes still parked when the proxy stops.
inline constexpr std::string_view kErrShuttingDown = "ERR switchyard is shutting down";

}  // namespace sy::resp
