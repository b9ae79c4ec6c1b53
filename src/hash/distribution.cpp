#include "hash/distribution.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>

#include "common/check.h"
#include "hash/md5.h"

namespace sy::hash {
namespace {

constexpr float kKetamaPointsPerServer = 160;
constexpr uint32_t kKetamaPointsPerHash = 4;

struct NamedDistribution {
  Distribution distribution;
  std::string_view name;
};

constexpr NamedDistribution kNames[] = {
    {Distribution::kKetama, "ketama"},
    {Distribution::kModula, "modula"},
    {Distribution::kRandom, "random"},
};

uint64_t totalWeight(std::span<const RingMember> members) {
  uint64_t total = 0;
  for (const RingMember& member : members) {
    total += member.weight;
  }
  return total;
}

// Appends the member's points: MD5 of "<identity>-<i>" gives four little-endian values.
void appendKetamaPoints(const RingMember& member, uint32_t count, std::vector<KetamaPoint>& out) {
  std::string label;
  for (uint32_t i = 0; i < count / kKetamaPointsPerHash; ++i) {
    label.assign(member.identity);
    label += '-';
    label += std::to_string(i);
    const Md5Digest digest = md5Digest(label);
    for (uint32_t x = 0; x < kKetamaPointsPerHash; ++x) {
      const uint8_t* p = digest.data() + 4 * x;
      const uint32_t value =
          uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
      out.push_back(KetamaPoint{value, member.server_index});
    }
  }
}

// splitmix64 over a per-thread state seeded from the clock and the state's own address.
uint64_t nextRandom() {
  thread_local uint64_t state = 0;
  if (state == 0) {
    const auto now =
        static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    state = now ^ reinterpret_cast<uintptr_t>(&state) ^ 1;
  }
  state += 0x9e3779b97f4a7c15ull;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

std::string_view distributionName(Distribution distribution) {
  for (const NamedDistribution& entry : kNames) {
    if (entry.distribution == distribution) {
      return entry.name;
    }
  }
  return "unknown";
}

std::optional<Distribution> parseDistribution(std::string_view name) {
  for (const NamedDistribution& entry : kNames) {
    if (entry.name == name) {
      return entry.distribution;
    }
  }
  return std::nullopt;
}

uint32_t ketamaPointCount(uint32_t weight, uint64_t total_weight, size_t live_members) {
  // nutcracker: (uint32_t)(floorf((float)(pct * 160 / 4 * (float)n + 0.0000000001)) * 4) with
  // float pct. Each step is kept in float (the 1e-10 is added in double) so that the rounding,
  // and with it the 156-point cases, match.
  const float pct = static_cast<float>(weight) / static_cast<float>(total_weight);
  const float scaled = pct * kKetamaPointsPerServer / 4.0f * static_cast<float>(live_members);
  const auto nudged = static_cast<float>(static_cast<double>(scaled) + 0.0000000001);
  return static_cast<uint32_t>(std::floor(nudged) * 4.0f);
}

bool ringOrderLess(const RingMember& a, const RingMember& b) {
  if (a.identity.size() != b.identity.size()) {
    return a.identity.size() < b.identity.size();
  }
  return a.identity < b.identity;
}

Distributor Distributor::build(Distribution distribution, std::span<const RingMember> members) {
  SY_ASSERT(!members.empty());
  std::vector<const RingMember*> ordered;
  ordered.reserve(members.size());
  for (const RingMember& member : members) {
    SY_ASSERT(member.weight > 0);
    ordered.push_back(&member);
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const RingMember* a, const RingMember* b) { return ringOrderLess(*a, *b); });

  Distributor result;
  result.distribution_ = distribution;
  result.member_indexes_.reserve(members.size());
  for (const RingMember* member : ordered) {
    result.member_indexes_.push_back(member->server_index);
  }
  const uint64_t total = totalWeight(members);
  switch (distribution) {
    case Distribution::kKetama:
      result.points_.reserve(static_cast<size_t>(kKetamaPointsPerServer) * members.size());
      for (const RingMember* member : ordered) {
        appendKetamaPoints(*member, ketamaPointCount(member->weight, total, members.size()),
                           result.points_);
      }
      std::stable_sort(
          result.points_.begin(), result.points_.end(),
          [](const KetamaPoint& a, const KetamaPoint& b) { return a.value < b.value; });
      result.buildKetamaBuckets();
      break;
    case Distribution::kModula: {
      uint64_t sum = 0;
      result.cumulative_weights_.reserve(members.size());
      for (const RingMember* member : ordered) {
        sum += member->weight;
        result.cumulative_weights_.push_back(sum);
      }
      break;
    }
    case Distribution::kRandom:
      break;
  }
  return result;
}

uint32_t Distributor::serverFor(uint32_t hash) const {
  switch (distribution_) {
    case Distribution::kKetama:
      return ketamaServerFor(hash);
    case Distribution::kModula:
      return modulaServerFor(hash);
    case Distribution::kRandom:
      return randomServer();
  }
  return member_indexes_.front();
}

void Distributor::buildKetamaBuckets() {
  SY_ASSERT(!points_.empty() && points_.size() < UINT32_MAX);
  // About two buckets per point, between 2^1 and 2^16 buckets.
  int bits = 1;
  while (bits < 16 && (size_t{1} << bits) < 2 * points_.size()) ++bits;
  bucket_shift_ = 32 - bits;
  const size_t buckets = size_t{1} << bits;
  ketama_buckets_.resize(buckets + 1);
  size_t point = 0;
  for (size_t bucket = 0; bucket < buckets; ++bucket) {
    const uint64_t first_hash = static_cast<uint64_t>(bucket) << bucket_shift_;
    while (point < points_.size() && points_[point].value < first_hash) ++point;
    ketama_buckets_[bucket] = static_cast<uint32_t>(point);
  }
  ketama_buckets_[buckets] = static_cast<uint32_t>(points_.size());
}

uint32_t Distributor::ketamaServerFor(uint32_t hash) const {
  // The first point >= hash lies in hash's bucket or is the first point of a later one:
  // every point before the bucket is below the bucket's first hash, every point from the
  // next bucket on is above hash.
  const uint32_t bucket = hash >> bucket_shift_;
  uint32_t index = ketama_buckets_[bucket];
  const uint32_t end = ketama_buckets_[bucket + 1];
  while (index < end && points_[index].value < hash) ++index;
  if (index == points_.size()) index = 0;  // past the last point: wrap to the first
  return points_[index].server_index;
}

uint32_t Distributor::modulaServerFor(uint32_t hash) const {
  // Slot `hash % total` of the list where member k fills `weight_k` consecutive slots.
  const uint64_t slot = hash % cumulative_weights_.back();
  const auto it = std::upper_bound(cumulative_weights_.begin(), cumulative_weights_.end(), slot);
  return member_indexes_[static_cast<size_t>(it - cumulative_weights_.begin())];
}

uint32_t Distributor::randomServer() const {
  const uint64_t draw = nextRandom() >> 32;
  const uint64_t n = member_indexes_.size();
  return member_indexes_[static_cast<size_t>((draw * n) >> 32)];
}

}  // namespace sy::hash
