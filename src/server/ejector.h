// Ejector: auto_eject_hosts on the control thread. Every decision is taken here, in one
// place, and published as a new snapshot, so all workers agree on where keys go.
//
//   worker: BackendConnection --HealthObserver (ServerHealth)--post--> control thread
//   control: EjectionTracker: server_failure_limit failures in a row -> ejected
//            -> publish(): the Proxy swaps in base + ejections (keys move to live servers)
//            after server_retry_timeout: probe on a fresh topology::ControlConnection
//            ([AUTH redis_auth] + PING, one deadline: the pool's timeout, else 1 s)
//              +PONG -> readmitted, publish(); anything else -> probe again a timeout later
//
// nutcracker puts an ejected server back blindly when its retry time passes; here it comes
// back only once a probe answers, so a server that is still down never takes keys back.
//
// Thread: construction, setBase(), observer() and everything else on the control thread;
// the ServerHealth observers are called on worker threads and only post.
#pragma once

#include <asio/io_context.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "backend/backend_connection.h"
#include "topology/ejection.h"
#include "topology/topology.h"

namespace sy::server {

class Ejector {
 public:
  // `publish` is called (control thread) whenever a server is ejected or readmitted.
  Ejector(asio::io_context& control_io, std::function<void()> publish);
  ~Ejector();
  Ejector(const Ejector&) = delete;
  Ejector& operator=(const Ejector&) = delete;

  // The configuration-derived snapshot (start-up or reload): forgets servers it no longer
  // has, and pools without auto_eject_hosts.
  void setBase(std::shared_ptr<const topology::Topology> base);
  // The observer a connection of `server` in `pool` reports to (created when new; never
  // removed, so connections may keep the pointer).
  backend::HealthObserver& observer(const std::string& pool, const std::string& server);
  const topology::EjectionTracker& tracker() const { return tracker_; }
  // Cancels every probe (its timer and connection); no probe calls back afterwards.
  void stop();

 private:
  class ServerHealth;
  struct Probe;
  using Key = std::pair<std::string, std::string>;

  void onReport(const Key& key, bool ok);
  void scheduleProbe(const Key& key);
  void startProbe(const std::shared_ptr<Probe>& probe);
  void finishProbe(const std::shared_ptr<Probe>& probe, bool ok, const std::string& why);
  static void cancelProbe(Probe& probe);
  const topology::PoolTopology* ejectingPool(const std::string& pool) const;

  asio::io_context& io_;
  std::function<void()> publish_;
  std::shared_ptr<const topology::Topology> base_;
  topology::EjectionTracker tracker_;
  std::map<Key, std::unique_ptr<ServerHealth>> observers_;
  std::map<Key, std::shared_ptr<Probe>> probes_;  // one per ejected server
  bool stopped_ = false;
};

}  // namespace sy::server
