// The proxy's SCAN cursor over a sharded pool: one cursor that walks every shard in turn.
//
//   proxy cursor = backend_cursor * shard_count + shard
//
//   SCAN 0 -> shard 0, backend cursor 0 ... backend answers 0 -> shard 1, backend cursor 0
//   ... the last shard's backend answers 0 -> the proxy answers 0 (the iteration is over).
//
// With one shard the proxy cursor is the backend's cursor, unchanged. A cursor is only
// meaningful against the pool layout that produced it: a reload that changes the number of
// shards restarts nothing but makes old cursors visit the wrong shards' positions (as a
// resharded Redis Cluster does, the guarantees of SCAN then weaken to "no crash, no error").
//
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sy::route {

struct ScanPosition {
  uint64_t backend_cursor = 0;
  uint32_t shard = 0;
};

// Parses a client's cursor as Redis does (an unsigned decimal that fills the whole argument,
// strtoul's leading sign accepted, no leading space, no overflow) and splits it. nullopt:
// Redis's "ERR invalid cursor". Precondition: shard_count > 0.
std::optional<ScanPosition> decodeScanCursor(std::string_view text, uint32_t shard_count);

// The proxy cursor of `position`; nullopt when it does not fit 64 bits (a backend cursor
// beyond UINT64_MAX / shard_count), which the caller answers with an error.
// Preconditions: shard_count > 0, position.shard < shard_count.
std::optional<uint64_t> encodeScanCursor(ScanPosition position, uint32_t shard_count);

// The proxy cursor that follows a page: shard `shard` answered `backend_next`. A backend's 0
// moves on to the next shard's start; after the last shard, 0 ends the iteration. nullopt as
// for encodeScanCursor().
std::optional<uint64_t> nextScanCursor(uint32_t shard, uint64_t backend_next, uint32_t shard_count);

}  // namespace sy::route
