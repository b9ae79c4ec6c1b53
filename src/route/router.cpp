#include "route/router.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>

#include "hash/key_tag.h"
#include "resp/errors.h"
#include "route/scan_cursor.h"

namespace sy::route {
namespace {

// Printable form of client bytes inside an error reply: at most 128 bytes, no CR/LF.
std::string clip(std::string_view text) {
  std::string out(text.substr(0, 128));
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return out;
}

// Commands that name or touch databases other than the session's. A pool with a redis_db
// serves that database alone (SELECT too is held to it).
bool reachesOtherDatabases(const command::CommandInfo& command) {
  return command.name == "move" || command.name == "swapdb" || command.name == "flushall";
}

}  // namespace

bool hasLiveShard(const topology::PoolTopology& pool) {
  return std::any_of(pool.servers.begin(), pool.servers.end(),
                     [](const topology::ServerInfo& server) { return !server.ejected; });
}

// As Redis 7.0 words it: the name cut to 128 bytes, then arguments until their text reaches
// 128 bytes, each cut to the room left.
std::string unknownCommandError(std::span<const std::string_view> args) {
  constexpr size_t kShown = 128;
  std::string shown_args;
  for (size_t i = 1; i < args.size() && shown_args.size() < kShown; ++i) {
    shown_args += fmt::format(resp::kErrUnknownCommandArg,
                              clip(args[i].substr(0, kShown - shown_args.size())));
  }
  return fmt::format(resp::kErrUnknownCommand, clip(args[0]), shown_args);
}

void Router::plan(const topology::PoolTopology& pool, std::span<const std::string_view> args,
                  Plan& out) {
  out.keys.clear();
  out.error.clear();
  out.well_formed = false;
  out.keyless = false;
  out.retry_read = false;
  out.slot = kNoSlot;
  const command::CommandInfo* command = command::findCommand(args);
  out.command = command;
  if (command == nullptr) {
    out.kind = PlanKind::kError;
    out.error = unknownCommandError(args);
    return;
  }
  out.read_only = command->hasFlag(command::kFlagReadOnly);
  // Redis's order of checks: unknown subcommand, then arity.
  if (command->isContainer() && args.size() >= 2) {
    out.kind = PlanKind::kError;
    out.error = command::unknownSubcommandError(*command, args[1]);
    return;
  }
  if (!command::arityOk(*command, args.size())) {
    out.kind = PlanKind::kError;
    out.error = command::wrongArityError(*command);
    return;
  }
  out.well_formed = true;
  if (pool.config->redis_db != 0 && reachesOtherDatabases(*command)) {
    out.kind = PlanKind::kError;
    out.error = fmt::format(resp::kErrNotSupported, command->name, resp::kErrRefusalOtherDatabases);
    return;
  }
  switch (command->handling) {
    case command::Handling::kLocal:
      out.kind = PlanKind::kLocal;
      return;
    case command::Handling::kRefused:
      out.kind = PlanKind::kError;
      out.error = fmt::format(resp::kErrNotSupported, command->name, command->refusal);
      return;
    case command::Handling::kKeyless:
      planKeyless(pool, command->name, out);
      return;
    case command::Handling::kFanout:
    case command::Handling::kFanoutPrivate:
      planFanout(pool, args, out);
      return;
    case command::Handling::kForward:
      planKeyed(pool, args, out);
      if (out.kind == PlanKind::kForward && command::mayBlock(*command, args)) {
        out.kind = PlanKind::kBlocking;
        out.retry_read = false;
      }
      return;
    case command::Handling::kSplit:
      planKeyed(pool, args, out);
      return;
    case command::Handling::kBlocking:
      planKeyed(pool, args, out);
      if (out.kind == PlanKind::kForward) out.kind = PlanKind::kBlocking;
      out.retry_read = false;
      return;
    case command::Handling::kChannel:
      // As a key is placed, so that PUBLISH meets SUBSCRIBE (server/subscriptions.h).
      forwardTo(pool, pool.servers.size() == 1 ? 0 : pool.serverForKey(args[1]), out);
      return;
    case command::Handling::kSlot:
      planSlot(pool, args.back(), out);
      return;
    case command::Handling::kSubscribe:
      out.kind = PlanKind::kSubscribe;
      out.server = kAnyServer;
      return;
    case command::Handling::kTransaction:
      if (command->name == "watch") {
        planKeyed(pool, args, out);
        if (out.kind == PlanKind::kForward) out.kind = PlanKind::kTransaction;
      } else {
        out.kind = PlanKind::kTransaction;
        out.server = kAnyServer;
      }
      out.retry_read = false;
      return;
  }
}

void Router::planKeyless(const topology::PoolTopology& pool, std::string_view name, Plan& out) {
  out.keyless = true;
  if (pool.servers.size() == 1) {
    forwardTo(pool, 0, out);
    return;
  }
  out.kind = PlanKind::kError;
  out.error =
      fmt::format(resp::kErrKeylessInShardedPool, name, pool.config->name, pool.servers.size());
}

// Every shard's master; SCAN visits one shard per call, the one its cursor names (Redis checks
// the cursor before anything else, so an undecodable one gets Redis's error here). A shard
// out of the distribution (auto_eject_hosts) holds none of the keys for now: SCAN moves on
// past it, and past the last shard the iteration is over (Plan::server kAnyServer).
void Router::planFanout(const topology::PoolTopology& pool, std::span<const std::string_view> args,
                        Plan& out) {
  out.keyless = true;
  out.kind = PlanKind::kFanout;
  out.server = kAnyServer;
  out.scan_cursor = 0;
  if (out.command->merge != command::MergeRule::kScanCursor) return;
  const auto shard_count = static_cast<uint32_t>(pool.servers.size());
  std::optional<ScanPosition> position = decodeScanCursor(args[1], shard_count);
  if (!position) {
    out.kind = PlanKind::kError;
    out.error = std::string(resp::kErrInvalidCursor);
    return;
  }
  uint32_t shard = position->shard;
  uint64_t cursor = position->backend_cursor;
  if (hasLiveShard(pool)) {
    while (shard < shard_count && pool.servers[shard].ejected) {
      ++shard;
      cursor = 0;
    }
    if (shard == shard_count) return;  // kAnyServer: nothing left to visit
  }
  out.server = shard;
  out.scan_cursor = cursor;
}

void Router::planKeyed(const topology::PoolTopology& pool, std::span<const std::string_view> args,
                       Plan& out) {
  const command::CommandInfo& command = *out.command;
  if (!command::extractKeys(command, args, key_positions_)) {
    // An illegal numkeys (EVAL, SINTERCARD, ZMPOP ...): Redis refuses the call with its own
    // words before it runs anything, so any backend gives the client Redis's exact error.
    forwardTo(pool, 0, out);
    out.retry_read = false;
    return;
  }
  if (key_positions_.empty()) {
    if (command.hasFlag(command::kFlagNoMandatoryKeys)) {  // EVAL, FCALL ... with numkeys 0
      planKeyless(pool, command.name, out);
      return;
    }
    // A call that must name a key names none (SINTERCARD 0 ...): Redis refuses it.
    forwardTo(pool, 0, out);
    out.retry_read = false;
    return;
  }
  if (pool.config->cluster) {
    planClusterKeys(pool, args, out);
    return;
  }
  uint32_t first_server = pool.serverForKey(args[key_positions_[0]]);
  bool one_server = true;
  if (command.handling == command::Handling::kSplit) {
    out.keys.push_back(KeyRoute{key_positions_[0], first_server});
  }
  for (size_t i = 1; i < key_positions_.size(); ++i) {
    uint32_t server = pool.servers.size() == 1 ? 0 : pool.serverForKey(args[key_positions_[i]]);
    one_server = one_server && server == first_server;
    if (command.handling == command::Handling::kSplit) {
      out.keys.push_back(KeyRoute{key_positions_[i], server});
    } else if (!one_server) {
      break;
    }
  }
  if (one_server) {
    forwardTo(pool, first_server, out);
    out.keys.clear();
    return;
  }
  if (command.handling == command::Handling::kSplit) {
    out.kind = PlanKind::kSplit;
    return;
  }
  out.kind = PlanKind::kError;
  out.error = std::string(resp::kErrCrossShard);
}

void Router::planClusterKeys(const topology::PoolTopology& pool,
                             std::span<const std::string_view> args, Plan& out) {
  const bool split = out.command->handling == command::Handling::kSplit;
  const uint16_t first_slot = hash::clusterSlot(args[key_positions_[0]]);
  bool one_slot = true;
  if (split)
    out.keys.push_back(KeyRoute{key_positions_[0], pool.serverForSlot(first_slot), first_slot});
  for (size_t i = 1; i < key_positions_.size(); ++i) {
    const uint16_t slot = hash::clusterSlot(args[key_positions_[i]]);
    one_slot = one_slot && slot == first_slot;
    if (split) {
      out.keys.push_back(KeyRoute{key_positions_[i], pool.serverForSlot(slot), slot});
    } else if (!one_slot) {
      break;
    }
  }
  if (one_slot) {
    forwardTo(pool, pool.serverForSlot(first_slot), out);
    out.slot = first_slot;
    out.keys.clear();
    return;
  }
  if (split) {
    out.kind = PlanKind::kSplit;
    return;
  }
  out.kind = PlanKind::kError;
  out.error = std::string(resp::kErrCrossSlot);
}

// A kSlot command (CLUSTER COUNTKEYSINSLOT): the shard serving the slot answers; a pool that is
// not a cluster answers as a standalone Redis.
void Router::planSlot(const topology::PoolTopology& pool, std::string_view slot_text, Plan& out) {
  out.kind = PlanKind::kError;
  if (!pool.config->cluster) {
    out.error = std::string(resp::kErrClusterDisabled);
    return;
  }
  int64_t slot = -1;
  auto [end, error] = std::from_chars(slot_text.data(), slot_text.data() + slot_text.size(), slot);
  if (error != std::errc() || end != slot_text.data() + slot_text.size()) {
    out.error = std::string(resp::kErrNotInteger);
    return;
  }
  if (slot < 0 || slot >= topology::kClusterSlotCount) {
    out.error = std::string(resp::kErrInvalidSlot);
    return;
  }
  forwardTo(pool, pool.serverForSlot(static_cast<uint16_t>(slot)), out);
  out.slot = static_cast<int32_t>(slot);
}

void Router::forwardTo(const topology::PoolTopology& pool, uint32_t server, Plan& out) {
  out.kind = PlanKind::kForward;
  out.server = server;
  out.retry_read = out.read_only && pool.servers[server].is_group &&
                   pool.config->read_from != config::ReadFrom::kMaster;
}

}  // namespace sy::route
