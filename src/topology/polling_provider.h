// PollingProvider: what the polling GroupProviders (SentinelWatcher, RoleProber and
// ClusterProvider) share: the start/stop lifecycle, a poll every interval, the life token
// their callbacks check, and the connections to the data nodes.
//
//   start():  running, a new life token -> onStart() -> the first poll is scheduled
//   poll:     every `poll_interval` while running: onPoll(), then the next one is scheduled
//   stop():   not running, the life token dropped -> onStop() -> every node connection
//             closed -> the poll timer cancelled
//
// A subclass starts its discovery in onStart(), runs one poll's work in onPoll(), and closes
// what it owns besides nodes_ (and forgets its running rounds) in onStop(). Its destructor
// calls stop(): this one cannot, since by then the subclass, whose onStop() it would call, is
// already gone.
//
// Thread: the control thread running `io`; every method and hook runs there.
// Lifetime: every asynchronous callback of a subclass holds life() and does nothing once it
// has expired (timers and connections may call back after stop()).
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <memory>

#include "common/clock.h"
#include "topology/control_connection.h"
#include "topology/group_provider.h"

namespace sy::topology {

class PollingProvider : public GroupProvider {
 public:
  // `node_options` for the connections to the data nodes (nodes_); onPoll() runs every
  // `poll_interval` while started.
  PollingProvider(asio::io_context& io, ControlConnectionOptions node_options,
                  common::Millis poll_interval);
  ~PollingProvider() override = default;
  PollingProvider(const PollingProvider&) = delete;
  PollingProvider& operator=(const PollingProvider&) = delete;

  // Calls onStart(), then onPoll() every poll interval; a no-op while running.
  void start() final;
  // Closes every connection and timer (onStop(), then nodes_ and the poll timer); no listener
  // call follows.
  void stop() final;

 protected:
  // Begins discovery; running() and life() are already set.
  virtual void onStart() = 0;
  // Closes what the subclass owns besides nodes_ and forgets its running rounds; running() is
  // already false and life() expired.
  virtual void onStop() = 0;
  // One poll's work (the poll timer fired while running).
  virtual void onPoll() = 0;

  bool running() const { return running_; }
  // Alive from start() to stop(): a callback holds this and does nothing once it has expired.
  std::weak_ptr<int> life() const { return life_; }

  NodeConnections nodes_;

 private:
  void schedulePoll();

  asio::steady_timer poll_timer_;
  common::Millis poll_interval_;
  bool running_ = false;
  std::shared_ptr<int> life_;
};

}  // namespace sy::topology
