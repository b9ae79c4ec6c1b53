// The merge rules of commands sent to every shard: fragments are set up as
// ClientSession::fanout() sets them up (one per shard, in shard order), get their replies
// through the ReplyTarget calls a backend makes, and mergeFragments() builds the reply.
#include <gtest/gtest.h>

#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "command/command.h"
#include "server/merge.h"
#include "server/pending_request.h"

namespace sy::server {
namespace {

using command::MergeRule;

const std::string kUnexpected =
    "-ERR switchyard: unexpected reply from a shard to a command sent to every shard\r\n";

class MergeFanoutTest : public ::testing::Test {
 protected:
  // Merges `replies` (one per shard, shard i's at index i) by `rule` for the command `args`.
  std::string merge(MergeRule rule, std::vector<std::string_view> args,
                    std::initializer_list<std::string_view> replies, uint32_t first_shard = 0,
                    uint32_t shard_count = 0) {
    PendingRequest& parent = pool_.acquire();  // the session's hold
    parent.merge = rule;
    parent.command_id = command::commandId(*command::findCommand(args));
    parent.key_count = shard_count != 0 ? shard_count : static_cast<uint32_t>(replies.size());
    uint32_t shard = first_shard;
    for (size_t i = 0; i < replies.size(); ++i) {
      PendingRequest& fragment = pool_.acquire();  // the parent's hold
      fragment.parent = &parent;
      fragment.shard = shard++;
      parent.fragments.push_back(&fragment);
    }
    parent.fragments_left = static_cast<uint32_t>(parent.fragments.size()) + 1;  // kept open
    parent.hold();
    size_t i = 0;
    for (std::string_view reply : replies) {
      PendingRequest& fragment = *parent.fragments[i++];
      fragment.hold();  // the backend's
      fragment.onBackendReply(reply);
    }
    std::string merged(mergeFragments(parent));
    for (PendingRequest* fragment : parent.fragments) fragment->release();
    parent.fragments.clear();
    parent.release();
    parent.release();
    EXPECT_EQ(pool_.liveCount(), 0u);
    return merged;
  }

