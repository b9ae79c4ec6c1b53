// Router in a cluster pool: keys go by CRC16 slot, multi-key commands need one slot, and the
// split commands are split by slot.
#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../topology/build_topology.h"
#include "../topology/cluster_test_shards.h"
#include "resp/errors.h"
#include "route/router.h"

namespace sy::route {
namespace {

class ClusterRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = topology::buildFromYaml(
        "alpha:\n  listen: 127.0.0.1:22121\n  cluster: true\n  servers:\n"
        "    - 127.0.0.1:7000:1\n");
    auto view = topology::assembleClusterView(topology::threeShards());
    ASSERT_TRUE(view.ok());
    served_ = topology::withClusterViews(
        *base_, {{"alpha", std::make_shared<const topology::ClusterView>(std::move(*view))}});
  }

  const Plan& planFor(const topology::Topology& topology, std::initializer_list<std::string> args) {
    storage_.assign(args);
    views_.assign(storage_.begin(), storage_.end());
    router_.plan(topology.pools()[0], views_, plan_);
    return plan_;
  }

  std::shared_ptr<const topology::Topology> base_;
  std::shared_ptr<const topology::Topology> served_;
  std::vector<std::string> storage_;
  std::vector<std::string_view> views_;
  Router router_;
  Plan plan_;
};

TEST_F(ClusterRouterTest, AKeyGoesToTheShardOfItsSlot) {
  const Plan& plan = planFor(*served_, {"GET", "foo"});  // slot 12182
  EXPECT_EQ(plan.kind, PlanKind::kForward);
  EXPECT_EQ(plan.server, 2u);
  EXPECT_EQ(plan.slot, 12182);
  EXPECT_EQ(planFor(*served_, {"SET", "bar", "1"}).server, 0u);  // slot 5061
}

TEST_F(ClusterRouterTest, KeysInOneSlotGoTogetherAndOthersAreCrossSlot) {
  const Plan& together = planFor(*served_, {"SUNION", "{u1}:a", "{u1}:b"});
  EXPECT_EQ(together.kind, PlanKind::kForward);
  const Plan& apart = planFor(*served_, {"SUNION", "a", "b"});
  EXPECT_EQ(apart.kind, PlanKind::kError);
  EXPECT_EQ(apart.error, resp::kErrCrossSlot);
}

TEST_F(ClusterRouterTest, SplitCommandsCarryEachKeysSlot) {
  const Plan& plan = planFor(*served_, {"MGET", "foo", "{foo}x", "bar"});
  ASSERT_EQ(plan.kind, PlanKind::kSplit);
  ASSERT_EQ(plan.keys.size(), 3u);
  EXPECT_EQ(plan.keys[0].slot, 12182);
  EXPECT_EQ(plan.keys[1].slot, 12182);
  EXPECT_EQ(plan.keys[2].slot, 5061);
  EXPECT_EQ(plan.keys[2].server, 0u);
  const Plan& one_slot = planFor(*served_, {"MGET", "{t}1", "{t}2"});
  EXPECT_EQ(one_slot.kind, PlanKind::kForward);
  EXPECT_EQ(one_slot.slot, 15891);  // slot of "t"
}

TEST_F(ClusterRouterTest, BeforeTheFirstViewEverythingGoesToTheSeedWithItsSlot) {
  const Plan& plan = planFor(*base_, {"GET", "foo"});
  EXPECT_EQ(plan.kind, PlanKind::kForward);
  EXPECT_EQ(plan.server, 0u);
  EXPECT_EQ(plan.slot, 12182);
}

}  // namespace
}  // namespace sy::route
