// The three kinds of check (STYLE.md rule 4):
//   SY_ASSERT(cond)      an invariant we can prove; compiled out in release builds.
//   SY_BUG(cond, msg)    "this should never happen" on a path input cannot reach. In debug
//                        builds it aborts; in release it logs (rate-limited), counts, and the
//                        expression evaluates to true so the caller can recover.
//   ordinary handling    for anything a client, a backend or the OS can cause. Never assert
//                        on input.
#pragma once

#include <cstdint>
#include <cstdlib>

namespace sy::common {

// Records a bug: logs it (at most once a second per call site) and counts it. Aborts in
// debug builds. Returns true so SY_BUG can be used as a condition.
bool reportBug(const char* condition, const char* message, const char* file, int line);

// Bugs reported since start, summed over all threads (for metrics).
uint64_t bugCount();

}  // namespace sy::common

#ifdef NDEBUG
#define SY_ASSERT(cond) ((void)0)
#else
#define SY_ASSERT(cond) \
  ((cond) ? (void)0 : (void)::sy::common::reportBug(#cond, "assertion failed", __FILE__, __LINE__))
#endif

// Usage: if (SY_BUG(fifo.empty(), "reply with no request in flight")) { recover(); }
#define SY_BUG(cond, msg) \
  ((cond) ? ::sy::common::reportBug(#cond, (msg), __FILE__, __LINE__) : false)
