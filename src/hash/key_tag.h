// Which bytes of a key are hashed: twemproxy's hash_tag rule and Redis Cluster's hash slot
// (twemproxy-compat.md C1.2). Pure functions; safe on any thread; no allocation.
#pragma once

#include <cstdint>
#include <string_view>

namespace sy::hash {

inline constexpr uint16_t kClusterSlots = 16384;

// The bytes of `key` to hash, per twemproxy C1.2: with a two-char hash_tag "LR", the bytes
// between the first L and the first R after it when at least one byte lies between; else the
// whole key. An empty hash_tag means the whole key; so does a hash_tag of any size other than
// two (the config accepts only two). The result is a view into `key`, valid as long as `key`.
std::string_view hashTagged(std::string_view key, std::string_view hash_tag);

// Redis Cluster hash slot (CRC16-XMODEM of the {}-tagged part, & 16383), 0 .. kClusterSlots-1.
uint16_t clusterSlot(std::string_view key);

}  // namespace sy::hash
