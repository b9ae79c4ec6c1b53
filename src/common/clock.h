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

// The time of the event the current thread is handling, for latency statistics. A worker
// stamps it once per batch of events (a client epoll batch, a backend read), so requests
// received or completed in one batch share one clock read (a clock read costs about 100 ns on
// a VM, as much as the rest of a request's bookkeeping). Thread-local: each worker its own.
inline TimePoint& eventTimeSlot() {
  thread_local TimePoint time{};
  return time;
}
inline TimePoint stampEventTime() { return eventTimeSlot() = now(); }
inline void setEventTime(TimePoint time) { eventTimeSlot() = time; }
inline TimePoint eventTime() { return eventTimeSlot(); }

// Microseconds from `start` to `end`, 0 when `end` is not after `start`.
inline uint64_t elapsedMicros(TimePoint start, TimePoint end) {
  return end > start
             ? static_cast<uint64_t>(std::chrono::duration_cast<Micros>(end - start).count())
             : 0;
}

// Milliseconds from `start` to now.
inline int64_t elapsedMillis(TimePoint start) {
  return std::chrono::duration_cast<Millis>(now() - start).count();
}

// Seconds since the Unix epoch, for reports.
inline int64_t unixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace sy::common
