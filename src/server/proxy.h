// Proxy: the running data plane. Owns the worker threads and the listeners, and the current
// Topology snapshot they serve.
//
//   Proxy --owns--> Listener per pool (control thread) --round robin--> Worker x N
//
// applyTopology() switches everything to a new snapshot while clients stay connected: each
// worker gets the snapshot by post and swaps between events (see worker.h for what happens to
// connections and sessions); listeners follow on the control thread (below). The previous
// snapshot lives on while anything still refers to it (shared_ptr<const Topology>).
//
// Listeners on a swap, by pool name:
//   same listen address       -> kept; takes the new index and client_connections
//   new pool                  -> a listener is opened
//   removed pool              -> its listener is closed
//   listen address changed    -> the new address is bound first; once it listens, the old
//                                one is closed. If the new address cannot be bound the old
//                                listener stays open (serving the pool with its new
//                                settings) and the failure is logged; the rest of the new
//                                snapshot applies, and the next swap tries the bind again.
//
// auto_eject_hosts: the Ejector decides (control thread) and calls publishSnapshot(), which
// swaps in the configured snapshot with its ejections applied, by the same mechanism.
// Replication groups: ReplicationGroups publishes each group's latest view the same way:
//
//   running snapshot = withGroupViews(withEjections(configured, ejections), group views)
//
// Stopping without a failed request (drain): the listeners hand their sockets over
// (listen_sockets.h), each worker closes every session at its first moment between requests,
// and `drained` runs once no session is left; the caller then stop()s, also when its drain
// time is up first.
//
// Thread: constructed, started, swapped, drained and stopped on the control thread.
#pragma once

#include <asio/io_context.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "server/ejector.h"
#include "server/listen_sockets.h"
#include "server/listener.h"
#include "server/proxy_stats.h"
#include "server/replication_groups.h"
#include "server/worker.h"
#include "topology/topology.h"
#include "topology/topology_diff.h"

namespace sy::server {

class Proxy {
 public:
  Proxy(asio::io_context& control_io, std::shared_ptr<const topology::Topology> topology,
        unsigned threads, SocketBatch::Mode io_mode = SocketBatch::Mode::kIoUring);
  ~Proxy();

  // Starts the workers and opens every listener; on failure nothing keeps running.
  common::Result<void> start();
  void stop();
  // See above. Reloads after this change the workers but open no listener.
  void drain(std::function<void()> drained);
  // The sockets passed by the service manager and its store; set before start().
  ListenSockets& listenSockets() { return listen_sockets_; }
  // --max-clients: the most client connections of every pool together (0: no limit); set
  // before start(). A client past it gets Redis's "max number of clients reached".
  void setMaxClients(int64_t max_clients) { max_clients_ = max_clients; }

  // Switches the workers and listeners to `next` (see above) and returns what changed.
  // Listen addresses that could not be bound are logged and listed in `listen_errors`.
  struct SwapResult {
    topology::TopologyDiff diff;
    std::vector<std::string> listen_errors;
  };
  // `next` comes from the configuration; auto_eject_hosts ejections still in force are
  // applied to it (by name).
  SwapResult applyTopology(std::shared_ptr<const topology::Topology> next);

  const std::shared_ptr<const topology::Topology>& topology() const { return topology_; }
  const ProxyStats& stats() const { return stats_; }
  // INFO: workers post it to the control thread, where `render` builds the reply. Call
  // before start(); without it INFO answers an error.
  void setInfoRenderer(InfoRenderer render) {
    stats_.control_io = &control_io_;
    stats_.render_info = std::move(render);
  }
  const std::vector<std::unique_ptr<Worker>>& workers() const { return workers_; }
  const ReplicationGroups& groups() const { return groups_; }

 private:
  std::unique_ptr<Listener> makeListener(const topology::PoolTopology& pool);
  void swapListeners(std::vector<std::string>& errors);
  // Publishes base_ with the Ejector's current ejections and the groups' views to every
  // worker.
  void publishSnapshot();

  asio::io_context& control_io_;
  std::shared_ptr<const topology::Topology> base_;      // as configured
  std::shared_ptr<const topology::Topology> topology_;  // base_ with ejections: what runs
  ProxyStats stats_;
  Ejector ejector_;
  ReplicationGroups groups_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::map<std::string, std::unique_ptr<Listener>> listeners_;  // by pool name
  ListenSockets listen_sockets_;
  int64_t max_clients_ = 0;
  size_t next_worker_ = 0;
  bool running_ = false;
  bool draining_ = false;
};

}  // namespace sy::server
