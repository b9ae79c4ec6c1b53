// SentinelWatcher: discovers and follows Sentinel-managed replication groups, as Redis's
// guidelines for Sentinel clients describe, and publishes one immutable GroupView per group
// whenever what it knows changes. A GroupProvider (group_provider.h) that polls, like RoleProber
// (PollingProvider, polling_provider.h: the poll is the poll_interval backstop).
//
//   round(group):  Sentinels in turn (reachable first, short deadlines)
//                    SENTINEL get-master-addr-by-name / replicas / sentinels   (pipelined)
//                  -> master:  ROLE + INFO replication   (only "master" confirms it)
//                  -> replicas not flagged s_down/o_down/disconnected: ROLE
//                  -> GroupView; published (listener + one log line) if !sameState(last)
//                  no Sentinel answered: keep the last known master/replicas, re-probe them
//
//   triggers:      start, Sentinel events (a SUBSCRIBE connection per Sentinel: +switch-master,
//                  +sdown, +odown, +slave, +convert-to-slave, +role-change, +failover-end...),
//                  a poll every poll_interval as a backstop (which also PINGs every
//                  Sentinel, so each one's reachability stays current), a quick retry while the
//                  master is unconfirmed, a re-subscribe (events may have been missed).
//   A trigger during a round for the same group runs one more round right after it.
//
//   failover:      +try-failover / +selected-slave / ... mark the group's failover under way
//                  (published at once: writes wait); +promoted-slave and +switch-master name
//                  the new master, which rounds then probe in place of Sentinel's answer
//                  until Sentinel reports it too; once it answers ROLE master the failover is
//                  followed. Aborts end it; so does failover_give_up.
//
// The Sentinel list starts as the configured one and grows with what SENTINEL sentinels
// reports; every known Sentinel is asked and subscribed to.
//
// Thread: the control thread running `io`; every method and the listener run there.
// Lifetime: the owner keeps the watcher alive while `io` runs its handlers, and calls
// stop() (or destroys it) to close every connection; no callback follows stop().
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "config/config.h"
#include "topology/control_connection.h"
#include "topology/group_provider.h"
#include "topology/polling_provider.h"
#include "topology/sentinel_view.h"

namespace sy::topology {

struct SentinelGroupSeed {
  std::string name;                  // the Sentinel master name
  std::optional<NodeAddress> guess;  // the configured address: the master until Sentinel says
};

struct SentinelWatcherOptions {
  std::vector<NodeAddress> sentinels;  // at least one
  std::vector<SentinelGroupSeed> groups;
  std::string sentinel_user;      // sentinel_auth "user password"
  std::string sentinel_password;  // sentinel_auth password; empty: no AUTH to Sentinels
  std::string node_password;      // redis_auth, for ROLE/INFO on the data nodes
  common::Millis connect_timeout{1000};
  common::Millis request_timeout{1000};
  common::Millis poll_interval{2000};
  common::Millis retry_interval{250};  // re-run a round while the master is unconfirmed
  common::Millis resubscribe_interval{1000};
  // A failover that has neither ended nor been followed after this long is given up on:
  // writes stop waiting for it.
  common::Millis failover_give_up{60000};
  int64_t replica_max_lag_seconds = 10;  // -1: never judge replicas by lag
};

// The watcher options for one pool of the config (which must be Sentinel-managed): its
// Sentinels, a group per server (the configured address as the guess), sentinel_auth,
// redis_auth and replica_max_lag_s.
SentinelWatcherOptions sentinelWatcherOptionsFor(const config::PoolConfig& pool);

// Counters of the watcher as a whole (control thread only).
struct SentinelWatcherStats {
  uint64_t rounds = 0;             // discovery rounds completed
  uint64_t sentinel_failures = 0;  // failed requests to Sentinels
  uint64_t node_failures = 0;      // failed ROLE/INFO requests to data nodes
  uint64_t events = 0;             // Sentinel event messages received
  uint64_t published = 0;          // GroupViews published
};

class SentinelWatcher final : public PollingProvider {
 public:
  SentinelWatcher(asio::io_context& io, SentinelWatcherOptions options, Listener listener);
  ~SentinelWatcher() override;
  SentinelWatcher(const SentinelWatcher&) = delete;
  SentinelWatcher& operator=(const SentinelWatcher&) = delete;

