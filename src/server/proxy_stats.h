// Counters of the proxy's client side. Per-worker counters are written by their worker only
// (common::Counter) and summed when read; the few process-wide ones live on the accept path,
// never on the request path.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "common/clock.h"
#include "common/counter.h"

namespace sy::server {

// twemproxy's per-pool client statistics, for one worker.
struct PoolCounters {
  common::Counter client_eof, client_err, client_connections, forward_error, fragments;
};

struct WorkerCounters {
  explicit WorkerCounters(size_t pool_count)
      : pools(std::make_unique<PoolCounters[]>(pool_count)) {}
  std::unique_ptr<PoolCounters[]> pools;
};

// Process-wide connection accounting, shared by listeners (accept) and workers (close).
struct ProxyStats {
  explicit ProxyStats(size_t pool_count)
      : pool_clients(std::make_unique<std::atomic<int64_t>[]>(pool_count)) {}
  std::atomic<uint64_t> total_connections{0};
  std::atomic<int64_t> curr_connections{0};
  std::unique_ptr<std::atomic<int64_t>[]> pool_clients;  // open client connections per pool
  common::TimePoint started = common::now();
};

}  // namespace sy::server
