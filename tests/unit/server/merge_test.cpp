// Merging split requests: fragments are set up as ClientSession::split() sets them up, get
// their replies through the ReplyTarget calls a backend makes, and mergeFragments() builds
// the parent's reply. The pool's live count checks that every hold is given back.
#include "server/merge.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "command/command.h"
#include "server/pending_request.h"

namespace sy::server {
namespace {

using command::MergeRule;
using namespace std::string_view_literals;

const std::string kUnexpected = "-ERR unexpected reply from backend to a split command\r\n";

class MergeTest : public ::testing::Test {
 protected:
  // A parent (held by its "session", which stays null) with one fragment per entry of
  // `ordinals`, each holding its keys' ordinals and a backend's hold, as split() leaves them.
  PendingRequest& makeParent(MergeRule rule, uint32_t key_count,
                             std::initializer_list<std::vector<uint32_t>> ordinals) {
    PendingRequest& parent = pool_.acquire();  // the session's hold
    parent.merge = rule;
    parent.key_count = key_count;
    for (const std::vector<uint32_t>& keys : ordinals) {
      PendingRequest& fragment = pool_.acquire();  // the parent's hold
      fragment.parent = &parent;
      fragment.key_ordinals = keys;
      parent.fragments.push_back(&fragment);
    }
    parent.fragments_left = static_cast<uint32_t>(parent.fragments.size());
    parent.hold();  // kept until the last fragment completes
    for (PendingRequest* fragment : parent.fragments) fragment->hold();  // the backend's hold
    return parent;
  }

  // Without a session the last fragment does not merge (nobody would read it), so the merge
  // tests keep one completion outstanding, merge themselves, then give the holds back.
  void keepOpen(PendingRequest& parent) { ++parent.fragments_left; }
  void finish(PendingRequest& parent) {
    for (PendingRequest* fragment : parent.fragments) fragment->release();
    parent.fragments.clear();
    parent.release();  // the fragments' hold
    parent.release();  // the session's hold
    EXPECT_EQ(pool_.liveCount(), 0u);
  }

