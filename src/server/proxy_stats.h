// Counters of the proxy's client side. Per-worker counters are written by their worker only
// (common::Counter) and summed when read; the few process-wide ones live on the accept path,
// never on the request path.
#pragma once

#include <asio/io_context.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "command/command.h"
#include "common/clock.h"
#include "common/counter.h"
#include "common/stats_registry.h"

namespace sy::server {

// One pool's statistics on one worker: twemproxy's per-pool list (common::PoolStat), the
// latency of every request answered (receipt to complete reply) and Redis-style command
// statistics indexed by command::commandId(). Written by the worker only; no allocation after
// construction.
struct PoolCounters : common::StatArray<common::PoolStat> {
  PoolCounters()
      : commands(std::make_unique<common::CommandCounters[]>(command::commandIdCount())) {}

  // A request of command `command_id` (kNoCommand: none known) received at `received` got a
  // reply at `done`; `error` when the reply is an error.
  void countReply(uint16_t command_id, common::TimePoint received, common::TimePoint done,
                  bool error) {
    uint64_t usec = common::elapsedMicros(received, done);
    latency.record(usec);
    if (command_id == kNoCommand) return;
    common::CommandCounters& counters = commands[command_id];
    counters[common::CommandStat::calls].add();
    counters[common::CommandStat::usec].add(usec);
    if (error) counters[common::CommandStat::failed_calls].add();
  }
  // A request of a known command refused before execution.
  void countRejected(uint16_t command_id) {
    commands[command_id][common::CommandStat::rejected_calls].add();
  }

  static constexpr uint16_t kNoCommand = 0xffff;
  common::LatencyHistogram latency;
  std::unique_ptr<common::CommandCounters[]> commands;
};

struct WorkerCounters {
  explicit WorkerCounters(size_t pool_count)
      : pools(std::make_unique<PoolCounters[]>(pool_count)) {}
  std::unique_ptr<PoolCounters[]> pools;
};

// Renders the proxy's INFO reply for the client of pool `pool_index` asking for `sections`.
// Runs on the control thread (see info_command.h).
using InfoRenderer =
    std::function<std::string(uint32_t pool_index, std::span<const std::string> sections)>;

// Process-wide connection accounting, shared by listeners (accept) and workers (close).
struct ProxyStats {
  explicit ProxyStats(size_t pool_count)
      : pool_clients(std::make_unique<std::atomic<int64_t>[]>(pool_count)) {}
  std::atomic<uint64_t> total_connections{0};
  std::atomic<int64_t> curr_connections{0};
  std::unique_ptr<std::atomic<int64_t>[]> pool_clients;  // open client connections per pool
  std::atomic<uint64_t> rejected_connections{0};         // refused past client_connections
  common::TimePoint started = common::now();
  // INFO: set once by the application before the workers start, read-only afterwards. The
  // workers post INFO to `control_io`, where `render_info` builds the reply; unset means
  // INFO answers an error.
  asio::io_context* control_io = nullptr;
  InfoRenderer render_info;
};

}  // namespace sy::server
