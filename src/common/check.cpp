#include "common/check.h"

#include <spdlog/spdlog.h>

#include <atomic>

namespace sy::common {
namespace {
std::atomic<uint64_t> g_bugs{0};
}  // namespace

bool reportBug(const char* condition, const char* message, const char* file, int line) {
  g_bugs.fetch_add(1, std::memory_order_relaxed);
  spdlog::critical("BUG at {}:{}: {} ({})", file, line, message, condition);
#ifndef NDEBUG
  spdlog::default_logger()->flush();
  std::abort();
#endif
  return true;
}

uint64_t bugCount() { return g_bugs.load(std::memory_order_relaxed); }

}  // namespace sy::common
