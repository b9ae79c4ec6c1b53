#include "hash/distribution.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "hash/ring_identity.h"

namespace sy::hash {
namespace {

std::vector<RingMember> namedServers(int count) {
  std::vector<RingMember> members;
  for (int i = 0; i < count; ++i) {
    members.push_back(RingMember{"server" + std::to_string(i + 1), 1, static_cast<uint32_t>(i)});
  }
  return members;
}

std::map<uint32_t, size_t> pointsPerServer(const Distributor& distributor) {
  std::map<uint32_t, size_t> counts;
  for (const KetamaPoint& point : distributor.points()) {
    ++counts[point.server_index];
  }
  return counts;
}

TEST(Distribution, NamesRoundTrip) {
  for (Distribution d : {Distribution::kKetama, Distribution::kModula, Distribution::kRandom}) {
    ASSERT_TRUE(parseDistribution(distributionName(d)).has_value());
    EXPECT_EQ(*parseDistribution(distributionName(d)), d);
  }
  EXPECT_EQ(distributionName(Distribution::kKetama), "ketama");
  EXPECT_FALSE(parseDistribution("consistent").has_value());
}

// twemproxy-compat.md C5: the ring of server1..server4, weight 1.
TEST(Ketama, CompatRingOfFourNamedServers) {
  const auto members = namedServers(4);
  const Distributor ring = Distributor::build(Distribution::kKetama, members);
  ASSERT_EQ(ring.points().size(), 640u);
  EXPECT_TRUE(
      std::is_sorted(ring.points().begin(), ring.points().end(),
                     [](const KetamaPoint& a, const KetamaPoint& b) { return a.value < b.value; }));
  EXPECT_EQ(ring.points()[0], (KetamaPoint{9796559, 2}));
  EXPECT_EQ(ring.points()[1], (KetamaPoint{10686546, 1}));
  EXPECT_EQ(ring.points()[2], (KetamaPoint{26495822, 0}));
  for (const auto& [server, count] : pointsPerServer(ring)) {
    EXPECT_EQ(count, 160u) << server;
  }

  const KeyPlacer placer(HashFunction::kFnv1a_64, "", Distribution::kKetama, members);
  EXPECT_EQ(placer.serverForKey("foo"), 0u);
  EXPECT_EQ(placer.serverForKey("bar"), 3u);
  EXPECT_EQ(placer.serverForKey("user:1000"), 0u);
  EXPECT_EQ(placer.serverForKey("hello world!"), 0u);
}

TEST(Ketama, CompatRingOfUnnamedServers) {
  std::vector<RingMember> members;
  for (uint16_t port = 6380; port <= 6383; ++port) {
    members.push_back(RingMember{ringIdentity("", "127.0.0.1", port, false), 1, port});
  }
  const KeyPlacer placer(HashFunction::kFnv1a_64, "", Distribution::kKetama, members);
  EXPECT_EQ(placer.serverForKey("foo"), 6381u);
  EXPECT_EQ(placer.serverForKey("bar"), 6382u);
  EXPECT_EQ(placer.serverForKey("user:1000"), 6382u);
}

TEST(Ketama, LookupIsFirstPointAtOrAboveHashWithWrap) {
  const Distributor ring = Distributor::build(Distribution::kKetama, namedServers(4));
  const auto points = ring.points();
  EXPECT_EQ(ring.serverFor(0), points.front().server_index);
  EXPECT_EQ(ring.serverFor(points.front().value), points.front().server_index);
  for (size_t i = 1; i < points.size(); i += 37) {
    EXPECT_EQ(ring.serverFor(points[i].value), points[i].server_index);
    if (points[i - 1].value + 1 < points[i].value) {
      EXPECT_EQ(ring.serverFor(points[i - 1].value + 1), points[i].server_index);
    }
  }
  EXPECT_EQ(ring.serverFor(points.back().value), points.back().server_index);
  ASSERT_LT(points.back().value, UINT32_MAX);
  EXPECT_EQ(ring.serverFor(points.back().value + 1), points.front().server_index);
  EXPECT_EQ(ring.serverFor(UINT32_MAX), points.front().server_index);
}

// serverFor() agrees with std::lower_bound plus wrap for rings of every size from 1 point up.
TEST(Ketama, LookupAgreesWithLowerBound) {
  for (int servers : {1, 2, 3, 5, 16, 100}) {
    const Distributor ring = Distributor::build(Distribution::kKetama, namedServers(servers));
    const auto points = ring.points();
    uint32_t hash = 12345;
    for (int i = 0; i < 20000; ++i) {
      hash = hash * 1664525u + 1013904223u;
      const uint32_t probe = (i % 3 == 0) ? points[hash % points.size()].value - (i % 2) : hash;
      auto it = std::lower_bound(
          points.begin(), points.end(), probe,
          [](const KetamaPoint& point, uint32_t value) { return point.value < value; });
      const uint32_t expected = it == points.end() ? points.front().server_index : it->server_index;
      ASSERT_EQ(ring.serverFor(probe), expected) << servers << " servers, hash " << probe;
    }
  }
}

// The lookup's buckets split the hash space at multiples of 2^16 or coarser: every such edge,
// and the hash just below it, agrees with std::lower_bound plus wrap, for small rings (few
// points per bucket) up to rings with more points than buckets.
TEST(Ketama, LookupAgreesWithLowerBoundAtEveryBucketEdge) {
  for (int servers : {1, 2, 7, 100, 1000}) {
    const Distributor ring = Distributor::build(Distribution::kKetama, namedServers(servers));
    const auto points = ring.points();
    for (uint64_t edge = 0; edge <= (uint64_t{1} << 32); edge += uint64_t{1} << 16) {
      for (uint64_t probe64 : {edge, edge - 1}) {
        if (probe64 > UINT32_MAX) continue;
        const auto probe = static_cast<uint32_t>(probe64);
        auto it = std::lower_bound(
            points.begin(), points.end(), probe,
            [](const KetamaPoint& point, uint32_t value) { return point.value < value; });
        const uint32_t expected =
            it == points.end() ? points.front().server_index : it->server_index;
        ASSERT_EQ(ring.serverFor(probe), expected) << servers << " servers, hash " << probe;
      }
    }
  }
}

TEST(Ketama, PointCountsFollowWeights) {
  EXPECT_EQ(ketamaPointCount(1, 3, 2), 104u);
  EXPECT_EQ(ketamaPointCount(2, 3, 2), 212u);
  EXPECT_EQ(ketamaPointCount(1, 4, 3), 120u);
  EXPECT_EQ(ketamaPointCount(2, 4, 3), 240u);

  const std::vector<RingMember> members = {{"a", 1, 0}, {"b", 2, 1}};
  const Distributor ring = Distributor::build(Distribution::kKetama, members);
  EXPECT_EQ(ring.points().size(), 316u);
  EXPECT_EQ(pointsPerServer(ring)[0], 104u);
  EXPECT_EQ(pointsPerServer(ring)[1], 212u);

  const std::vector<RingMember> three = {{"a", 1, 0}, {"b", 1, 1}, {"c", 2, 2}};
  const auto counts = pointsPerServer(Distributor::build(Distribution::kKetama, three));
  EXPECT_EQ(counts.at(0), 120u);
  EXPECT_EQ(counts.at(1), 120u);
  EXPECT_EQ(counts.at(2), 240u);
}

// Float rounding gives 156 points instead of 160 to equal-weight servers for these n <= 200.
TEST(Ketama, FloatRoundingGives156ForSomeServerCounts) {
  const std::set<size_t> expected = {25,  47,  50,  55,  61,  71,  94,  100, 107, 109,
                                     110, 115, 122, 142, 159, 163, 188, 193, 200};
  std::set<size_t> found;
  for (size_t n = 1; n <= 200; ++n) {
    const uint32_t count = ketamaPointCount(1, n, n);
    EXPECT_TRUE(count == 160 || count == 156) << n << ": " << count;
    if (count == 156) {
      found.insert(n);
    }
  }
  EXPECT_EQ(found, expected);

  const Distributor ring = Distributor::build(Distribution::kKetama, namedServers(25));
  EXPECT_EQ(ring.points().size(), 25u * 156u);
}

// A server can own no point at all when its weight is tiny next to the others.
TEST(Ketama, TinyWeightGetsNoPoints) {
  EXPECT_EQ(ketamaPointCount(1, 1001, 2), 0u);
  const std::vector<RingMember> members = {{"big", 1000, 0}, {"tiny", 1, 1}};
  const auto counts = pointsPerServer(Distributor::build(Distribution::kKetama, members));
  EXPECT_EQ(counts.count(1), 0u);
}

TEST(Ketama, InputOrderDoesNotMatter) {
  auto members = namedServers(7);
  const Distributor forward = Distributor::build(Distribution::kKetama, members);
  std::reverse(members.begin(), members.end());
  const Distributor reversed = Distributor::build(Distribution::kKetama, members);
  EXPECT_TRUE(std::equal(forward.points().begin(), forward.points().end(),
                         reversed.points().begin(), reversed.points().end()));
}

// Equal point values keep ring order: the member first in ring order wins every tie. (Equal
// identities never occur in a valid config; they are the easy way to make every point tie.)
TEST(Ketama, TiesGoToTheFirstMemberInRingOrder) {
  const std::vector<RingMember> members = {{"same", 1, 7}, {"same", 1, 3}};
  const Distributor ring = Distributor::build(Distribution::kKetama, members);
  ASSERT_EQ(ring.points().size(), 320u);
  for (size_t i = 0; i < ring.points().size(); i += 2) {
    EXPECT_EQ(ring.points()[i].server_index, 7u);
    EXPECT_EQ(ring.points()[i + 1].server_index, 3u);
  }
  for (uint32_t hash : {0u, 1u << 20, 1u << 31, UINT32_MAX}) {
    EXPECT_EQ(ring.serverFor(hash), 7u);
  }
}

TEST(RingOrder, ShorterIdentityFirstThenBytewise) {
  const RingMember a{"b", 1, 0}, b{"aa", 1, 1}, c{"ab", 1, 2}, d{"\x80", 1, 3};
  EXPECT_TRUE(ringOrderLess(a, b));
  EXPECT_TRUE(ringOrderLess(b, c));
  EXPECT_TRUE(ringOrderLess(a, d));  // bytes compare unsigned
  EXPECT_FALSE(ringOrderLess(b, b));
}

TEST(Modula, WeightedSlotsInRingOrder) {
  const std::vector<RingMember> members = {{"c", 3, 30}, {"a", 1, 10}, {"b", 2, 20}};
  const Distributor modula = Distributor::build(Distribution::kModula, members);
  EXPECT_TRUE(modula.points().empty());
  const uint32_t expected[6] = {10, 20, 20, 30, 30, 30};
  for (uint32_t hash = 0; hash < 60; ++hash) {
    EXPECT_EQ(modula.serverFor(hash), expected[hash % 6]) << hash;
  }
  EXPECT_EQ(modula.serverFor(UINT32_MAX), expected[UINT32_MAX % 6]);
}

TEST(Modula, LargePrimeWeights) {
  const std::vector<RingMember> members = {{"p1", 7919, 0}, {"p2", 7907, 1}};
  const Distributor modula = Distributor::build(Distribution::kModula, members);
  EXPECT_EQ(modula.serverFor(0), 0u);
  EXPECT_EQ(modula.serverFor(7918), 0u);
  EXPECT_EQ(modula.serverFor(7919), 1u);
  EXPECT_EQ(modula.serverFor(15825), 1u);
  EXPECT_EQ(modula.serverFor(15826), 0u);
  EXPECT_EQ(modula.serverFor(15826u * 1000u + 7919u), 1u);
}

TEST(Random, EveryDrawIsALiveMemberAndAllAppear) {
  const std::vector<RingMember> members = {{"a", 1, 4}, {"b", 100, 9}, {"c", 1, 2}};
  const Distributor random = Distributor::build(Distribution::kRandom, members);
  std::map<uint32_t, int> seen;
  for (int i = 0; i < 3000; ++i) {
    ++seen[random.serverFor(0)];
  }
  ASSERT_EQ(seen.size(), 3u);
  for (const auto& [server, count] : seen) {
    EXPECT_TRUE(server == 4 || server == 9 || server == 2) << server;
    EXPECT_GT(count, 700) << server;  // weights are ignored: about 1000 each
  }
}

TEST(KeyPlacer, OneServerSkipsHashing) {
  const std::vector<RingMember> members = {{"only", 5, 42}};
  for (Distribution d : {Distribution::kKetama, Distribution::kModula, Distribution::kRandom}) {
    const KeyPlacer placer(HashFunction::kMd5, "{}", d, members);
    for (std::string_view key : {"", "foo", "{x}y", "\xff"}) {
      EXPECT_EQ(placer.serverForKey(key), 42u);
      EXPECT_EQ(placer.hashForKey(key), 0u);
    }
  }
}

TEST(KeyPlacer, EmptyKeyHashesToZero) {
  const auto members = namedServers(4);
  const KeyPlacer placer(HashFunction::kFnv1a_64, "", Distribution::kKetama, members);
  EXPECT_EQ(placer.hashForKey(""), 0u);
  EXPECT_EQ(placer.serverForKey(""), placer.distributor().serverFor(0));
  EXPECT_EQ(placer.serverForKey(""), 2u);  // server3 owns the lowest point
  const KeyPlacer modula(HashFunction::kFnv1a_64, "", Distribution::kModula, members);
  EXPECT_EQ(modula.serverForKey(""), 0u);
}

TEST(KeyPlacer, HashTagSelectsBytes) {
  const auto members = namedServers(4);
  const KeyPlacer placer(HashFunction::kMurmur, "{}", Distribution::kKetama, members);
  EXPECT_EQ(placer.hashTag(), "{}");
  EXPECT_EQ(placer.hashForKey("{user1000}.following"),
            hashBytes(HashFunction::kMurmur, "user1000"));
  EXPECT_EQ(placer.serverForKey("{user1000}.following"), placer.serverForKey("user1000"));
  EXPECT_EQ(placer.hashForKey("{}"), hashBytes(HashFunction::kMurmur, "{}"));
  const KeyPlacer untagged(HashFunction::kMurmur, "", Distribution::kKetama, members);
  EXPECT_EQ(untagged.hashForKey("{user1000}.following"),
            hashBytes(HashFunction::kMurmur, "{user1000}.following"));
}

}  // namespace
}  // namespace sy::hash
