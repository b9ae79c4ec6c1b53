// Read policy: which node of a replication group serves a read, by the pool's read_from.
//
//   master          the master
//   prefer_master   the master while it is readable and reachable, else the least loaded
//                   replica; none: the master
//   replica         the least loaded replica; none: no node (the caller answers an error)
//   prefer_replica  the least loaded replica; none: the master
//   nearest         the lowest measured round trip among the usable master and replicas
//                   (an unknown round trip ranks last); none: the master
//
// "Usable" means the node's connection is not backing off after a failure (and, for the
// master, that the snapshot lets it serve reads). "Least loaded" counts the requests in flight
// on the connection the session would use; ties go to the first candidate from a rotating
// start, so an idle group spreads sequential reads over every replica.
//
// Thread-neutral: a pure function; the rotation counter belongs to the caller (one per worker).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "config/config.h"

namespace sy::route {

// One node as the read policy sees it.
struct ReadCandidate {
  bool usable = false;
  size_t in_flight = 0;
  int64_t rtt_usec = -1;  // -1: not measured yet
};

struct ReadChoice {
  enum class Kind { kMaster, kReplica, kNone };
  Kind kind = Kind::kMaster;
  size_t replica = 0;  // kReplica: the index into the candidates
};

// `master.usable` is false when the master cannot serve reads now. `rotation` is advanced each
// time replicas are compared by load.
ReadChoice chooseReadNode(config::ReadFrom read_from, const ReadCandidate& master,
                          std::span<const ReadCandidate> replicas, size_t& rotation);

}  // namespace sy::route
