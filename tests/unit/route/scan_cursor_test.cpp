// The SCAN cursor over shards: encode/decode round trips, Redis's parsing, overflow.
#include "route/scan_cursor.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace sy::route {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

TEST(ScanCursor, RoundTripsEveryShard) {
  for (uint32_t count : {1u, 2u, 3u, 7u, 1000u}) {
    for (uint32_t shard = 0; shard < count; shard += (count > 10 ? 97 : 1)) {
      for (uint64_t backend : {uint64_t{0}, uint64_t{1}, uint64_t{12345}, kMax / count - 1}) {
        auto encoded = encodeScanCursor({backend, shard}, count);
        ASSERT_TRUE(encoded.has_value());
        auto decoded = decodeScanCursor(std::to_string(*encoded), count);
        ASSERT_TRUE(decoded.has_value());
        EXPECT_EQ(decoded->backend_cursor, backend);
        EXPECT_EQ(decoded->shard, shard);
      }
    }
  }
}

TEST(ScanCursor, OneShardIsTheBackendCursor) {
  EXPECT_EQ(encodeScanCursor({kMax, 0}, 1), kMax);
  auto decoded = decodeScanCursor("18446744073709551615", 1);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->backend_cursor, kMax);
  EXPECT_EQ(decoded->shard, 0u);
}

TEST(ScanCursor, EncodingThatOverflowsIsRefused) {
  EXPECT_FALSE(encodeScanCursor({kMax / 3 + 1, 0}, 3).has_value());
  EXPECT_FALSE(encodeScanCursor({kMax / 3, 2}, 3).has_value());  // 2^64 - 1 + 2
  EXPECT_EQ(encodeScanCursor({kMax / 3, 0}, 3), kMax);
  EXPECT_FALSE(nextScanCursor(1, kMax, 3).has_value());
}

TEST(ScanCursor, DecodesAsRedisParses) {
  EXPECT_FALSE(decodeScanCursor("", 3).has_value());
  EXPECT_FALSE(decodeScanCursor("abc", 3).has_value());
  EXPECT_FALSE(decodeScanCursor("12x", 3).has_value());
  EXPECT_FALSE(decodeScanCursor(" 12", 3).has_value());
  EXPECT_FALSE(decodeScanCursor("12 ", 3).has_value());
  EXPECT_FALSE(decodeScanCursor("18446744073709551616", 3).has_value());  // 2^64
  EXPECT_FALSE(decodeScanCursor(std::string("1\0", 2), 3).has_value());
  auto plus = decodeScanCursor("+7", 3);
  ASSERT_TRUE(plus.has_value());
  EXPECT_EQ(plus->backend_cursor, 2u);
  EXPECT_EQ(plus->shard, 1u);
  auto zero = decodeScanCursor("0", 3);
  ASSERT_TRUE(zero.has_value());
  EXPECT_EQ(zero->backend_cursor, 0u);
  EXPECT_EQ(zero->shard, 0u);
}

TEST(ScanCursor, NextMovesOnToTheFollowingShard) {
  EXPECT_EQ(nextScanCursor(0, 5, 3), 15u);
  EXPECT_EQ(nextScanCursor(0, 0, 3), 1u);
  EXPECT_EQ(nextScanCursor(1, 0, 3), 2u);
  EXPECT_EQ(nextScanCursor(2, 0, 3), 0u);
  EXPECT_EQ(nextScanCursor(0, 0, 1), 0u);
  EXPECT_EQ(nextScanCursor(0, 9, 1), 9u);
}

}  // namespace
}  // namespace sy::route
