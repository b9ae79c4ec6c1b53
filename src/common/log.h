// Logging: spdlog, configured once by app/. RateLimitedLog keeps a repeated event from
// flooding the log: count the event first (a metric), then log through one of these.
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "common/clock.h"

namespace sy::common {

// Maps nutcracker's -v verbosity (0..11, default 5 = notice) to an spdlog level.
spdlog::level::level_enum levelForVerbosity(int verbosity);

// Sets up the default logger: stderr, or the file at `path` when it is not empty.
// Throws std::runtime_error when the file cannot be opened (start-up only).
void setupLogging(const std::string& path, int verbosity);

// Allows one message per `interval`; reports how many were suppressed in between.
// Owned by one thread.
class RateLimitedLog {
 public:
  explicit RateLimitedLog(Millis interval = Millis(1000)) : interval_(interval) {}

  // True when a message may be written now; `suppressed` is set to the number of calls
  // refused since the last allowed one.
  bool allow(uint64_t& suppressed) {
    TimePoint t = now();
    if (t - last_ < interval_ && last_ != TimePoint{}) {
      ++suppressed_;
      return false;
    }
    last_ = t;
    suppressed = suppressed_;
    suppressed_ = 0;
    return true;
  }

 private:
  Millis interval_;
  TimePoint last_{};
  uint64_t suppressed_ = 0;
};

}  // namespace sy::common
