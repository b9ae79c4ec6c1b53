// auto_eject_hosts decisions and the snapshots they publish.
#include "topology/ejection.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "build_topology.h"
#include "config/config.h"
#include "topology/topology_diff.h"

namespace sy::topology {
namespace {

std::shared_ptr<const Topology> build(std::string_view yaml) { return buildFromYaml(yaml); }

const char* const kEjecting =
    "cache:\n"
    "  listen: 127.0.0.1:22121\n"
    "  auto_eject_hosts: true\n"
    "  server_failure_limit: 3\n"
    "  servers:\n"
    "    - 127.0.0.1:6379:1 a\n"
    "    - 127.0.0.1:6380:1 b\n"
    "    - 127.0.0.1:6381:1 c\n"
    "store:\n"
    "  listen: 127.0.0.1:22122\n"
    "  servers:\n"
    "    - 127.0.0.1:6382:1 x\n"
    "    - 127.0.0.1:6383:1 y\n";

TEST(EjectionTracker, EjectsAfterTheFailureLimitInARow) {
  auto base = build(kEjecting);
  EjectionTracker tracker;
  EXPECT_FALSE(tracker.recordFailure(*base, "cache", "b", 100));
  EXPECT_FALSE(tracker.recordFailure(*base, "cache", "b", 200));
  tracker.recordSuccess("cache", "b");  // a reply in between: the count starts again
  EXPECT_FALSE(tracker.recordFailure(*base, "cache", "b", 300));
  EXPECT_FALSE(tracker.recordFailure(*base, "cache", "b", 400));
  EXPECT_FALSE(tracker.isEjected("cache", "b"));
  EXPECT_TRUE(tracker.recordFailure(*base, "cache", "b", 500));
  EXPECT_TRUE(tracker.isEjected("cache", "b"));
  EXPECT_EQ(tracker.ejectedAt("cache", "b"), 500);
  EXPECT_EQ(tracker.ejects("cache"), 1u);
  EXPECT_FALSE(tracker.recordFailure(*base, "cache", "b", 600)) << "already ejected";
  EXPECT_EQ(tracker.ejects("cache"), 1u);

  tracker.readmit("cache", "b");
  EXPECT_FALSE(tracker.isEjected("cache", "b"));
  EXPECT_EQ(tracker.ejectedAt("cache", "b"), 500) << "the stats keep the last ejection";
  for (int i = 0; i < 2; ++i) EXPECT_FALSE(tracker.recordFailure(*base, "cache", "b", 700));
  EXPECT_TRUE(tracker.recordFailure(*base, "cache", "b", 800));
  EXPECT_EQ(tracker.ejects("cache"), 2u);
}

TEST(EjectionTracker, NeverEjectsWithoutAutoEjectHostsOrForUnknownNames) {
  auto base = build(kEjecting);
  EjectionTracker tracker;
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(tracker.recordFailure(*base, "store", "x", i));
    EXPECT_FALSE(tracker.recordFailure(*base, "cache", "nobody", i));
    EXPECT_FALSE(tracker.recordFailure(*base, "nopool", "a", i));
  }
  EXPECT_FALSE(tracker.isEjected("store", "x"));
  EXPECT_EQ(tracker.ejects("store"), 0u);
}

TEST(EjectionTracker, RetainForgetsWhatTheConfigNoLongerHas) {
  auto base = build(kEjecting);
  EjectionTracker tracker;
  for (int i = 0; i < 3; ++i) tracker.recordFailure(*base, "cache", "a", 1);
  for (int i = 0; i < 3; ++i) tracker.recordFailure(*base, "cache", "c", 1);
  ASSERT_TRUE(tracker.isEjected("cache", "a"));
  ASSERT_TRUE(tracker.isEjected("cache", "c"));
  auto reloaded = build(
      "cache:\n"
      "  listen: 127.0.0.1:22121\n"
      "  auto_eject_hosts: true\n"
      "  servers:\n"
      "    - 127.0.0.1:6379:1 a\n"
      "    - 127.0.0.1:6380:1 b\n");
  tracker.retain(*reloaded);
  EXPECT_TRUE(tracker.isEjected("cache", "a"));
  EXPECT_FALSE(tracker.isEjected("cache", "c"));
  auto off = build(
      "cache:\n"
      "  listen: 127.0.0.1:22121\n"
      "  servers:\n"
      "    - 127.0.0.1:6379:1 a\n");
  tracker.retain(*off);
  EXPECT_FALSE(tracker.isEjected("cache", "a"));
}

// The placer over the live servers is the one nutcracker builds over them: the same as a
// pool configured with those servers alone.
TEST(WithEjections, PlacesKeysAsAPoolOfTheLiveServers) {
  for (const char* distribution : {"ketama", "modula"}) {
    std::string yaml = std::string(kEjecting);
    // md5: fnv1a_64 of keys that differ in their last byte is always 0 modulo 3.
    yaml.insert(yaml.find("  servers:"),
                std::string("  hash: md5\n  distribution: ") + distribution + "\n");
    auto base = build(yaml);
    EjectionTracker tracker;
    for (int i = 0; i < 3; ++i) tracker.recordFailure(*base, "cache", "b", 42);
    auto ejected = withEjections(*base, tracker, base.get());
    const PoolTopology& pool = ejected->pools()[0];
    EXPECT_TRUE(pool.servers[1].ejected);
    EXPECT_EQ(pool.servers[1].ejected_at_usec, 42);
    EXPECT_EQ(pool.server_ejects, 1u);
    EXPECT_FALSE(pool.servers[0].ejected);
    std::string two = yaml;
    two.erase(two.find("    - 127.0.0.1:6380:1 b\n"),
              std::string("    - 127.0.0.1:6380:1 b\n").size());
    auto oracle = build(two);
    int moved = 0;
    for (int i = 0; i < 2000; ++i) {
      std::string key = "key:" + std::to_string(i);
      uint32_t got = pool.serverForKey(key);
      uint32_t want = oracle->pools()[0].serverForKey(key);  // indexes 0 (a) and 1 (c)
      ASSERT_EQ(got, want == 0 ? 0u : 2u) << distribution << " " << key;
      moved += base->pools()[0].serverForKey(key) == 1 ? 1 : 0;
    }
    EXPECT_GT(moved, 0) << distribution;
    // The pool without auto_eject_hosts is untouched; the base snapshot is not changed.
    EXPECT_EQ(ejected->pools()[1].server_ejects, 0u);
    EXPECT_FALSE(base->pools()[0].servers[1].ejected);

    tracker.readmit("cache", "b");
    auto back = withEjections(*base, tracker, ejected.get());
    for (int i = 0; i < 2000; ++i) {
      std::string key = "key:" + std::to_string(i);
      ASSERT_EQ(back->pools()[0].serverForKey(key), base->pools()[0].serverForKey(key));
    }
    EXPECT_EQ(back->pools()[0].servers[1].ejected_at_usec, 42);
  }
}

TEST(WithEjections, EveryServerEjectedKeepsTheLastRing) {
  auto base = build(kEjecting);
  EjectionTracker tracker;
  for (int i = 0; i < 3; ++i) tracker.recordFailure(*base, "cache", "a", 1);
  for (int i = 0; i < 3; ++i) tracker.recordFailure(*base, "cache", "b", 2);
  auto only_c = withEjections(*base, tracker, base.get());
  for (int i = 0; i < 3; ++i) tracker.recordFailure(*base, "cache", "c", 3);
  auto none = withEjections(*base, tracker, only_c.get());
  EXPECT_EQ(none->pools()[0].server_ejects, 3u);
  for (int i = 0; i < 200; ++i) {
    std::string key = "k" + std::to_string(i);
    EXPECT_EQ(none->pools()[0].serverForKey(key), 2u) << key;
  }
}

}  // namespace
}  // namespace sy::topology
