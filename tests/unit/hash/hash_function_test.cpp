#include "hash/hash_function.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace sy::hash {
namespace {

struct Vector {
  HashFunction function;
  uint32_t foo;
  uint32_t user_1000;
};

// twemproxy-compat.md C5 (x86-64 nutcracker), plus fnv1_32, the standard FNV-1 32-bit value.
constexpr Vector kVectors[] = {
    {HashFunction::kFnv1a_64, 4275688823u, 2927313545u},
    {HashFunction::kFnv1_64, 1805727027u, 3550362913u},
    {HashFunction::kFnv1a_32, 2851307223u, 1350311305u},
    {HashFunction::kMd5, 3675831724u, 781738503u},
    {HashFunction::kCrc32a, 2356372769u, 2675185635u},
    {HashFunction::kCrc32, 3187u, 8052u},
    {HashFunction::kCrc16, 205303702u, 3781445233u},
    {HashFunction::kMurmur, 3303027599u, 2384768711u},
    {HashFunction::kJenkins, 2583187353u, 76303748u},
    {HashFunction::kHsieh, 1993659431u, 3723237737u},
    {HashFunction::kOneAtATime, 596015325u, 3043211087u},
    {HashFunction::kFnv1_32, 1083137555u, 2796551329u},
};

TEST(HashFunction, CompatTestVectors) {
  for (const Vector& v : kVectors) {
    SCOPED_TRACE(std::string(hashFunctionName(v.function)));
    EXPECT_EQ(hashBytes(v.function, "foo"), v.foo);
    EXPECT_EQ(hashBytes(v.function, "user:1000"), v.user_1000);
  }
}

TEST(HashFunction, EveryFunctionHasAVector) {
  std::set<HashFunction> covered;
  for (const Vector& v : kVectors) {
    covered.insert(v.function);
  }
  EXPECT_EQ(covered.size(), std::size(kAllHashFunctions));
}

TEST(HashFunction, NamesRoundTrip) {
  std::set<std::string_view> names;
  for (HashFunction function : kAllHashFunctions) {
    const std::string_view name = hashFunctionName(function);
    names.insert(name);
    ASSERT_TRUE(parseHashFunction(name).has_value()) << name;
    EXPECT_EQ(*parseHashFunction(name), function);
  }
  EXPECT_EQ(names.size(), 12u);
  EXPECT_EQ(hashFunctionName(HashFunction::kFnv1a_64), "fnv1a_64");
  EXPECT_EQ(hashFunctionName(HashFunction::kOneAtATime), "one_at_a_time");
  EXPECT_FALSE(parseHashFunction("FNV1A_64").has_value());
  EXPECT_FALSE(parseHashFunction("fnv1a").has_value());
  EXPECT_FALSE(parseHashFunction("").has_value());
}

// Bytes >= 0x80 are sign-extended as on x86-64, whatever the platform's char.
TEST(HashFunction, SignedCharSemantics) {
  EXPECT_EQ(hashBytes(HashFunction::kFnv1a_64, "h\xc3\xa9llo"), 3574771936u);
  EXPECT_NE(hashBytes(HashFunction::kFnv1a_64, "h\xc3\xa9llo"), 2516730080u);  // unsigned char
}

// The low 16 bits of the unmasked crc16 are CRC16-XMODEM, the Redis Cluster slot CRC.
TEST(HashFunction, Crc16LowBitsAreXmodem) {
  EXPECT_EQ(hashBytes(HashFunction::kCrc16, "foo") & 0xffff, 44950u);
  EXPECT_EQ(hashBytes(HashFunction::kCrc16, "user:1000") & 0xffff, 18033u);
  EXPECT_EQ(hashBytes(HashFunction::kCrc16, "123456789") & 0xffff, 0x31c3u);  // XMODEM check
  EXPECT_GT(hashBytes(HashFunction::kCrc16, "foo"), 0xffffu);                 // upper bits leak
}

TEST(HashFunction, Crc32VariantsRelate) {
  EXPECT_EQ(hashBytes(HashFunction::kCrc32a, "123456789"), 0xcbf43926u);  // IEEE check value
  for (std::string_view key : {"foo", "user:1000", "123456789", "\xff\x80"}) {
    EXPECT_EQ(hashBytes(HashFunction::kCrc32, key),
              (hashBytes(HashFunction::kCrc32a, key) >> 16) & 0x7fff);
  }
}

TEST(HashFunction, EmptyInput) {
  EXPECT_EQ(hashBytes(HashFunction::kHsieh, ""), 0u);
  EXPECT_EQ(hashBytes(HashFunction::kFnv1a_64, ""), 0x84222325u);
  EXPECT_EQ(hashBytes(HashFunction::kFnv1_64, ""), 0x84222325u);
  EXPECT_EQ(hashBytes(HashFunction::kFnv1_32, ""), 2166136261u);
  EXPECT_EQ(hashBytes(HashFunction::kCrc16, ""), 0u);
  EXPECT_EQ(hashBytes(HashFunction::kCrc32a, ""), 0u);
  EXPECT_EQ(hashBytes(HashFunction::kOneAtATime, ""), 0u);
  EXPECT_EQ(hashBytes(HashFunction::kJenkins, ""), 0xdeadbeefu + 13u);
}

// Keys embedded in a larger buffer hash only their own bytes (no read past the view).
TEST(HashFunction, HashesOnlyTheView) {
  const std::string buffer = "user:1000trailing";
  const std::string_view key(buffer.data(), 9);
  for (const Vector& v : kVectors) {
    EXPECT_EQ(hashBytes(v.function, key), v.user_1000) << hashFunctionName(v.function);
  }
}

}  // namespace
}  // namespace sy::hash
