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

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "backend/backend_connection.h"
#include "common/clock.h"
#include "common/counter.h"

namespace sy::server {

// twemproxy's per-pool client statistics, for one worker.
struct PoolCounters {
  common::Counter client_eof, client_err, client_connections, forward_error, fragments;
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

 private:
  std::map<std::string, std::unique_ptr<PoolCounters>, std::less<>> pools_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<backend::BackendCounters>> servers_;
};

// Process-wide connection accounting, shared by listeners (accept) and workers (close).
class ProxyStats {
 public:
  // Control thread: the count of open client connections of the pool named `pool` (created
  // at 0 when new). Listeners add on accept; workers subtract on close, through the pointer.
  std::atomic<int64_t>& poolClients(std::string_view pool);

  std::atomic<uint64_t> total_connections{0};
  std::atomic<int64_t> curr_connections{0};
  common::TimePoint started = common::now();

 private:
  std::map<std::string, std::unique_ptr<std::atomic<int64_t>>, std::less<>> pool_clients_;
};

}  // namespace sy::server
