// Redis Cluster's redirection replies, as a node writes them, and the retry pauses.
#include "route/cluster_redirect.h"

#include <gtest/gtest.h>

namespace sy::route {
namespace {

TEST(ClusterRedirect, MovedAndAskNameTheSlotAndTheNode) {
  auto moved = parseRedirection("-MOVED 3999 127.0.0.1:6381\r\n");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->kind, Redirection::Kind::kMoved);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->address, "127.0.0.1:6381");
  auto ask = parseRedirection("-ASK 16383 [::1]:7000\r\n");
  ASSERT_TRUE(ask);
  EXPECT_EQ(ask->kind, Redirection::Kind::kAsk);
  EXPECT_EQ(ask->slot, 16383);
  EXPECT_EQ(ask->address, "[::1]:7000");
}

TEST(ClusterRedirect, RetryableRefusalsAreRecognisedByTheirFirstWord) {
  auto tryagain = parseRedirection("-TRYAGAIN Multiple keys request during rehashing of slot\r\n");
  ASSERT_TRUE(tryagain);
  EXPECT_EQ(tryagain->kind, Redirection::Kind::kTryAgain);
  auto down = parseRedirection("-CLUSTERDOWN The cluster is down\r\n");
  ASSERT_TRUE(down);
  EXPECT_EQ(down->kind, Redirection::Kind::kClusterDown);
  EXPECT_TRUE(parseRedirection("-CLUSTERDOWN\r\n"));
}

TEST(ClusterRedirect, OtherRepliesAndMalformedRedirectionsAreNotFollowed) {
  for (std::string_view reply :
       {"+OK\r\n", "$5\r\nMOVED\r\n", "-ERR unknown command\r\n", "-MOVEDX 1 a:1\r\n",
        "-MOVED 16384 127.0.0.1:6381\r\n", "-MOVED -1 127.0.0.1:6381\r\n",
        "-MOVED 12 127.0.0.1\r\n", "-MOVED 12 127.0.0.1:\r\n", "-MOVED 12\r\n",
        "-MOVED x1 127.0.0.1:6381\r\n", "-ASK 12 127.0.0.1:6381", "-TRYAGAINX\r\n",
        "-CLUSTERDOWNX now\r\n", "-", ""}) {
    EXPECT_FALSE(parseRedirection(reply)) << reply;
  }
}

TEST(ClusterRedirect, SlotMovesAreOnlyMovedAndAsk) {
  auto moved = parseSlotMove("-MOVED 3999 127.0.0.1:6381\r\n");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->kind, Redirection::Kind::kMoved);
  EXPECT_EQ(moved->address, "127.0.0.1:6381");
  auto ask = parseSlotMove("-ASK 1 127.0.0.1:6381\r\n");
  ASSERT_TRUE(ask);
  EXPECT_EQ(ask->kind, Redirection::Kind::kAsk);
  for (std::string_view reply : {"-TRYAGAIN Multiple keys request\r\n", "-CLUSTERDOWN down\r\n",
                                 "-MOVED 16384 127.0.0.1:6381\r\n", "+OK\r\n", ""}) {
    EXPECT_FALSE(parseSlotMove(reply)) << reply;
  }
}

TEST(ClusterRedirect, RetryPausesDoubleUpTo160Ms) {
  EXPECT_EQ(clusterRetryDelay(1).count(), 10);
  EXPECT_EQ(clusterRetryDelay(2).count(), 20);
  EXPECT_EQ(clusterRetryDelay(5).count(), 160);
  EXPECT_EQ(clusterRetryDelay(200).count(), 160);
  EXPECT_EQ(clusterRetryDelay(0).count(), 10);
}

}  // namespace
}  // namespace sy::route
