// The stats registry: enum/field lists in step, StatArray indexing, histogram bucketing.
#include "common/stats_registry.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "common/clock.h"

namespace sy::common {
namespace {

TEST(StatsRegistry, ListsAndEnumsAgree) {
  EXPECT_EQ(std::size(kPoolStatFields), kStatCount<PoolStat>);
  EXPECT_EQ(std::size(kServerStatFields), kStatCount<ServerStat>);
  EXPECT_EQ(std::size(kCommandStatFields), kStatCount<CommandStat>);
  EXPECT_STREQ(kPoolStatFields[static_cast<size_t>(PoolStat::fragments)].name, "fragments");
  EXPECT_STREQ(kServerStatFields[static_cast<size_t>(ServerStat::out_queue_bytes)].name,
               "out_queue_bytes");
  EXPECT_STREQ(kCommandStatFields[static_cast<size_t>(CommandStat::failed_calls)].name,
               "failed_calls");
  std::set<std::string> names;
  for (const StatField& field : kPoolStatFields) EXPECT_TRUE(names.insert(field.name).second);
  for (const StatField& field : kServerStatFields) EXPECT_TRUE(names.insert(field.name).second);
  for (const StatField& field : kCommandStatFields) {
    EXPECT_EQ(field.kind, StatKind::kCounter) << field.name;
  }
}

TEST(StatsRegistry, StatArrayIndexesByEnum) {
  StatArray<ServerStat> stats;
  stats[ServerStat::requests].add(3);
  stats[ServerStat::in_queue].set(7);
  EXPECT_EQ(stats.at(static_cast<size_t>(ServerStat::requests)).get(), 3u);
  EXPECT_EQ(stats[ServerStat::in_queue].get(), 7u);
  EXPECT_EQ(stats[ServerStat::responses].get(), 0u);
}

TEST(LatencyHistogram, BucketBoundsAreInclusivePowersOfTwo) {
  EXPECT_EQ(LatencyHistogram::bucketFor(0), 0u);
  EXPECT_EQ(LatencyHistogram::bucketFor(1), 0u);
  EXPECT_EQ(LatencyHistogram::bucketFor(2), 1u);
  EXPECT_EQ(LatencyHistogram::bucketFor(3), 2u);
  EXPECT_EQ(LatencyHistogram::bucketFor(4), 2u);
  EXPECT_EQ(LatencyHistogram::bucketFor(5), 3u);
  for (size_t b = 0; b < LatencyHistogram::kFiniteBuckets; ++b) {
    uint64_t bound = LatencyHistogram::upperBoundUsec(b);
    EXPECT_EQ(LatencyHistogram::bucketFor(bound), b) << bound;
    EXPECT_EQ(LatencyHistogram::bucketFor(bound + 1), b + 1) << bound;
  }
  EXPECT_EQ(LatencyHistogram::bucketFor(UINT64_MAX), LatencyHistogram::kFiniteBuckets);
  EXPECT_EQ(LatencyHistogram::bucketFor(uint64_t{1} << 40), LatencyHistogram::kFiniteBuckets);
}

TEST(LatencyHistogram, RecordsAndSums) {
  LatencyHistogram histogram;
  histogram.record(1);
  histogram.record(100);  // (64, 128]
  histogram.record(100);
  histogram.record(10'000'000);  // past 2^21 us
  EXPECT_EQ(histogram.bucket(0), 1u);
  EXPECT_EQ(histogram.bucket(7), 2u);
  EXPECT_EQ(histogram.bucket(LatencyHistogram::kFiniteBuckets), 1u);
  EXPECT_EQ(histogram.sumUsec(), 10'000'201u);

  HistogramValues values;
  values.add(histogram);
  values.add(histogram);
  EXPECT_EQ(values.count(), 8u);
  EXPECT_EQ(values.sum_usec, 20'000'402u);
  EXPECT_EQ(values.quantileUpperBoundUsec(0.25), 1u);
  EXPECT_EQ(values.quantileUpperBoundUsec(0.5), 128u);
  EXPECT_EQ(values.quantileUpperBoundUsec(1.0), UINT64_MAX);
  EXPECT_EQ(HistogramValues{}.quantileUpperBoundUsec(0.5), 0u);
}

TEST(EventTime, ElapsedMicrosNeverGoesNegative) {
  TimePoint start = now();
  EXPECT_EQ(elapsedMicros(start, start - Millis(5)), 0u);
  EXPECT_EQ(elapsedMicros(start, start + Millis(5)), 5000u);
  TimePoint stamped = stampEventTime();
  EXPECT_EQ(eventTime(), stamped);
  setEventTime(start);
  EXPECT_EQ(eventTime(), start);
}

}  // namespace
}  // namespace sy::common
