// ParkedWrites: writes held during a failover keep their order, expire with a retryable
// error at their deadline, and are all failed at shutdown.
#include "server/parked_writes.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sy::server {
namespace {

struct Recorder final : backend::ReplyTarget {
  std::vector<std::string> failures;
  void onBackendReply(std::string_view) override { failures.emplace_back("unexpected reply"); }
  void onBackendFailure(std::string_view message) override { failures.emplace_back(message); }
};

ParkedWrite write(Recorder& target, common::TimePoint parked_at, int wait_ms, std::string bytes) {
  ParkedWrite parked;
  parked.pool = "alpha";
  parked.group = "g0";
  parked.bytes.append(bytes);
  parked.target = &target;
  parked.parked_at = parked_at;
  parked.deadline = parked_at + common::Millis(wait_ms);
  return parked;
}

TEST(ParkedWrites, TakeAllKeepsArrivalOrder) {
  ParkedWrites parked;
  Recorder target;
  common::TimePoint now = common::now();
  parked.park(write(target, now, 100, "first"));
  parked.park(write(target, now, 100, "second"));
  std::vector<ParkedWrite> all = parked.takeAll();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].bytes.view(), "first");
  EXPECT_EQ(all[1].bytes.view(), "second");
  EXPECT_EQ(parked.size(), 0u);
}

TEST(ParkedWrites, ExpireFailsOnlyWritesPastTheirDeadlineWithTryAgain) {
  ParkedWrites parked;
  Recorder early, late;
  common::TimePoint now = common::now();
  parked.park(write(late, now, 500, "late"));
  parked.park(write(early, now, 50, "early"));
  parked.expire(now + common::Millis(49));
  EXPECT_TRUE(early.failures.empty());
  parked.expire(now + common::Millis(50));
  ASSERT_EQ(early.failures.size(), 1u);
  EXPECT_TRUE(early.failures[0].starts_with(
      "TRYAGAIN switchyard: group 'g0' of pool 'alpha' has no confirmed master"))
      << early.failures[0];
  EXPECT_NE(early.failures[0].find("waited 50 ms"), std::string::npos) << early.failures[0];
  EXPECT_TRUE(late.failures.empty());
  EXPECT_EQ(parked.size(), 1u);
}

TEST(ParkedWrites, FailAllAnswersEveryWrite) {
  ParkedWrites parked;
  Recorder a, b;
  common::TimePoint now = common::now();
  parked.park(write(a, now, 500, "a"));
  parked.park(write(b, now, 500, "b"));
  parked.failAll("ERR switchyard is shutting down");
  EXPECT_EQ(a.failures, std::vector<std::string>{"ERR switchyard is shutting down"});
  EXPECT_EQ(b.failures, std::vector<std::string>{"ERR switchyard is shutting down"});
  EXPECT_EQ(parked.size(), 0u);
}

}  // namespace
}  // namespace sy::server
