#include "hash/key_tag.h"

#include <gtest/gtest.h>

#include <string>

#include "hash/hash_function.h"

namespace sy::hash {
namespace {

TEST(HashTagged, NoTagMeansWholeKey) {
  EXPECT_EQ(hashTagged("{user}.a", ""), "{user}.a");
  EXPECT_EQ(hashTagged("{user}.a", "{"), "{user}.a");
  EXPECT_EQ(hashTagged("{user}.a", "{}x"), "{user}.a");
}

TEST(HashTagged, BracesRule) {
  EXPECT_EQ(hashTagged("{user1000}.following", "{}"), "user1000");
  EXPECT_EQ(hashTagged("a{b}c", "{}"), "b");
  EXPECT_EQ(hashTagged("pre{x}post{y}", "{}"), "x");  // first tag only
  EXPECT_EQ(hashTagged("{{a}}", "{}"), "{a");         // first L, first R after it
  EXPECT_EQ(hashTagged("}x{y}", "{}"), "y");          // an R before the L is ignored
  EXPECT_EQ(hashTagged("a}b{c}", "{}"), "c");
  EXPECT_EQ(hashTagged("{}", "{}"), "{}");          // nothing between: whole key
  EXPECT_EQ(hashTagged("{}x{y}", "{}"), "{}x{y}");  // first L decides, even if empty
  EXPECT_EQ(hashTagged("x{", "{}"), "x{");
  EXPECT_EQ(hashTagged("a{b", "{}"), "a{b");
  EXPECT_EQ(hashTagged("a}b", "{}"), "a}b");
  EXPECT_EQ(hashTagged("", "{}"), "");
}

TEST(HashTagged, SameCharacterBothSides) {
  EXPECT_EQ(hashTagged("$a$", "$$"), "a");
  EXPECT_EQ(hashTagged("$ab$cd", "$$"), "ab");
  EXPECT_EQ(hashTagged("$$x$", "$$"), "$$x$");
  EXPECT_EQ(hashTagged("x$", "$$"), "x$");
}

TEST(HashTagged, BinaryKeysAndViews) {
  const std::string key("\0{\xff\0}\x80", 6);
  const std::string_view tagged = hashTagged(key, "{}");
  EXPECT_EQ(tagged, std::string_view("\xff\0", 2));
  EXPECT_EQ(tagged.data(), key.data() + 2);  // a view into the key, no copy
}

TEST(ClusterSlot, KnownRedisValues) {
  EXPECT_EQ(clusterSlot("foo"), 12182);
  EXPECT_EQ(clusterSlot("bar"), 5061);
  EXPECT_EQ(clusterSlot("hello"), 866);
  EXPECT_EQ(clusterSlot("user1000"), 3443);
  EXPECT_EQ(clusterSlot("{user1000}.following"), clusterSlot("user1000"));
  EXPECT_EQ(clusterSlot("{user1000}.followers"), clusterSlot("user1000"));
  // An empty first tag means the whole key is hashed.
  EXPECT_EQ(clusterSlot("foo{}{bar}"), hashBytes(HashFunction::kCrc16, "foo{}{bar}") & 16383);
  EXPECT_NE(clusterSlot("foo{}{bar}"), clusterSlot("bar"));
  EXPECT_EQ(clusterSlot("foo{{bar}}zap"), clusterSlot("{bar"));
  EXPECT_EQ(clusterSlot(""), 0);
}

TEST(ClusterSlot, AlwaysInRange) {
  std::string key;
  for (int i = 0; i < 2000; ++i) {
    key += static_cast<char>(i * 37);
    EXPECT_LT(clusterSlot(key), kClusterSlots);
  }
}

}  // namespace
}  // namespace sy::hash
