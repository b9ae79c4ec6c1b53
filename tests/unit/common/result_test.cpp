#include "common/result.h"

#include <gtest/gtest.h>

namespace sy::common {
namespace {

Result<int> parsePositive(int v) {
  if (v <= 0) return makeError("not positive");
  return v;
}

TEST(Result, CarriesValueOrError) {
  auto good = parsePositive(3);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 3);
  auto bad = parsePositive(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "not positive");
}

TEST(Result, VoidResult) {
  Result<void> fine;
  EXPECT_TRUE(fine.ok());
  Result<void> failed = makeError("boom");
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message, "boom");
}

}  // namespace
}  // namespace sy::common
