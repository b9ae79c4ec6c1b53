#include <utility>

#include "hash/distribution.h"
#include "hash/key_tag.h"

namespace sy::hash {

KeyPlacer::KeyPlacer(HashFunction function, std::string hash_tag, Distribution distribution,
                     std::span<const RingMember> members)
    : function_(function),
      hash_tag_(std::move(hash_tag)),
      distributor_(Distributor::build(distribution, members)) {}

uint32_t KeyPlacer::hashForKey(std::string_view key) const {
  if (distributor_.memberCount() == 1) {
    return 0;
  }
  const std::string_view hashed = hashTagged(key, hash_tag_);
  return hashed.empty() ? 0 : hashBytes(function_, hashed);
}

uint32_t KeyPlacer::serverForKey(std::string_view key) const {
  if (distributor_.memberCount() == 1 || distributor_.distribution() == Distribution::kRandom) {
    return distributor_.serverFor(0);
  }
  return distributor_.serverFor(hashForKey(key));
}

}  // namespace sy::hash
