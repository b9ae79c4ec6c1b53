#include "app/reload.h"

#include <spdlog/spdlog.h>

#include "config/config.h"

namespace sy::app {

common::Result<std::shared_ptr<const topology::Topology>> loadTopology(const std::string& path) {
  std::shared_ptr<const config::Config> config;
  try {
    config = std::make_shared<const config::Config>(config::loadConfigFile(path));
  } catch (const config::ConfigError& error) {
    return common::makeError(error.what());
  }
  auto topology = topology::buildTopology(config);
  if (!topology.ok()) return topology.error();
  return *topology;
}

bool reloadConfig(server::Proxy& proxy, const std::string& path) {
  spdlog::info("reload: reading '{}'", path);
  auto loaded = loadTopology(path);
  if (!loaded.ok()) {
    spdlog::error("reload refused, the previous configuration stays in force: {}",
                  loaded.error().message);
    spdlog::default_logger()->flush();
    return false;
  }
  auto result = proxy.applyTopology(*loaded);
  spdlog::info("reload applied: {}", result.diff.summary());
  spdlog::default_logger()->flush();
  return true;
}

}  // namespace sy::app
