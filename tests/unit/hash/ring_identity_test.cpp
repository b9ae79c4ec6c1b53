#include "hash/ring_identity.h"

#include <gtest/gtest.h>

namespace sy::hash {
namespace {

TEST(RingIdentity, NameWins) {
  EXPECT_EQ(ringIdentity("server1", "127.0.0.1", 6379, false), "server1");
  EXPECT_EQ(ringIdentity("mymaster", "/tmp/redis.sock", 0, true), "mymaster");
  EXPECT_EQ(ringIdentity("cache", "127.0.0.1", 11211, false), "cache");
}

TEST(RingIdentity, HostAndPortWithoutWeight) {
  EXPECT_EQ(ringIdentity("", "127.0.0.1", 6380, false), "127.0.0.1:6380");
  EXPECT_EQ(ringIdentity("", "redis-a.example.com", 7000, false), "redis-a.example.com:7000");
  EXPECT_EQ(ringIdentity("", "localhost", 1, false), "localhost:1");
}

TEST(RingIdentity, LibmemcachedPortIsDropped) {
  EXPECT_EQ(ringIdentity("", "127.0.0.1", 11211, false), "127.0.0.1");
  EXPECT_EQ(ringIdentity("", "127.0.0.1", 11212, false), "127.0.0.1:11212");
}

TEST(RingIdentity, UnixSocketIsPathAndColon) {
  EXPECT_EQ(ringIdentity("", "/var/run/redis.sock", 0, true), "/var/run/redis.sock:");
  EXPECT_EQ(ringIdentity("", "/var/run/redis.sock", 11211, true), "/var/run/redis.sock:");
}

}  // namespace
}  // namespace sy::hash
