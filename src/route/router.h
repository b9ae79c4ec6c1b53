// Router: decides where a request goes, without touching sockets.
//
//   args --findCommand--> CommandInfo --arity--> handling
//     kLocal   -> Plan::kLocal                      (the session answers it)
//     kRefused -> Plan::kError with the reason
//     kKeyless -> forward to the only backend, or an error in a sharded pool
//     kFanout, kFanoutPrivate -> Plan::kFanout: every shard, replies merged by the command's
//              rule; SCAN: the one shard its cursor names (route/scan_cursor.h)
//     kForward -> keys --placer--> one backend (all keys must agree) or a CROSSSLOT error
//              (a cluster pool: keys --CRC16 slot--> the slot's shard; all keys in one slot)
//     kSplit   -> keys --placer--> one backend: forward untouched; several: Plan::kSplit
//     kTransaction -> Plan::kTransaction: WATCH on its keys' backend, the rest on any
//     kBlocking (and XREAD ... BLOCK) -> keys --placer--> one backend: Plan::kBlocking
//     kChannel -> the channel (args[1]) --placer--> one backend: Plan::kForward
//     kSubscribe -> Plan::kSubscribe (the session's subscriptions place each channel)
//
// A plan says where a request goes for a session in its ordinary (shared) mode; a session
// pinned to one backend by a transaction (server/transaction.cpp) reads the same plan to
// check that the request belongs there.
//
// Thread: one Router per worker (it keeps scratch vectors to avoid allocating).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "command/command.h"
#include "topology/topology.h"

namespace sy::route {

enum class PlanKind {
  kForward,
  kSplit,
  kLocal,
  kError,
  kTransaction,
  kBlocking,
  kSubscribe,
  kFanout,
};

// Plan::server of a request that may go to any backend (MULTI, EXEC, ...).
inline constexpr uint32_t kAnyServer = UINT32_MAX;

struct KeyRoute {
  uint32_t position;  // index of the key in the request's args
  uint32_t server;    // server index in the pool
  uint16_t slot = 0;  // a cluster pool's: the key's hash slot (keys split by slot); else 0
};

// Plan::slot of a request that is not keyed in a cluster pool.
inline constexpr int32_t kNoSlot = -1;

struct Plan {
  PlanKind kind = PlanKind::kError;
  const command::CommandInfo* command = nullptr;  // null only for unknown commands
  // kForward, kBlocking: the backend; kTransaction: WATCH's backend, else kAnyServer;
  // kFanout: kAnyServer (every shard), or for SCAN the shard its cursor names (kAnyServer:
  // no shard is left to visit, the answer is the end of the iteration).
  uint32_t server = 0;
  // kFanout of SCAN: the cursor to send to `server` in place of the client's.
  uint64_t scan_cursor = 0;
  bool read_only = false;  // the command is flagged read-only
  // kForward: a read of a replication group whose read_from may pick a replica. If its
  // connection fails (lost, refused, timed out) before the reply, it is sent once more by the
  // same read policy, which no longer picks the failed node: reads are safe to repeat.
  bool retry_read = false;
  // The command, its subcommand and its arity are valid: what Redis checks before it asks
  // for authentication (an unknown command gets its error even from an unauthenticated
  // client; a known one gets NOAUTH).
  bool well_formed = false;
  // The command has no key (kKeyless, kFanout, or EVAL with no key): in a sharded pool a
  // kKeyless one is kError, but a session pinned to one backend may send it there.
  bool keyless = false;
  // A cluster pool: the hash slot of the request's keys (kForward, kBlocking, kTransaction's
  // WATCH); kNoSlot when it has none or the pool is not a cluster.
  int32_t slot = kNoSlot;
  std::string error;           // kError: the reply text without '-' and CRLF
  std::vector<KeyRoute> keys;  // kSplit: every key with its backend, in request order
};

class Router {
 public:
  // Fills `out` for `args` (not empty) against `pool`. `out` is reused between calls.
  void plan(const topology::PoolTopology& pool, std::span<const std::string_view> args, Plan& out);

 private:
  void planKeyed(const topology::PoolTopology& pool, std::span<const std::string_view> args,
                 Plan& out);
  // planKeyed for a cluster pool: keys must share one slot (split commands are split by
  // slot).
  void planClusterKeys(const topology::PoolTopology& pool, std::span<const std::string_view> args,
                       Plan& out);
  void planSlot(const topology::PoolTopology& pool, std::string_view slot_text, Plan& out);
  void planKeyless(const topology::PoolTopology& pool, std::string_view name, Plan& out);
  void planFanout(const topology::PoolTopology& pool, std::span<const std::string_view> args,
                  Plan& out);
  void forwardTo(const topology::PoolTopology& pool, uint32_t server, Plan& out);

  std::vector<uint32_t> key_positions_;
};

// Some server of `pool` is in the distribution (not ejected by auto_eject_hosts). A fan-out
// skips ejected servers while one is; when every server is ejected it goes to all of them,
// which answer errors, rather than answering for data it cannot see.
bool hasLiveShard(const topology::PoolTopology& pool);

// Redis's reply to an unknown command: "ERR unknown command 'x', with args beginning with: ..."
std::string unknownCommandError(std::span<const std::string_view> args);

}  // namespace sy::route
