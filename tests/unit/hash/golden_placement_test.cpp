// Key placements recorded from nutcracker 0.5.0 itself (tools/nutcracker_golden.py): every hash
// function with ketama and modula over several server lists, hash tags, unix sockets, port
// 11211 and rings of 25 and 50 servers. KeyPlacer must put every key on the same server.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "hash/distribution.h"
#include "hash/ring_identity.h"

namespace sy::hash {
namespace {

struct GoldenServer {
  std::string identity;  // as nutcracker's stats JSON names it
  uint32_t weight = 0;
  std::string host;  // or socket path
  uint16_t port = 0;
  std::string name;     // empty when the line has none
  std::string backend;  // the redis-server behind it
  size_t position = 0;  // its place in nutcracker's server array
};

struct GoldenPlacement {
  std::string key;
  std::string backend;
};

struct GoldenPool {
  std::string id;
  HashFunction function = HashFunction::kFnv1a_64;
  Distribution distribution = Distribution::kKetama;
  std::string hash_tag;
  std::vector<GoldenServer> servers;  // config order
  std::vector<GoldenPlacement> placements;
};

std::string unhex(const std::string& hex) {
  if (hex == "-") {
    return "";
  }
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

GoldenPool* findPool(std::vector<GoldenPool>& pools, const std::string& id) {
  for (GoldenPool& pool : pools) {
    if (pool.id == id) {
      return &pool;
    }
  }
  return nullptr;
}

std::vector<GoldenPool> loadGolden() {
  std::ifstream in(SY_HASH_GOLDEN_PLACEMENT);
  EXPECT_TRUE(in.good()) << "cannot open " << SY_HASH_GOLDEN_PLACEMENT;
  std::vector<GoldenPool> pools;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    std::istringstream fields(line);
    std::string first, id;
    fields >> first;
    if (first == "pool") {
      GoldenPool pool;
      std::string function, distribution, tag;
      fields >> pool.id >> function >> distribution >> tag;
      pool.function = parseHashFunction(function).value();
      pool.distribution = parseDistribution(distribution).value();
      pool.hash_tag = tag == "-" ? "" : tag;
      pools.push_back(std::move(pool));
    } else if (first == "server") {
      GoldenServer server;
      uint32_t port = 0;
      fields >> id >> server.identity >> server.weight >> server.host >> port >> server.name >>
          server.backend >> server.position;
      server.port = static_cast<uint16_t>(port);
      server.name = server.name == "-" ? "" : server.name;
      findPool(pools, id)->servers.push_back(std::move(server));
    } else {
      std::string distribution, key_hex, backend;
      fields >> distribution >> id >> key_hex >> backend;
      GoldenPool* pool = findPool(pools, id);
      EXPECT_NE(pool, nullptr) << line;
      EXPECT_EQ(hashFunctionName(pool->function), first) << line;
      findPool(pools, id)->placements.push_back({unhex(key_hex), backend});
    }
  }
  return pools;
}

const std::vector<GoldenPool>& golden() {
  static const std::vector<GoldenPool> pools = loadGolden();
  return pools;
}

std::vector<RingMember> membersInConfigOrder(const GoldenPool& pool) {
  std::vector<RingMember> members;
  for (size_t i = 0; i < pool.servers.size(); ++i) {
    const GoldenServer& s = pool.servers[i];
    const bool is_unix = s.port == 0 && !s.host.empty() && s.host[0] == '/';
    members.push_back(
        {ringIdentity(s.name, s.host, s.port, is_unix), s.weight, static_cast<uint32_t>(i)});
  }
  return members;
}

TEST(GoldenPlacement, CoversEveryFunctionAndDistribution) {
  std::set<std::pair<HashFunction, Distribution>> covered;
  size_t placements = 0;
  for (const GoldenPool& pool : golden()) {
    covered.insert({pool.function, pool.distribution});
    EXPECT_GE(pool.placements.size(), 200u) << pool.id;
    placements += pool.placements.size();
  }
  EXPECT_EQ(covered.size(), 2 * std::size(kAllHashFunctions));
  EXPECT_GE(placements, 12000u);
}

// ringIdentity() reproduces the names nutcracker gives named, host:port, port-11211 and
// unix-socket servers.
TEST(GoldenPlacement, RingIdentityMatchesNutcracker) {
  std::set<std::string> kinds;
  for (const GoldenPool& pool : golden()) {
    const std::vector<RingMember> members = membersInConfigOrder(pool);
    for (size_t i = 0; i < members.size(); ++i) {
      EXPECT_EQ(members[i].identity, pool.servers[i].identity) << pool.id;
      const GoldenServer& s = pool.servers[i];
      kinds.insert(!s.name.empty()   ? "named"
                   : s.port == 0     ? "unix"
                   : s.port == 11211 ? "11211"
                                     : "tcp");
    }
  }
  EXPECT_GE(kinds.size(), 3u);  // "11211" only when that port was free when recording
}

// nutcracker's server array is sorted by identity, which ringOrderLess reproduces; several
// pools list their servers in another order, so the modula placements below depend on it.
TEST(GoldenPlacement, RingOrderMatchesNutcracker) {
  size_t reordered_pools = 0;
  for (const GoldenPool& pool : golden()) {
    std::vector<RingMember> members = membersInConfigOrder(pool);
    std::stable_sort(members.begin(), members.end(), ringOrderLess);
    bool reordered = false;
    for (size_t position = 0; position < members.size(); ++position) {
      EXPECT_EQ(pool.servers[members[position].server_index].position, position) << pool.id;
      reordered |= members[position].server_index != position;
    }
    reordered_pools += (reordered && pool.distribution == Distribution::kModula) ? 1 : 0;
  }
  EXPECT_GE(reordered_pools, 12u);
}

TEST(GoldenPlacement, EveryKeyOnNutcrackersServer) {
  size_t checked = 0;
  for (const GoldenPool& pool : golden()) {
    const std::vector<RingMember> members = membersInConfigOrder(pool);
    const KeyPlacer placer(pool.function, pool.hash_tag, pool.distribution, members);
    size_t failures = 0;
    for (const GoldenPlacement& placement : pool.placements) {
      const uint32_t index = placer.serverForKey(placement.key);
      ASSERT_LT(index, pool.servers.size());
      if (pool.servers[index].backend != placement.backend && ++failures <= 3) {
        std::string hex;
        for (unsigned char c : placement.key.substr(0, 16)) {
          hex += "0123456789abcdef"[c >> 4];
          hex += "0123456789abcdef"[c & 15];
        }
        ADD_FAILURE() << pool.id << " " << hashFunctionName(pool.function) << " "
                      << distributionName(pool.distribution) << " key " << hex << " (length "
                      << placement.key.size() << "): nutcracker " << placement.backend
                      << ", KeyPlacer " << pool.servers[index].backend;
      }
      ++checked;
    }
    EXPECT_EQ(failures, 0u) << pool.id;
  }
  EXPECT_GE(checked, 12000u);
}

}  // namespace
}  // namespace sy::hash
