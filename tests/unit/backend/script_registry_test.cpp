// ScriptRegistry and ScriptSightings: dedupe, order, bounds and the counters.
#include "backend/script_registry.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace sy::backend {
namespace {

std::vector<std::string> since(const ScriptRegistry& registry, uint64_t version) {
  std::vector<std::string> bodies;
  registry.forEachSince(version, [&](std::string_view body) { bodies.emplace_back(body); });
  return bodies;
}

TEST(ScriptRegistryTest, KeepsEachBodyOnceInRegistrationOrder) {
  ScriptRegistry registry;
  EXPECT_EQ(registry.version(), 0u);
  EXPECT_EQ(registry.add("return 1"), ScriptRegistry::Added::kNew);
  EXPECT_EQ(registry.add("return 2"), ScriptRegistry::Added::kNew);
  EXPECT_EQ(registry.add("return 1"), ScriptRegistry::Added::kKnown);
  EXPECT_EQ(registry.version(), 2u);
  EXPECT_EQ(registry.bytes(), 16u);
  EXPECT_EQ(since(registry, 0), (std::vector<std::string>{"return 1", "return 2"}));
  EXPECT_EQ(since(registry, 1), (std::vector<std::string>{"return 2"}));
  EXPECT_TRUE(since(registry, 2).empty());
  EXPECT_EQ(registry.forEachSince(1, [](std::string_view) {}), 2u);
}

TEST(ScriptRegistryTest, BinaryBodiesAreKeptByteForByte) {
  ScriptRegistry registry;
  const std::string body("return '\0\r\n'", 13);
  EXPECT_EQ(registry.add(body), ScriptRegistry::Added::kNew);
  EXPECT_EQ(since(registry, 0), std::vector<std::string>{body});
}

TEST(ScriptRegistryTest, TheFirstScriptPastTheCountBoundClosesIt) {
  ScriptRegistry registry(2, 1024);
  EXPECT_EQ(registry.add("a"), ScriptRegistry::Added::kNew);
  EXPECT_EQ(registry.add("b"), ScriptRegistry::Added::kNew);
  EXPECT_FALSE(registry.closed());
  EXPECT_EQ(registry.add("c"), ScriptRegistry::Added::kNotCarried);
  EXPECT_TRUE(registry.closed());
  // Known scripts stay known; new ones are counted, not kept.
  EXPECT_EQ(registry.add("a"), ScriptRegistry::Added::kKnown);
  EXPECT_EQ(registry.add("d"), ScriptRegistry::Added::kNotCarried);
  EXPECT_EQ(registry.version(), 2u);
  EXPECT_EQ(registry.not_carried.load(), 2u);
}

TEST(ScriptRegistryTest, TheByteBoundCountsEveryBody) {
  ScriptRegistry registry(100, 10);
  EXPECT_EQ(registry.add("12345"), ScriptRegistry::Added::kNew);
  EXPECT_EQ(registry.add("67890"), ScriptRegistry::Added::kNew);  // exactly at the bound
  EXPECT_EQ(registry.add("x"), ScriptRegistry::Added::kNotCarried);
  // Closed: even a body that would fit is not taken any more.
  EXPECT_EQ(registry.add(""), ScriptRegistry::Added::kNotCarried);
  EXPECT_EQ(registry.bytes(), 10u);
  EXPECT_EQ(registry.version(), 2u);
}

TEST(ScriptRegistryTest, LoadErrorsAreCounted) {
  ScriptRegistry registry;
  registry.noteLoadError("g0", "ERR Error compiling script");
  registry.noteLoadError("g0", "ERR Error compiling script");
  EXPECT_EQ(registry.reload_errors.load(), 2u);
}

TEST(ScriptSightingsTest, RegistersABodyTheFirstTimeItsWorkerSeesIt) {
  ScriptRegistry registry;
  ScriptSightings worker_a(&registry), worker_b(&registry);
  worker_a.see("return 1");
  worker_a.see("return 1");
  worker_b.see("return 1");  // another worker: asks the registry, which knows it
  worker_a.see("return 2");
  EXPECT_EQ(registry.version(), 2u);
  EXPECT_EQ(worker_a.size(), 2u);
  EXPECT_EQ(worker_b.size(), 1u);
}

TEST(ScriptRegistryTest, AFlushDropsEveryScriptAndTheVersionKeepsGrowing) {
  ScriptRegistry registry(2, 1024);
  registry.add("return 1");
  registry.add("return 2");
  EXPECT_EQ(registry.add("return 3"), ScriptRegistry::Added::kNotCarried);  // closed
  registry.forget();
  EXPECT_EQ(registry.count(), 0u);
  EXPECT_EQ(registry.bytes(), 0u);
  EXPECT_EQ(registry.version(), 2u);  // a connection that loaded 2 has everything held
  EXPECT_TRUE(since(registry, 2).empty());
  EXPECT_EQ(registry.add("return 1"), ScriptRegistry::Added::kNew);  // open, and new again
  EXPECT_EQ(registry.version(), 3u);
  EXPECT_EQ(registry.count(), 1u);
  EXPECT_EQ(since(registry, 2), std::vector<std::string>{"return 1"});
  EXPECT_EQ(since(registry, 0), std::vector<std::string>{"return 1"});  // from before a flush
  EXPECT_EQ(registry.forEachSince(0, [](std::string_view) {}), 3u);
}

TEST(ScriptSightingsTest, AfterAFlushAScriptSeenBeforeIsRegisteredAgain) {
  ScriptRegistry registry;
  ScriptSightings worker(&registry);
  worker.see("return 1");
  registry.forget();
  worker.see("return 1");
  EXPECT_EQ(registry.count(), 1u);
  EXPECT_EQ(registry.version(), 2u);
}

TEST(ScriptSightingsTest, PastTheBoundsNothingIsRememberedAndEveryRequestIsCounted) {
  ScriptRegistry registry(1, 1024);
  ScriptSightings worker(&registry);
  worker.see("kept");
  worker.see("over");
  worker.see("over");
  worker.see("kept");
  EXPECT_EQ(registry.version(), 1u);
  EXPECT_EQ(worker.size(), 1u);
  EXPECT_EQ(registry.not_carried.load(), 2u);
}

TEST(ScriptSightingsTest, WithoutARegistryNothingHappens) {
  ScriptSightings worker;
  worker.see("return 1");
  EXPECT_EQ(worker.size(), 0u);
}

}  // namespace
}  // namespace sy::backend
