// The read policy: which node of a replication group serves a read, for every read_from.
#include "route/read_policy.h"

#include <gtest/gtest.h>

#include <vector>

namespace sy::route {
namespace {

using config::ReadFrom;
using Kind = ReadChoice::Kind;

ReadCandidate node(bool usable, size_t in_flight = 0, int64_t rtt_usec = -1) {
  return ReadCandidate{usable, in_flight, rtt_usec};
}

struct Picked {
  Kind kind;
  size_t replica;
  bool operator==(const Picked&) const = default;
};

Picked pick(ReadFrom read_from, ReadCandidate master, const std::vector<ReadCandidate>& replicas,
            size_t rotation = 0) {
  ReadChoice choice = chooseReadNode(read_from, master, replicas, rotation);
  return Picked{choice.kind, choice.kind == Kind::kReplica ? choice.replica : 0};
}

constexpr Picked kMasterPick{Kind::kMaster, 0};
constexpr Picked kNoNode{Kind::kNone, 0};
constexpr Picked replica(size_t r) { return Picked{Kind::kReplica, r}; }

TEST(ReadPolicy, MasterAlwaysReadsTheMaster) {
  EXPECT_EQ(pick(ReadFrom::kMaster, node(false), {node(true)}), kMasterPick);
}

TEST(ReadPolicy, PreferMasterFallsBackToTheLeastLoadedReplica) {
  EXPECT_EQ(pick(ReadFrom::kPreferMaster, node(true, 99), {node(true)}), kMasterPick);
  EXPECT_EQ(pick(ReadFrom::kPreferMaster, node(false), {node(true, 5), node(true, 2)}), replica(1));
  EXPECT_EQ(pick(ReadFrom::kPreferMaster, node(false), {node(false)}), kMasterPick);
  EXPECT_EQ(pick(ReadFrom::kPreferMaster, node(false), {}), kMasterPick);
}

TEST(ReadPolicy, ReplicaNeverFallsBackToTheMaster) {
  EXPECT_EQ(pick(ReadFrom::kReplica, node(true), {node(true, 3), node(true, 1), node(true, 2)}),
            replica(1));
  EXPECT_EQ(pick(ReadFrom::kReplica, node(true), {node(false), node(false)}), kNoNode);
  EXPECT_EQ(pick(ReadFrom::kReplica, node(true), {}), kNoNode);
}

TEST(ReadPolicy, PreferReplicaFallsBackToTheMaster) {
  EXPECT_EQ(pick(ReadFrom::kPreferReplica, node(true), {node(false), node(true, 7)}), replica(1));
  EXPECT_EQ(pick(ReadFrom::kPreferReplica, node(false), {node(false)}), kMasterPick);
}

TEST(ReadPolicy, EquallyLoadedReplicasTakeTurns) {
  const std::vector<ReadCandidate> idle = {node(true), node(true), node(true)};
  size_t rotation = 0;
  std::vector<size_t> picked;
  for (int i = 0; i < 6; ++i) {
    picked.push_back(chooseReadNode(ReadFrom::kReplica, node(true), idle, rotation).replica);
  }
  EXPECT_EQ(picked, (std::vector<size_t>{0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(rotation, 6u);
  // A replica that is backing off is skipped, whatever its turn.
  const std::vector<ReadCandidate> one_down = {node(true), node(false), node(true)};
  EXPECT_EQ(pick(ReadFrom::kReplica, node(true), one_down, 1), replica(2));
  // The master alone is not compared by load: the rotation stays.
  rotation = 4;
  chooseReadNode(ReadFrom::kPreferMaster, node(true), idle, rotation);
  EXPECT_EQ(rotation, 4u);
}

TEST(ReadPolicy, NearestTakesTheLowestRoundTrip) {
  EXPECT_EQ(pick(ReadFrom::kNearest, node(true, 0, 300), {node(true, 0, 500), node(true, 0, 200)}),
            replica(1));
  EXPECT_EQ(pick(ReadFrom::kNearest, node(true, 0, 100), {node(true, 0, 500)}), kMasterPick);
  // Unknown round trips rank last; ties keep the first found (the master first).
  EXPECT_EQ(pick(ReadFrom::kNearest, node(true, 0, -1), {node(true, 0, 900)}), replica(0));
  EXPECT_EQ(pick(ReadFrom::kNearest, node(true, 0, 200), {node(true, 0, 200)}), kMasterPick);
  // Unusable nodes are skipped; with none usable, the master (whose error the client gets).
  EXPECT_EQ(pick(ReadFrom::kNearest, node(false, 0, 1), {node(false, 0, 1), node(true, 0, 800)}),
            replica(1));
  EXPECT_EQ(pick(ReadFrom::kNearest, node(false), {node(false)}), kMasterPick);
}

}  // namespace
}  // namespace sy::route
