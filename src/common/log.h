// Logging: spdlog, configured once by app/. RateLimitedLog keeps a repeated event from
// flooding the log: count the event first (a metric), then log through one of these.
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/result.h"

namespace sy::common {

// nutcracker's -v range: 0 (emergencies only) to 11 (everything).
inline constexpr int kMaxVerbosity = 11;

// Maps nutcracker's -v verbosity (0..11, default 5 = notice) to an spdlog level.
spdlog::level::level_enum levelForVerbosity(int verbosity);

class ReopenableFileSink;

// The proxy's log as nutcracker keeps it: stderr, or the file named by -o, at the level of the
// -v verbosity; reopened on SIGHUP (after logrotate renamed the file) and one step more or
// less verbose on SIGTTIN / SIGTTOU. The constructor installs spdlog's default logger, which
// is never replaced afterwards (spdlog forbids swapping it while other threads log): reopen()
// swaps the open file under the sink's own lock instead.
// Thread: made and called on the control thread; every thread logs through spdlog meanwhile.
class ProcessLog {
 public:
  // Throws std::runtime_error when the file cannot be opened (start-up only).
  ProcessLog(const std::string& path, int verbosity);
  ~ProcessLog();
  ProcessLog(const ProcessLog&) = delete;
  ProcessLog& operator=(const ProcessLog&) = delete;

  // Opens the file at the same path again, creating it if it was moved away, and closes the
  // old one. On failure the old file stays in use and the error says why. Does nothing when
  // logging to stderr.
  Result<void> reopen();

  // Moves the verbosity by `delta`, kept within 0..kMaxVerbosity, and logs the new one.
  // Returns the verbosity now in force.
  int changeVerbosity(int delta);

  int verbosity() const { return verbosity_; }

 private:
  std::string path_;
  int verbosity_;
  std::shared_ptr<ReopenableFileSink> file_;  // null when logging to stderr
};

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
