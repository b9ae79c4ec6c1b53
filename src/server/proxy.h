// Proxy: the running data plane. Owns the worker threads and the listeners, all built from
// one Topology snapshot.
//
//   Proxy --owns--> Listener per pool (control thread) --round robin--> Worker x N
//
// Thread: constructed, started and stopped on the control thread.
#pragma once

#include <asio/io_context.hpp>

#include <memory>
#include <vector>

#include "common/result.h"
#include "server/listener.h"
#include "server/proxy_stats.h"
#include "server/worker.h"
#include "topology/topology.h"

namespace sy::server {

class Proxy {
 public:
  Proxy(asio::io_context& control_io, std::shared_ptr<const topology::Topology> topology,
        unsigned threads);
  ~Proxy();

  // Starts the workers and opens every listener; on failure nothing keeps running.
  common::Result<void> start();
  void stop();

  const ProxyStats& stats() const { return stats_; }
  // INFO: workers post it to the control thread, where `render` builds the reply. Call
  // before start(); without it INFO answers an error.
  void setInfoRenderer(InfoRenderer render) {
    stats_.control_io = &control_io_;
    stats_.render_info = std::move(render);
  }
  const std::vector<std::unique_ptr<Worker>>& workers() const { return workers_; }

 private:
  asio::io_context& control_io_;
  std::shared_ptr<const topology::Topology> topology_;
  ProxyStats stats_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  size_t next_worker_ = 0;
  bool running_ = false;
};

}  // namespace sy::server
