// Test helper: a Topology snapshot from configuration text, as the proxy builds one at start.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string_view>

#include "config/config.h"
#include "topology/topology.h"

namespace sy::topology {

// Parses `yaml` (errors throw ConfigError) and builds its snapshot; null, with a test
// failure, when an address cannot be resolved.
inline std::shared_ptr<const Topology> buildFromYaml(std::string_view yaml) {
  auto config = std::make_shared<const config::Config>(config::parseConfig(yaml, "t.yml"));
  auto built = buildTopology(config);
  EXPECT_TRUE(built.ok()) << built.error().message;
  return built.ok() ? *built : nullptr;
}

}  // namespace sy::topology
