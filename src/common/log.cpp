#include "common/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace sy::common {

spdlog::level::level_enum levelForVerbosity(int verbosity) {
  // nutcracker: 0 emerg .. 3 error, 4 warn, 5 notice, 6 info, 7+ debug/verbose.
  if (verbosity <= 3) return spdlog::level::err;
  if (verbosity == 4) return spdlog::level::warn;
  if (verbosity <= 6) return spdlog::level::info;
  if (verbosity <= 8) return spdlog::level::debug;
  return spdlog::level::trace;
}

void setupLogging(const std::string& path, int verbosity) {
  std::shared_ptr<spdlog::logger> logger;
  if (path.empty()) {
    logger = spdlog::stderr_color_mt("switchyard");
  } else {
    logger = spdlog::basic_logger_mt("switchyard", path);
  }
  logger->set_level(levelForVerbosity(verbosity));
  logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] %^%l%$ %v");
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

}  // namespace sy::common
