// ReplicationGroups against fake GroupProviders: one provider per pool with groups, made from
// that pool's config and started; reported views published under (pool, group); READONLY
// re-discovery sent to the group's provider only; failovers counted when a new master is
// confirmed; a reload or stop() stops the providers at once and destroys them from a later
// handler, keeping the views of groups that stay.
#include "server/replication_groups.h"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "topology/group_provider.h"
#include "topology/topology.h"

namespace sy::server {
namespace {

using topology::GroupView;
using topology::NodeAddress;

// Writes what it is told to a journal shared by every fake, as "pool: what".
class FakeProvider final : public topology::GroupProvider {
 public:
  FakeProvider(std::string pool, Listener listener, std::vector<std::string>& journal)
      : pool_(std::move(pool)), listener_(std::move(listener)), journal_(journal) {}
  ~FakeProvider() override { note("destroyed"); }

  void start() override { note("start"); }
  void stop() override { note("stop"); }
  void rediscover(const std::string& name) override { note("rediscover " + name); }

  void report(const std::shared_ptr<const GroupView>& view) { listener_(view); }

 private:
  void note(const std::string& what) { journal_.push_back(pool_ + ": " + what); }

  std::string pool_;
  Listener listener_;
  std::vector<std::string>& journal_;
};

// alpha: Sentinel-managed g0 and g1; beta: role-probed g0; gamma: plain servers.
const std::string kThreePools =
    "alpha:\n"
    "  listen: 127.0.0.1:22121\n"
    "  sentinels: [127.0.0.1:26379]\n"
    "  servers:\n"
    "    - 127.0.0.1:7001:1 g0\n"
    "    - 127.0.0.1:7101:1 g1\n"
    "beta:\n"
    "  listen: 127.0.0.1:22122\n"
    "  servers:\n"
    "    - 127.0.0.1:7201:1 g0\n"
    "    - 127.0.0.1:7202:1 g0\n"
    "gamma:\n"
    "  listen: 127.0.0.1:22123\n"
    "  servers:\n"
    "    - 127.0.0.1:7301:1\n";

const std::string kAlphaWithG0Only =
    "alpha:\n"
    "  listen: 127.0.0.1:22121\n"
    "  sentinels: [127.0.0.1:26379]\n"
    "  servers:\n"
    "    - 127.0.0.1:7001:1 g0\n";

std::shared_ptr<const topology::Topology> build(std::string_view yaml) {
  auto config = std::make_shared<const config::Config>(config::parseConfig(yaml, "t.yml"));
  auto built = topology::buildTopology(config);
  EXPECT_TRUE(built.ok()) << built.error().message;
  return built.ok() ? *built : nullptr;
}

std::shared_ptr<GroupView> view(std::string name, uint16_t master, bool confirmed) {
  auto view = std::make_shared<GroupView>();
  view->name = std::move(name);
  view->master = NodeAddress{"127.0.0.1", master};
  view->master_confirmed = confirmed;
  return view;
}

class ReplicationGroupsTest : public ::testing::Test {
 protected:
  // The fake made last for `pool`; valid until the io_context runs the handler that destroys
  // it after a reload or stop().
  FakeProvider& provider(const std::string& pool) { return *made_.at(pool); }
  // The journal lines since the last call.
  std::vector<std::string> told() {
    std::vector<std::string> lines(journal_.begin() + static_cast<std::ptrdiff_t>(read_),
                                   journal_.end());
    read_ = journal_.size();
    return lines;
  }

  std::unique_ptr<topology::GroupProvider> make(const config::PoolConfig& pool,
                                                topology::GroupProvider::Listener listener) {
    std::string groups;
    for (const config::ServerConfig& server : pool.servers) groups += " " + server.stats_name;
    journal_.push_back(pool.name + ": made for" + groups);
    auto fake = std::make_unique<FakeProvider>(pool.name, std::move(listener), journal_);
    made_[pool.name] = fake.get();
    return fake;
  }

