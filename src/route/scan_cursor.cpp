#include "route/scan_cursor.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <string>

namespace sy::route {

std::optional<ScanPosition> decodeScanCursor(std::string_view text, uint32_t shard_count) {
  // strtoul needs a terminated string; a cursor is short, and SCAN is not a hot path.
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0])) ||
      text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  std::string terminated(text);
  char* end = nullptr;
  errno = 0;
  unsigned long long value = std::strtoull(terminated.c_str(), &end, 10);
  if (errno == ERANGE || end != terminated.c_str() + terminated.size() ||
      end == terminated.c_str()) {
    return std::nullopt;
  }
  const uint64_t cursor = value;
  return ScanPosition{cursor / shard_count, static_cast<uint32_t>(cursor % shard_count)};
}

std::optional<uint64_t> encodeScanCursor(ScanPosition position, uint32_t shard_count) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  if (position.backend_cursor > (kMax - position.shard) / shard_count) return std::nullopt;
  return position.backend_cursor * shard_count + position.shard;
}

std::optional<uint64_t> nextScanCursor(uint32_t shard, uint64_t backend_next,
                                       uint32_t shard_count) {
  if (backend_next != 0) return encodeScanCursor({backend_next, shard}, shard_count);
  if (shard + 1 >= shard_count) return 0;
  return encodeScanCursor({0, shard + 1}, shard_count);
}

}  // namespace sy::route
