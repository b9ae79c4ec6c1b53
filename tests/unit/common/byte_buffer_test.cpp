#include "common/byte_buffer.h"

#include <gtest/gtest.h>

#include <string>

namespace sy::common {
namespace {

TEST(ByteBuffer, AppendConsumeKeepsOrder) {
  ByteBuffer buffer;
  buffer.append("hello ");
  buffer.append("world");
  EXPECT_EQ(buffer.view(), "hello world");
  buffer.consume(6);
  EXPECT_EQ(buffer.view(), "world");
  buffer.consume(5);
  EXPECT_TRUE(buffer.empty());
}

TEST(ByteBuffer, ReusesSpaceWithoutGrowingForSteadyTraffic) {
  ByteBuffer buffer(64);
  for (int i = 0; i < 10000; ++i) {
    buffer.append("0123456789");
    buffer.consume(10);
  }
  EXPECT_EQ(buffer.capacity(), 64u);
}

TEST(ByteBuffer, CompactsWhenFrontIsConsumed) {
  ByteBuffer buffer(32);
  buffer.append(std::string(24, 'a'));
  buffer.consume(20);
  buffer.append(std::string(20, 'b'));
  EXPECT_EQ(buffer.view(), std::string(4, 'a') + std::string(20, 'b'));
  EXPECT_EQ(buffer.capacity(), 32u);
}

TEST(ByteBuffer, PrepareAndCommit) {
  ByteBuffer buffer;
  auto span = buffer.prepare(5);
  ASSERT_GE(span.size(), 5u);
  std::memcpy(span.data(), "abcde", 5);
  buffer.commit(3);
  EXPECT_EQ(buffer.view(), "abc");
}

TEST(ByteBuffer, ShrinkIfIdleReleasesBigBuffers) {
  ByteBuffer buffer;
  buffer.append(std::string(1 << 20, 'x'));
  buffer.shrinkIfIdle(4096);
  EXPECT_GT(buffer.capacity(), 4096u);  // not idle: kept
  buffer.consume(buffer.size());
  buffer.shrinkIfIdle(4096);
  EXPECT_EQ(buffer.capacity(), 4096u);
}

}  // namespace
}  // namespace sy::common
