// Key distribution over a pool's servers: ketama, modula, random (twemproxy-compat.md C3, C4).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sy::hash {

enum class Distribution { kKetama, kModula, kRandom };

std::string_view distributionName(Distribution distribution);
std::optional<Distribution> parseDistribution(std::string_view name);

}  // namespace sy::hash
