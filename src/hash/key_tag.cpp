#include "hash/key_tag.h"

#include <cstddef>

#include "hash/hash_function.h"

namespace sy::hash {

std::string_view hashTagged(std::string_view key, std::string_view hash_tag) {
  if (hash_tag.size() != 2) {
    return key;
  }
  const size_t open = key.find(hash_tag[0]);
  if (open == std::string_view::npos) {
    return key;
  }
  const size_t close = key.find(hash_tag[1], open + 1);
  if (close == std::string_view::npos || close == open + 1) {
    return key;
  }
  return key.substr(open + 1, close - open - 1);
}

uint16_t clusterSlot(std::string_view key) {
  // The low 16 bits of twemproxy's unmasked crc16 are exactly CRC16-XMODEM.
  const uint32_t crc = hashBytes(HashFunction::kCrc16, hashTagged(key, "{}"));
  return static_cast<uint16_t>(crc & (kClusterSlots - 1));
}

}  // namespace sy::hash
