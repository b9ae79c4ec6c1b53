// Time for deadlines and intervals. Monotonic time only; wall-clock time is read where a
// report needs it (stats timestamps), never for deadlines.
#pragma once

#include <chrono>
#include <cstdint>

namespace sy::common {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Millis = std::chrono::milliseconds;
using Micros = std::chrono::microseconds;

inline TimePoint now() { return Clock::now(); }

// A monotonic time that is cheaper to read but only as fine as the kernel's tick (1-4 ms),
// on the same time base as now(): good enough for request deadlines, which are milliseconds.
TimePoint coarseNow();

inline int64_t microsSince(TimePoint start, TimePoint end = now()) {
  return std::chrono::duration_cast<Micros>(end - start).count();
}

// Seconds since the Unix epoch, for reports.
inline int64_t unixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace sy::common