  RequestPool pool_;
};

TEST_F(MergeTest, MgetInterleavesValuesInKeyOrder) {
  PendingRequest& parent = makeParent(MergeRule::kMgetArray, 5, {{0, 2, 4}, {1, 3}});
  keepOpen(parent);
  // Replies may come back in any order across backends.
  parent.fragments[1]->onBackendReply("*2\r\n$2\r\nvb\r\n$2\r\nvd\r\n");
  parent.fragments[0]->onBackendReply("*3\r\n$2\r\nva\r\n$-1\r\n$0\r\n\r\n");
  EXPECT_EQ(parent.fragments_left, 1u);
  EXPECT_TRUE(parent.fragments[0]->done);
  EXPECT_EQ(mergeFragments(parent), "*5\r\n$2\r\nva\r\n$2\r\nvb\r\n$-1\r\n$2\r\nvd\r\n$0\r\n\r\n");
  finish(parent);
}

TEST_F(MergeTest, MgetKeepsNestedAndBinaryElementsWhole) {
  PendingRequest& parent = makeParent(MergeRule::kMgetArray, 4, {{1, 3}, {0, 2}});
  keepOpen(parent);
  parent.fragments[0]->onBackendReply("*2\r\n*2\r\n:1\r\n$1\r\nz\r\n$4\r\na\r\nb\r\n");
  parent.fragments[1]->onBackendReply("*2\r\n$1\r\nx\r\n$3\r\n\0yz\r\n"sv);
  EXPECT_EQ(mergeFragments(parent),
            "*4\r\n$1\r\nx\r\n*2\r\n:1\r\n$1\r\nz\r\n$3\r\n\0yz\r\n$4\r\na\r\nb\r\n"sv);
  finish(parent);
}

TEST_F(MergeTest, MgetFailedFragmentCostsOnlyItsOwnKeys) {
  PendingRequest& parent = makeParent(MergeRule::kMgetArray, 4, {{0, 3}, {1, 2}});
  keepOpen(parent);
  parent.fragments[0]->onBackendReply("*2\r\n$2\r\nv0\r\n$2\r\nv3\r\n");
  parent.fragments[1]->onBackendFailure("ERR backend b (127.0.0.1:6380) failed: reset");
  const std::string error = "-ERR backend b (127.0.0.1:6380) failed: reset\r\n";
  EXPECT_EQ(parent.fragments[1]->reply.view(), error);
  EXPECT_EQ(mergeFragments(parent), "*4\r\n$2\r\nv0\r\n" + error + error + "$2\r\nv3\r\n");
  finish(parent);
}

TEST_F(MergeTest, MgetBackendErrorReplyFillsThatFragmentsSlots) {
  PendingRequest& parent = makeParent(MergeRule::kMgetArray, 3, {{0}, {1}, {2}});
  keepOpen(parent);
  parent.fragments[0]->onBackendReply("*1\r\n$1\r\na\r\n");
  parent.fragments[1]->onBackendReply("-LOADING Redis is loading the dataset in memory\r\n");
  parent.fragments[2]->onBackendReply("*1\r\n$1\r\nc\r\n");
  EXPECT_EQ(mergeFragments(parent),
            "*3\r\n$1\r\na\r\n-LOADING Redis is loading the dataset in memory\r\n$1\r\nc\r\n");
  finish(parent);
}

TEST_F(MergeTest, MgetUnexpectedShapesBecomeErrorElements) {
  // Not an array; an array of the wrong length; the null array.
  PendingRequest& parent = makeParent(MergeRule::kMgetArray, 5, {{0}, {1, 2}, {3}, {4}});
  keepOpen(parent);
  parent.fragments[0]->onBackendReply(":1\r\n");
  parent.fragments[1]->onBackendReply("*1\r\n$1\r\nb\r\n");
  parent.fragments[2]->onBackendReply("*-1\r\n");
  parent.fragments[3]->onBackendReply("*1\r\n$1\r\ne\r\n");
  EXPECT_EQ(mergeFragments(parent),
            "*5\r\n" + kUnexpected + kUnexpected + kUnexpected + kUnexpected + "$1\r\ne\r\n");
  finish(parent);
}

TEST_F(MergeTest, MgetManyLongErrorsStayIntact) {
  // Error elements live in a scratch buffer; it must not move while the reply refers to it.
  PendingRequest& parent = makeParent(MergeRule::kMgetArray, 6, {{0, 5}, {1}, {2, 3}, {4}});
  keepOpen(parent);
  std::string long_one = "ERR " + std::string(20000, 'x');
  std::string long_two = "ERR " + std::string(70000, 'y');
  parent.fragments[0]->onBackendFailure(long_one);
  parent.fragments[1]->onBackendReply("*1\r\n$1\r\nb\r\n");
  parent.fragments[2]->onBackendFailure(long_two);
  parent.fragments[3]->onBackendReply(":7\r\n");
  std::string e1 = "-" + long_one + "\r\n", e2 = "-" + long_two + "\r\n";
  std::string merged(mergeFragments(parent));
  EXPECT_TRUE(merged == "*6\r\n" + e1 + "$1\r\nb\r\n" + e2 + e2 + kUnexpected + e1)
      << merged.size() << " bytes";
  finish(parent);
}

TEST_F(MergeTest, SumsIntegersForDelAndFriends) {
  PendingRequest& parent = makeParent(MergeRule::kSumIntegers, 6, {{0, 1}, {2}, {3, 4, 5}});
  keepOpen(parent);
  parent.fragments[0]->onBackendReply(":2\r\n");
  parent.fragments[1]->onBackendReply(":0\r\n");
  parent.fragments[2]->onBackendReply(":3\r\n");
  EXPECT_EQ(mergeFragments(parent), ":5\r\n");
  finish(parent);
}

TEST_F(MergeTest, SumAnswersTheFirstErrorInFragmentOrder) {
  PendingRequest& parent = makeParent(MergeRule::kSumIntegers, 3, {{0}, {1}, {2}});
  keepOpen(parent);
  parent.fragments[2]->onBackendReply("-ERR second\r\n");
  parent.fragments[0]->onBackendReply(":1\r\n");
  parent.fragments[1]->onBackendFailure("ERR backend b failed: gone");
  EXPECT_EQ(mergeFragments(parent), "-ERR backend b failed: gone\r\n");
  finish(parent);
}

TEST_F(MergeTest, SumWithAnUnexpectedReplyIsAnError) {
  PendingRequest& parent = makeParent(MergeRule::kSumIntegers, 2, {{0}, {1}});
  keepOpen(parent);
  parent.fragments[0]->onBackendReply(":1\r\n");
  parent.fragments[1]->onBackendReply("$1\r\n1\r\n");
  EXPECT_EQ(mergeFragments(parent), kUnexpected);
  finish(parent);
}

TEST_F(MergeTest, MsetAnswersOkOnceEveryPartDid) {
  PendingRequest& parent = makeParent(MergeRule::kMsetOk, 3, {{0, 2}, {1}});
  keepOpen(parent);
  parent.fragments[0]->onBackendReply("+OK\r\n");
  parent.fragments[1]->onBackendReply("+OK\r\n");
  EXPECT_EQ(mergeFragments(parent), "+OK\r\n");
  finish(parent);
}

TEST_F(MergeTest, MsetAnswersTheFirstError) {
  PendingRequest& parent = makeParent(MergeRule::kMsetOk, 3, {{0}, {1}, {2}});
  keepOpen(parent);
  parent.fragments[0]->onBackendReply("+OK\r\n");
  parent.fragments[1]->onBackendReply(
      "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
  parent.fragments[2]->onBackendReply("-ERR later\r\n");
  EXPECT_EQ(mergeFragments(parent), "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
  finish(parent);
}

// merge.h: "MSET: +OK once every part answered +OK". A part that answered something else
// did not say it stored its keys, so +OK would be silently wrong.
TEST_F(MergeTest, MsetWithAnUnexpectedReplyIsAnError) {
  PendingRequest& parent = makeParent(MergeRule::kMsetOk, 2, {{0}, {1}});
  keepOpen(parent);
  parent.fragments[0]->onBackendReply("+OK\r\n");
  parent.fragments[1]->onBackendReply(":1\r\n");
  EXPECT_EQ(mergeFragments(parent), kUnexpected);
  finish(parent);
}

TEST_F(MergeTest, ScratchIsReusedBetweenMerges) {
  PendingRequest& big = makeParent(MergeRule::kMgetArray, 2, {{0}, {1}});
  keepOpen(big);
  big.fragments[0]->onBackendReply("*1\r\n$5\r\nfirst\r\n");
  big.fragments[1]->onBackendFailure("ERR down");
  EXPECT_EQ(mergeFragments(big), "*2\r\n$5\r\nfirst\r\n-ERR down\r\n");
  finish(big);

  PendingRequest& small = makeParent(MergeRule::kMgetArray, 2, {{1}, {0}});
  keepOpen(small);
  small.fragments[0]->onBackendReply("*1\r\n$1\r\nb\r\n");
  small.fragments[1]->onBackendReply("*1\r\n$1\r\na\r\n");
  EXPECT_EQ(mergeFragments(small), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
  finish(small);
}

TEST_F(MergeTest, WithoutASessionTheLastFragmentFinishesTheParent) {
  PendingRequest& parent = makeParent(MergeRule::kMgetArray, 2, {{0}, {1}});
  EXPECT_EQ(pool_.liveCount(), 3u);
  parent.fragments[0]->onBackendReply("*1\r\n$1\r\na\r\n");
  EXPECT_FALSE(parent.done);
  EXPECT_EQ(parent.fragments_left, 1u);
  EXPECT_EQ(pool_.liveCount(), 3u);  // the first fragment is still held by its parent
  parent.fragments[1]->onBackendFailure("ERR down");
  // The client has gone: nothing merges, every fragment goes back to the pool.
  EXPECT_TRUE(parent.done);
  EXPECT_EQ(parent.fragments_left, 0u);
  EXPECT_TRUE(parent.fragments.empty());
  EXPECT_EQ(pool_.liveCount(), 1u);  // only the session's hold remains
  parent.release();
  EXPECT_EQ(pool_.liveCount(), 0u);
  // Recycled objects come back clean.
  PendingRequest& again = pool_.acquire();
  EXPECT_EQ(again.parent, nullptr);
  EXPECT_FALSE(again.done);
  EXPECT_EQ(again.reply.size(), 0u);
  EXPECT_TRUE(again.key_ordinals.empty());
  EXPECT_EQ(again.merge, MergeRule::kNone);
  again.release();
  EXPECT_EQ(pool_.liveCount(), 0u);
}

TEST_F(MergeTest, RequestWithoutSessionOrParentIsJustMarkedDone) {
  PendingRequest& request = pool_.acquire();
  request.hold();  // the backend's
  request.onBackendReply("+PONG\r\n");
  EXPECT_TRUE(request.done);
  EXPECT_EQ(pool_.liveCount(), 1u);
  request.release();
  EXPECT_EQ(pool_.liveCount(), 0u);
}

}  // namespace
}  // namespace sy::server