  RequestPool pool_;
};

TEST_F(MergeFanoutTest, DbsizeSumsTheShards) {
  EXPECT_EQ(merge(MergeRule::kSumIntegers, {"DBSIZE"}, {":10\r\n", ":7\r\n", ":3\r\n"}), ":20\r\n");
}

TEST_F(MergeFanoutTest, AnyShardErrorIsTheAnswer) {
  EXPECT_EQ(merge(MergeRule::kConcatArrays, {"KEYS", "*"},
                  {"*0\r\n", "-LOADING Redis is loading the dataset in memory\r\n", "-ERR x\r\n"}),
            "-LOADING Redis is loading the dataset in memory\r\n");
  EXPECT_EQ(merge(MergeRule::kAllOk, {"FLUSHDB"}, {"+OK\r\n", "-READONLY no\r\n"}),
            "-READONLY no\r\n");
}

TEST_F(MergeFanoutTest, KeysConcatenates) {
  EXPECT_EQ(merge(MergeRule::kConcatArrays, {"KEYS", "*"},
                  {"*2\r\n$1\r\na\r\n$1\r\nb\r\n", "*0\r\n", "*1\r\n$1\r\nc\r\n"}),
            "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
  EXPECT_EQ(merge(MergeRule::kConcatArrays, {"KEYS", "*"}, {"*0\r\n", ":1\r\n"}), kUnexpected);
}

TEST_F(MergeFanoutTest, FlushAnswersOkOnlyWhenEveryShardDid) {
  EXPECT_EQ(merge(MergeRule::kAllOk, {"FLUSHDB"}, {"+OK\r\n", "+OK\r\n"}), "+OK\r\n");
  EXPECT_EQ(merge(MergeRule::kAllOk, {"FLUSHDB"}, {"+OK\r\n", ":1\r\n"}), kUnexpected);
}

TEST_F(MergeFanoutTest, RandomKeyIsNilOnlyWhenEveryShardIsEmpty) {
  EXPECT_EQ(merge(MergeRule::kRandomNonNil, {"RANDOMKEY"}, {"$-1\r\n", "$-1\r\n"}), "$-1\r\n");
  EXPECT_EQ(merge(MergeRule::kRandomNonNil, {"RANDOMKEY"}, {"$-1\r\n", "$1\r\nk\r\n", "$-1\r\n"}),
            "$1\r\nk\r\n");
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    seen.insert(merge(MergeRule::kRandomNonNil, {"RANDOMKEY"}, {"$1\r\na\r\n", "$1\r\nb\r\n"}));
  }
  EXPECT_EQ(seen, (std::set<std::string>{"$1\r\na\r\n", "$1\r\nb\r\n"}));
}

TEST_F(MergeFanoutTest, IdenticalRepliesOrAnErrorNamingTheShards) {
  const std::string_view sha = "$40\r\ne0e1f9fabfc9d4800c877a703b823ac0578ff8db\r\n";
  EXPECT_EQ(merge(MergeRule::kIdentical, {"SCRIPT", "LOAD", "return 1"}, {sha, sha, sha}), sha);
  EXPECT_EQ(
      merge(MergeRule::kIdentical, {"FUNCTION", "LIST"}, {"*0\r\n", "*0\r\n", "*1\r\n*0\r\n"}),
      "-ERR switchyard: 'function|list' answered differently on shard 0 and shard 2 of this "
      "pool; the shards are out of step (load or delete on every shard again)\r\n");
}

TEST_F(MergeFanoutTest, ScriptExistsIsTrueOnlyWhereEveryShardHasIt) {
  EXPECT_EQ(merge(MergeRule::kAndArrays, {"SCRIPT", "EXISTS", "a", "b", "c"},
                  {"*3\r\n:1\r\n:1\r\n:0\r\n", "*3\r\n:1\r\n:0\r\n:0\r\n"}),
            "*3\r\n:1\r\n:0\r\n:0\r\n");
  EXPECT_EQ(merge(MergeRule::kAndArrays, {"SCRIPT", "EXISTS", "a"}, {"*1\r\n:1\r\n", "*0\r\n"}),
            kUnexpected);
}

TEST_F(MergeFanoutTest, ChannelsAreUnitedWithoutRepeats) {
  EXPECT_EQ(merge(MergeRule::kUnionArrays, {"PUBSUB", "CHANNELS"},
                  {"*2\r\n$1\r\na\r\n$1\r\nb\r\n", "*2\r\n$1\r\nb\r\n$1\r\nc\r\n", "*0\r\n"}),
            "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
}

TEST_F(MergeFanoutTest, NumsubSumsEachChannelInRequestOrder) {
  EXPECT_EQ(merge(MergeRule::kSumPairs, {"PUBSUB", "NUMSUB", "x", "y"},
                  {"*4\r\n$1\r\nx\r\n:2\r\n$1\r\ny\r\n:0\r\n",
                   "*4\r\n$1\r\nx\r\n:0\r\n$1\r\ny\r\n:5\r\n"}),
            "*4\r\n$1\r\nx\r\n:2\r\n$1\r\ny\r\n:5\r\n");
  EXPECT_EQ(merge(MergeRule::kSumPairs, {"PUBSUB", "NUMSUB"}, {"*0\r\n", "*0\r\n"}), "*0\r\n");
  EXPECT_EQ(
      merge(MergeRule::kSumPairs, {"PUBSUB", "NUMSUB", "x"}, {"*2\r\n$1\r\nx\r\n:2\r\n", "*0\r\n"}),
      kUnexpected);
}

TEST_F(MergeFanoutTest, NumpatIsTheLargestCount) {
  EXPECT_EQ(merge(MergeRule::kMaxInteger, {"PUBSUB", "NUMPAT"}, {":2\r\n", ":3\r\n", ":2\r\n"}),
            ":3\r\n");
}

TEST_F(MergeFanoutTest, ScanRewritesTheCursor) {
  const std::string keys = "*1\r\n$1\r\nk\r\n";
  // Shard 1 of 3 answers backend cursor 5: 5 * 3 + 1.
  EXPECT_EQ(merge(MergeRule::kScanCursor, {"SCAN", "1"}, {"*2\r\n$1\r\n5\r\n" + keys}, 1, 3),
            "*2\r\n$2\r\n16\r\n" + keys);
  // Shard 1 is done: shard 2 starts.
  EXPECT_EQ(merge(MergeRule::kScanCursor, {"SCAN", "1"}, {"*2\r\n$1\r\n0\r\n" + keys}, 1, 3),
            "*2\r\n$1\r\n2\r\n" + keys);
  // The last shard is done: the iteration is.
  EXPECT_EQ(merge(MergeRule::kScanCursor, {"SCAN", "2"}, {"*2\r\n$1\r\n0\r\n*0\r\n"}, 2, 3),
            "*2\r\n$1\r\n0\r\n*0\r\n");
  EXPECT_EQ(merge(MergeRule::kScanCursor, {"SCAN", "2"},
                  {"*2\r\n$20\r\n18446744073709551615\r\n*0\r\n"}, 2, 3),
            "-ERR switchyard: a backend's SCAN cursor is too large to combine with its shard "
            "number\r\n");
  EXPECT_EQ(merge(MergeRule::kScanCursor, {"SCAN", "0"}, {"*1\r\n$1\r\n0\r\n"}, 0, 3), kUnexpected);
  EXPECT_EQ(merge(MergeRule::kScanCursor, {"SCAN", "0"}, {"-ERR syntax error\r\n"}, 0, 3),
            "-ERR syntax error\r\n");
}

TEST_F(MergeFanoutTest, KillSucceedsWhereAShardHadAScript) {
  const std::string_view not_busy = "-NOTBUSY No scripts in execution right now.\r\n";
  EXPECT_EQ(merge(MergeRule::kAnyKilled, {"SCRIPT", "KILL"}, {not_busy, "+OK\r\n", not_busy}),
            "+OK\r\n");
  EXPECT_EQ(merge(MergeRule::kAnyKilled, {"SCRIPT", "KILL"}, {not_busy, not_busy}), not_busy);
  EXPECT_EQ(merge(MergeRule::kAnyKilled, {"SCRIPT", "KILL"},
                  {"+OK\r\n", "-UNKILLABLE Sorry the script already executed write commands\r\n"}),
            "-UNKILLABLE Sorry the script already executed write commands\r\n");
}

}  // namespace
}  // namespace sy::server
