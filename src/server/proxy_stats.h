// Counters of the proxy's client side, and where every counter block lives.
//
// Per-worker counters are written by their worker only (common::Counter) and summed when
// read. They are found by NAME (pool name, server identity), never by a snapshot's index, so
// they stay correct when a topology swap adds, removes or reorders pools and servers: a
// block is created the first time a name is seen and is never removed, so its address is
// stable and a worker (or a connection, or a session of a removed pool) may keep a pointer
// to it for as long as it likes.
//
// Thread: the maps (WorkerCounters, ProxyStats::poolClients) are read and extended on the
// control thread only; workers receive pointers to blocks inside a WorkerView and never
// touch the maps.
#pragma once

#include <asio/io_context.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "backend/backend_connection.h"
#include "backend/script_registry.h"
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
  // Cluster pools (server/worker_cluster.cpp): redirections followed, and TRYAGAIN or
  // CLUSTERDOWN replies waited out. Not twemproxy fields: the stats JSON shows them for
  // cluster pools only.
  common::Counter cluster_moved;
  common::Counter cluster_ask;
  common::Counter cluster_retries;
  // Client limits (not twemproxy fields: Prometheus and INFO only): clients closed by
  // client_idle_timeout, and requests refused by max_request_args, max_argument_bytes or
  // max_request_bytes (each also closes its client, counted in client_err).
  common::Counter clients_idle_closed;
  common::Counter requests_over_limit;
  std::unique_ptr<common::CommandCounters[]> commands;
};

// Every pool's and server's counters of one worker, by name.
class WorkerCounters {
 public:
  // Control thread: the block for `pool` (created empty when new).
  PoolCounters& pool(std::string_view pool);
  backend::BackendCounters& server(std::string_view pool, std::string_view server);
  // Control thread: null when the name was never seen.
  const PoolCounters* findPool(std::string_view pool) const;
  const backend::BackendCounters* findServer(std::string_view pool, std::string_view server) const;
  // Control thread: calls `visit` with every server block ever created, removed servers too.
  template <typename Visit>
  void forEachServer(Visit&& visit) const {
    for (const auto& [name, counters] : servers_) visit(*counters);
  }

 private:
  std::map<std::string, std::unique_ptr<PoolCounters>, std::less<>> pools_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<backend::BackendCounters>> servers_;
};

// Renders the proxy's INFO reply for a client of the pool named `pool` (empty: its pool was
// removed by a reload) asking for `sections`. Runs on the control thread (see info_command.h).
using InfoRenderer =
    std::function<std::string(std::string_view pool, std::span<const std::string> sections)>;

// Process-wide connection accounting, shared by listeners (accept) and workers (close).
class ProxyStats {
 public:
  // Control thread: the count of open client connections of the pool named `pool` (created
  // at 0 when new). Listeners add on accept; workers subtract on close, through the pointer.
  std::atomic<int64_t>& poolClients(std::string_view pool);
  // Control thread: the count of open private connections to server `server` of pool
  // `pool` across the workers (created at 0), which private_connections bounds.
  std::atomic<int64_t>& privateConnections(std::string_view pool, std::string_view server);

  std::atomic<uint64_t> total_connections{0};
  std::atomic<int64_t> curr_connections{0};
  std::atomic<uint64_t> rejected_connections{
      0};  // refused past client_connections or --max-clients
  // Subscriptions made again on a new connection after a failover or a lost connection
  // (server/subscriptions.h); workers add, rarely.
  std::atomic<uint64_t> resubscribes{0};
  // Blocking commands sent again to a group's new master after a failover ended their block
  // on the old one before any reply (server/session_private.cpp); workers add, rarely.
  std::atomic<uint64_t> blocked_resends{0};
  // The scripts clients sent, loaded on every backend connection the workers open
  // (backend/script_registry.h), with their counters.
  backend::ScriptRegistry scripts;
  common::TimePoint started = common::now();
  // INFO: set once by the application before the workers start, read-only afterwards. The
  // workers post INFO to `control_io`, where `render_info` builds the reply; unset means
  // INFO answers an error.
  asio::io_context* control_io = nullptr;
  InfoRenderer render_info;

 private:
  std::map<std::string, std::unique_ptr<std::atomic<int64_t>>, std::less<>> pool_clients_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<std::atomic<int64_t>>>
      private_connections_;
};

}  // namespace sy::server
