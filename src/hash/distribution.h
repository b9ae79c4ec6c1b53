// Key distribution over a pool's servers: ketama, modula, random (twemproxy-compat.md C3, C4).
//
//   key --hashTagged()--> hashed bytes --hashBytes()--> uint32 hash --Distributor--> server
//        (KeyPlacer: one live server -> no hashing; empty hashed bytes -> hash 0)
//
// A Distributor is rebuilt, never mutated: the control thread builds one per pool from the
// pool's live servers and publishes it inside an immutable topology snapshot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hash/hash_function.h"

namespace sy::hash {

enum class Distribution { kKetama, kModula, kRandom };

std::string_view distributionName(Distribution distribution);
std::optional<Distribution> parseDistribution(std::string_view name);

// One live server of a pool, as the distribution sees it.
struct RingMember {
  std::string identity;  // ringIdentity() of the server
  uint32_t weight;       // > 0
  // The caller's index for this server (its position in the pool's server list).
  uint32_t server_index;
};

// One point of a ketama continuum.
struct KetamaPoint {
  uint32_t value;
  uint32_t server_index;  // RingMember::server_index of the owner

  friend bool operator==(const KetamaPoint&, const KetamaPoint&) = default;
};

// Ketama points of a member: 4 x floor(w/total x 160/4 x n + 1e-10), evaluated in 32-bit float
// exactly as nutcracker does (so equal weights give 156 instead of 160 for some n).
uint32_t ketamaPointCount(uint32_t weight, uint64_t total_weight, size_t live_members);

// Orders members as nutcracker orders a pool's servers: while validating the config it sorts
// them by name (shorter first, then bytewise; nutcracker's string_compare) and keeps that
// order, so this, not the order of the `servers` lines, is the order modula and ketama use.
// Verified against nutcracker by the golden placement test.
bool ringOrderLess(const RingMember& a, const RingMember& b);

// An immutable map from a 32-bit key hash to a server, for one pool, built from the pool's LIVE
// servers (twemproxy rebuilds it when auto_eject_hosts ejects a server). The members may come
// in any order; build() puts them in ring order (ringOrderLess) itself.
// Safe to share between threads once built: every method is const and reads only immutable
// state (random draws from a thread_local generator). serverFor() never allocates.
//
//   ketama: 4 points per MD5 of "<identity>-<i>", sorted ascending by value; a hash maps to the
//           first point >= hash, wrapping to the first point. Points with equal values keep
//           ring order (nutcracker sorts with glibc qsort, a stable merge sort for arrays of
//           this size), so the member first in ring order wins a tie. The lookup starts from
//           a table indexed by the hash's top bits (about two buckets per point) that gives
//           the first point of each bucket: a short scan, not a binary search.
//   modula: each member `weight` times in ring order; hash mod total weight picks the slot.
//           Stored as cumulative weights (one entry per member, not per unit of weight).
//   random: a uniformly chosen member per call, ignoring the hash and the weights, as
//           nutcracker does.
class Distributor {
 public:
  // Precondition: members is not empty, every weight is > 0 and identities are unique (config
  // validation ensures it).
  static Distributor build(Distribution distribution, std::span<const RingMember> members);

  // RingMember::server_index of the server for `hash`.
  uint32_t serverFor(uint32_t hash) const;
  size_t memberCount() const { return member_indexes_.size(); }
  Distribution distribution() const { return distribution_; }
  // ketama only (empty otherwise): the continuum, sorted ascending by value.
  std::span<const KetamaPoint> points() const { return points_; }

 private:
  Distributor() = default;
  uint32_t ketamaServerFor(uint32_t hash) const;
  uint32_t modulaServerFor(uint32_t hash) const;
  uint32_t randomServer() const;

  void buildKetamaBuckets();

  Distribution distribution_ = Distribution::kKetama;
  std::vector<KetamaPoint> points_;
  // ketama: bucket b holds the hashes whose top bits are b; ketama_buckets_[b] is the index of
  // its first point (the first with value >= b << bucket_shift_), and the last entry is
  // points_.size().
  std::vector<uint32_t> ketama_buckets_;
  int bucket_shift_ = 32;
  // Members' server_index in ring order, and (modula) the running sum of their weights.
  std::vector<uint32_t> member_indexes_;
  std::vector<uint64_t> cumulative_weights_;
};

// Everything a pool needs to place keys: hash function, tag, distribution. Applies C1.1 (a pool
// with exactly one live server skips hashing) and C1.3 (an empty hashed key hashes to 0).
// Immutable after construction; safe to share between threads. serverForKey() never allocates.
class KeyPlacer {
 public:
  // Precondition: as Distributor::build(); hash_tag is empty or two bytes.
  KeyPlacer(HashFunction function, std::string hash_tag, Distribution distribution,
            std::span<const RingMember> members);

  // RingMember::server_index of the server that holds `key`.
  uint32_t serverForKey(std::string_view key) const;
  // The 32-bit hash nutcracker gives `key` in this pool: 0 for a one-server pool or an empty
  // hashed key, else the hash function over the hash-tagged bytes.
  uint32_t hashForKey(std::string_view key) const;

  HashFunction function() const { return function_; }
  std::string_view hashTag() const { return hash_tag_; }
  const Distributor& distributor() const { return distributor_; }

 private:
  HashFunction function_;
  std::string hash_tag_;
  Distributor distributor_;
};

}  // namespace sy::hash