  // Runs a discovery round for group `name` now (after the running one, if any), e.g. after a
  // node answered READONLY. Unknown names and calls while stopped are ignored.
  void rediscover(const std::string& name) override;

  // The last published view of `name`, or null before the first.
  std::shared_ptr<const GroupView> current(const std::string& name) const;
  const SentinelWatcherStats& stats() const { return stats_; }
  // Every Sentinel known now, sorted, with reachability and failure counts.
  std::vector<SentinelView> sentinels() const;

 private:
  struct SentinelState {
    NodeAddress address;
    std::shared_ptr<ControlConnection> commands;
    std::shared_ptr<ControlConnection> events;
    bool reachable = false;
    bool subscribed = false;
    uint64_t failures = 0;
    asio::steady_timer resubscribe_timer;
    explicit SentinelState(asio::io_context& io, NodeAddress addr)
        : address(std::move(addr)), resubscribe_timer(io) {}
  };
  struct Round;  // one discovery round of one group (sentinel_watcher.cpp)
  struct GroupState {
    SentinelGroupSeed seed;
    std::shared_ptr<const GroupView> published;
    bool running = false;
    bool again = false;       // a trigger arrived during the round
    std::string last_switch;  // payload of the last +switch-master logged
    // A failover announced by a Sentinel and not yet followed: since when, and the replica
    // Sentinel promoted (once +promoted-slave or +switch-master names it).
    std::optional<common::TimePoint> failover_since;
    std::optional<NodeAddress> failover_from;  // the master when it began
    std::optional<NodeAddress> promoted;
    std::unique_ptr<asio::steady_timer> retry_timer;
  };

  // start(): subscribes to and PINGs every Sentinel, then starts a round for every group.
  void onStart() override;
  // stop(): closes the Sentinel connections and every group's retry timer, forgets the rounds.
  void onStop() override;
  // The poll (every poll_interval): PINGs every Sentinel, then triggers every group.
  void onPoll() override;
  SentinelState& addSentinel(const NodeAddress& address);
  void subscribe(SentinelState& sentinel);
  void onEvent(std::string_view framed);
  // Follows the failover events of `group` (+try-failover, +promoted-slave, aborts ...).
  void onFailoverEvent(GroupState& group, const SentinelEvent& event);
  // Publishes the last view again with failover_in_progress as the group's state says.
  void republish(GroupState& group);
  void publish(GroupState& group, std::shared_ptr<GroupView> view);
  void trigger(GroupState& group);
  void triggerAll();
  void pingSentinels();
  void pingSentinel(SentinelState& sentinel);
  void startRound(GroupState& group);
  void askSentinel(const std::shared_ptr<Round>& round, size_t index);
  void onSentinelAnswer(const std::shared_ptr<Round>& round, SentinelState& sentinel);
  void probeNodes(const std::shared_ptr<Round>& round);
  void finishRound(const std::shared_ptr<Round>& round);
  // Ends the group's failover when `view` confirms its new master, else marks `view` as
  // waiting for it.
  void followFailover(GroupState& group, GroupView& view);
  void markSentinel(SentinelState& sentinel, bool reachable, const std::string& error);
  // A Sentinel answered, for `name`, that it monitors no such master (rate-limited warning).
  void warnUnknownName(const SentinelState& sentinel, const std::string& name);
  void learnSentinels(const std::vector<SentinelInstance>& reported);
  void dropUnusedNodeConnections();
  GroupState* findGroup(const std::string& name);

  asio::io_context& io_;
  SentinelWatcherOptions options_;
  Listener listener_;
  std::vector<std::unique_ptr<SentinelState>> sentinels_;  // ask order: last answerer first
  std::vector<GroupState> groups_;
  SentinelWatcherStats stats_;
  common::RateLimitedLog sentinel_log_{common::Millis(5000)};
  common::RateLimitedLog node_log_{common::Millis(5000)};
  common::RateLimitedLog unknown_name_log_{common::Millis(5000)};
};

}  // namespace sy::topology