  std::vector<std::string> journal_;  // outlives io_, whose handlers destroy fakes
  size_t read_ = 0;
  asio::io_context io_;
  std::map<std::string, FakeProvider*> made_;
  int publishes_ = 0;
  ReplicationGroups groups_{io_, [this] { ++publishes_; },
                            [this](asio::io_context& io, const config::PoolConfig& pool,
                                   topology::GroupProvider::Listener listener) {
                              EXPECT_EQ(&io, &io_);
                              return make(pool, std::move(listener));
                            }};
};

TEST_F(ReplicationGroupsTest, OneStartedProviderPerPoolWithGroups) {
  auto base = build(kThreePools);
  groups_.setBase(*base);
  EXPECT_EQ(told(), (std::vector<std::string>{"alpha: made for g0 g1", "beta: made for g0",
                                              "alpha: start", "beta: start"}));
  EXPECT_TRUE(groups_.views().empty());
  EXPECT_EQ(publishes_, 0);
}

TEST_F(ReplicationGroupsTest, AReportedViewIsPublishedUnderItsPoolAndGroup) {
  auto base = build(kThreePools);
  groups_.setBase(*base);
  auto alpha_g0 = view("g0", 7001, true);
  provider("alpha").report(alpha_g0);
  EXPECT_EQ(publishes_, 1);
  auto beta_g0 = view("g0", 7202, true);
  provider("beta").report(beta_g0);
  EXPECT_EQ(publishes_, 2);
  ASSERT_EQ(groups_.views().size(), 2u);
  EXPECT_EQ(groups_.views().at({"alpha", "g0"}), alpha_g0);
  EXPECT_EQ(groups_.views().at({"beta", "g0"}), beta_g0);
  auto newer = view("g0", 7001, false);
  provider("alpha").report(newer);
  EXPECT_EQ(publishes_, 3);
  EXPECT_EQ(groups_.views().at({"alpha", "g0"}), newer);
}

TEST_F(ReplicationGroupsTest, ReadonlyReachesOnlyThePoolsProvider) {
  auto base = build(kThreePools);
  groups_.setBase(*base);
  told();
  groups_.rediscover("beta", "g0");
  EXPECT_EQ(told(), std::vector<std::string>{"beta: rediscover g0"});
  groups_.rediscover("alpha", "g1");
  EXPECT_EQ(told(), std::vector<std::string>{"alpha: rediscover g1"});
  groups_.rediscover("gamma", "127.0.0.1:7301:1");  // no groups, no provider
  groups_.rediscover("unknown", "g0");
  EXPECT_TRUE(told().empty());
}

TEST_F(ReplicationGroupsTest, AFailoverIsCountedWhenANewMasterIsConfirmed) {
  auto base = build(kThreePools);
  groups_.setBase(*base);
  const ReplicationGroups::Key key{"alpha", "g0"};
  provider("alpha").report(view("g0", 7001, false));
  provider("alpha").report(view("g0", 7001, true));  // the first master: not a failover
  EXPECT_EQ(groups_.failoverStats().count(key), 0u);

  auto switching = view("g0", 7001, true);
  switching->failover_in_progress = true;
  provider("alpha").report(switching);
  auto promoted = view("g0", 7002, true);
  promoted->failover_follow_usec = 1500;  // measured by the provider: taken as is
  provider("alpha").report(promoted);
  ASSERT_EQ(groups_.failoverStats().count(key), 1u);
  EXPECT_EQ(groups_.failoverStats().at(key).failovers, 1u);
  EXPECT_EQ(groups_.failoverStats().at(key).last_follow_usec, 1500);
  provider("alpha").report(view("g0", 7002, true));  // the same master again
  EXPECT_EQ(groups_.failoverStats().at(key).failovers, 1u);

  provider("alpha").report(view("g0", 7002, false));
  provider("alpha").report(view("g0", 7001, true));  // measured here: since writes stopped
  EXPECT_EQ(groups_.failoverStats().at(key).failovers, 2u);
  EXPECT_GE(groups_.failoverStats().at(key).last_follow_usec, 0);
  EXPECT_EQ(groups_.failoverStats().count({"beta", "g0"}), 0u);
}

TEST_F(ReplicationGroupsTest, AReloadReplacesProvidersAndKeepsViewsOfGroupsThatStay) {
  auto base = build(kThreePools);
  groups_.setBase(*base);
  provider("alpha").report(view("g0", 7001, true));
  provider("alpha").report(view("g1", 7101, true));
  provider("beta").report(view("g0", 7201, true));
  auto kept = groups_.views().at({"alpha", "g0"});
  told();

  auto reloaded = build(kAlphaWithG0Only);
  groups_.setBase(*reloaded);
  EXPECT_EQ(told(), (std::vector<std::string>{"alpha: stop", "beta: stop", "alpha: made for g0",
                                              "alpha: start"}));
  ASSERT_EQ(groups_.views().size(), 1u);
  EXPECT_EQ(groups_.views().at({"alpha", "g0"}), kept);
  io_.poll();  // the stopped providers are destroyed from a handler of their own
  EXPECT_EQ(told(), (std::vector<std::string>{"alpha: destroyed", "beta: destroyed"}));

  groups_.rediscover("alpha", "g0");  // reaches the new provider
  EXPECT_EQ(told(), std::vector<std::string>{"alpha: rediscover g0"});
}

TEST_F(ReplicationGroupsTest, StopStopsEveryProviderAndDestroysThemLater) {
  auto base = build(kThreePools);
  groups_.setBase(*base);
  told();
  groups_.stop();
  EXPECT_EQ(told(), (std::vector<std::string>{"alpha: stop", "beta: stop"}));
  groups_.rediscover("alpha", "g0");
  EXPECT_TRUE(told().empty());
  io_.poll();
  EXPECT_EQ(told(), (std::vector<std::string>{"alpha: destroyed", "beta: destroyed"}));
  groups_.stop();  // again: nothing left to stop
  io_.poll();
  EXPECT_TRUE(told().empty());
}

}  // namespace
}  // namespace sy::server
