// The statistics registry: every statistic switchyard keeps is declared once here, and every
// output (the twemproxy stats JSON, -D, Prometheus, INFO) is generated from these lists.
//
//   SY_POOL_STATS / SY_SERVER_STATS --> enums PoolStat, ServerStat
//                                   --> StatArray<...>: one common::Counter per entry, per worker
//                                   --> kPoolStatFields / kServerStatFields: names, kinds, help
//   kCommandStatFields             --> CommandCounters (per worker, per pool, per command id)
//   LatencyHistogram               --> per worker, per pool and per server connection
//
// The twemproxy lists keep nutcracker 0.5.0's order, which is the order its JSON prints.
// Every counter has exactly one writer thread (its worker) and is summed by readers on other
// threads: see common::Counter. Nothing here allocates or locks on the request path.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "common/counter.h"

namespace sy::common {

enum class StatKind { kCounter, kGauge, kTimestamp };

// ACTION(name, kind, description)
#define SY_POOL_STATS(ACTION)                                                             \
  ACTION(client_eof, kCounter, "client connections closed by the client")                 \
  ACTION(client_err, kCounter, "client connections closed on an error")                   \
  ACTION(client_connections, kGauge, "open client connections")                           \
  ACTION(server_ejects, kCounter, "times a backend was taken out of the distribution")    \
  ACTION(forward_error, kCounter, "requests answered with an error instead of forwarded") \
  ACTION(fragments, kCounter, "sub-requests made by splitting multi-key requests")

#define SY_SERVER_STATS(ACTION)                                                                 \
  ACTION(server_eof, kCounter, "backend connections closed by the backend")                     \
  ACTION(server_err, kCounter, "backend connections failed on an error")                        \
  ACTION(server_timedout, kCounter, "requests that timed out")                                  \
  ACTION(server_connections, kGauge, "open backend connections")                                \
  ACTION(server_ejected_at, kTimestamp, "when the backend was last ejected (usec since epoch)") \
  ACTION(requests, kCounter, "requests sent")                                                   \
  ACTION(request_bytes, kCounter, "request bytes sent")                                         \
  ACTION(responses, kCounter, "replies received")                                               \
  ACTION(response_bytes, kCounter, "reply bytes received")                                      \
  ACTION(in_queue, kGauge, "requests queued, not yet written")                                  \
  ACTION(in_queue_bytes, kGauge, "bytes of requests queued, not yet written")                   \
  ACTION(out_queue, kGauge, "requests written, waiting for a reply")                            \
  ACTION(out_queue_bytes, kGauge, "bytes of requests written, waiting for a reply")

// Per pool and per command, as Redis 7's INFO commandstats counts them:
//   calls:          requests the proxy executed (answered locally or forwarded), failed or not
//   usec:           their total latency, from receipt to complete reply, in microseconds
//   rejected_calls: requests refused before execution (policy, arity, CROSSSLOT, NOAUTH)
//   failed_calls:   executed requests whose reply was an error (a subset of calls)
#define SY_COMMAND_STATS(ACTION)                                                \
  ACTION(calls, kCounter, "requests executed (answered locally or forwarded)")  \
  ACTION(usec, kCounter, "total latency of executed requests, in microseconds") \
  ACTION(rejected_calls, kCounter, "requests refused before execution")         \
  ACTION(failed_calls, kCounter, "executed requests whose reply was an error")

#define SY_STAT_ENUM(name, kind, description) name,
enum class PoolStat { SY_POOL_STATS(SY_STAT_ENUM) kCount };
enum class ServerStat { SY_SERVER_STATS(SY_STAT_ENUM) kCount };
enum class CommandStat { SY_COMMAND_STATS(SY_STAT_ENUM) kCount };
#undef SY_STAT_ENUM

struct StatField {
  const char* name;
  StatKind kind;
  const char* description;
};

#define SY_STAT_FIELD(name, kind, description) StatField{#name, StatKind::kind, description},
inline constexpr StatField kPoolStatFields[] = {SY_POOL_STATS(SY_STAT_FIELD)};
inline constexpr StatField kServerStatFields[] = {SY_SERVER_STATS(SY_STAT_FIELD)};
inline constexpr StatField kCommandStatFields[] = {SY_COMMAND_STATS(SY_STAT_FIELD)};
#undef SY_STAT_FIELD

template <typename Stat>
inline constexpr size_t kStatCount = static_cast<size_t>(Stat::kCount);

// One Counter per entry of a stat list, indexed by its enum. Writer: the owning worker.
template <typename Stat>
class StatArray {
 public:
  Counter& operator[](Stat stat) { return counters_[static_cast<size_t>(stat)]; }
  const Counter& operator[](Stat stat) const { return counters_[static_cast<size_t>(stat)]; }
  const Counter& at(size_t index) const { return counters_[index]; }

 private:
  std::array<Counter, kStatCount<Stat>> counters_;
};

using CommandCounters = StatArray<CommandStat>;

// Request latency in fixed log2 buckets of microseconds. Bucket b counts latencies in
// (2^(b-1), 2^b] us (bucket 0: up to 1 us); the last bucket counts everything above
// 2^(kFiniteBuckets-1) us (about 2.1 s). The bucket index is bit arithmetic, no search.
// Writer: the owning worker; readers sum snapshots (see HistogramValues).
class LatencyHistogram {
 public:
  static constexpr size_t kFiniteBuckets = 22;  // upper bounds 1 us .. 2^21 us
  static constexpr size_t kBuckets = kFiniteBuckets + 1;

  static constexpr size_t bucketFor(uint64_t usec) {
    size_t b = static_cast<size_t>(std::bit_width(usec > 0 ? usec - 1 : 0));
    return b < kFiniteBuckets ? b : kFiniteBuckets;
  }
  // The inclusive upper bound of finite bucket `b`, in microseconds.
  static constexpr uint64_t upperBoundUsec(size_t b) { return uint64_t{1} << b; }

  void record(uint64_t usec) {
    buckets_[bucketFor(usec)].add();
    sum_usec_.add(usec);
  }
  uint64_t bucket(size_t b) const { return buckets_[b].get(); }
  uint64_t sumUsec() const { return sum_usec_.get(); }

 private:
  std::array<Counter, kBuckets> buckets_;
  Counter sum_usec_;
};

// A histogram read and summed by a reader: plain numbers, non-cumulative buckets.
struct HistogramValues {
  std::array<uint64_t, LatencyHistogram::kBuckets> buckets{};
  uint64_t sum_usec = 0;

  void add(const LatencyHistogram& histogram) {
    for (size_t b = 0; b < buckets.size(); ++b) buckets[b] += histogram.bucket(b);
    sum_usec += histogram.sumUsec();
  }
  uint64_t count() const {
    uint64_t total = 0;
    for (uint64_t n : buckets) total += n;
    return total;
  }
  // The upper bound (us) of the bucket holding the q-quantile (0 < q <= 1); 0 when empty,
  // UINT64_MAX when it falls in the overflow bucket.
  uint64_t quantileUpperBoundUsec(double q) const {
    uint64_t total = count();
    if (total == 0) return 0;
    auto rank = static_cast<uint64_t>(q * static_cast<double>(total) + 0.5);
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (size_t b = 0; b < LatencyHistogram::kFiniteBuckets; ++b) {
      seen += buckets[b];
      if (seen >= rank) return LatencyHistogram::upperBoundUsec(b);
    }
    return UINT64_MAX;
  }
};

}  // namespace sy::common
