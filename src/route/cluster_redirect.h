// What a Redis Cluster node answers instead of running a request, and what the proxy does
// about it, so that a client of a cluster pool never sees a redirection:
//
//   -MOVED <slot> <host:port>   the slot lives there now: send the request there, refresh
//                               the slot table
//   -ASK <slot> <host:port>     the slot is being migrated and this key may already be there:
//                               send ASKING then the request there, the table unchanged
//   -TRYAGAIN ...               a multi-key request during a migration: again after a short
//   -CLUSTERDOWN ...            pause (backoff), while the request is younger than the pool's
//                               failover_wait; CLUSTERDOWN also refreshes the table
//
// A request follows at most kMaxClusterHops MOVED and ASK; past that (a redirection loop) the
// client gets the last one.
// Pure functions; any thread.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/clock.h"

namespace sy::route {

inline constexpr uint8_t kMaxClusterHops = 5;

struct Redirection {
  enum class Kind { kMoved, kAsk, kTryAgain, kClusterDown };
  Kind kind = Kind::kMoved;
  uint16_t slot = 0;         // kMoved, kAsk
  std::string_view address;  // kMoved, kAsk: "host:port" as the node wrote it (into the reply)
};

// The redirection `framed` (one complete reply) asks for; nullopt for any other reply,
// including a MOVED or ASK whose slot is not 0..16383 or whose address has no port.
std::optional<Redirection> parseRedirection(std::string_view framed);

// parseRedirection() narrowed to MOVED and ASK, the redirections that name a node: what a
// request pinned to a connection of its own (a blocking command, a transaction's queued
// command) follows. nullopt for TRYAGAIN, CLUSTERDOWN and any other reply.
std::optional<Redirection> parseSlotMove(std::string_view framed);

// How long a request waits before its `retry`-th attempt (1-based) after TRYAGAIN or
// CLUSTERDOWN: 10, 20, 40, 80, then 160 ms.
common::Millis clusterRetryDelay(uint8_t retry);

}  // namespace sy::route
