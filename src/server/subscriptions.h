// Subscriptions: one client's Pub/Sub state, kept by the proxy, and the private connections
// that carry it: at most one per backend of the client's pool.
//
//   SUBSCRIBE a b   --> each channel's backend (the pool's hash of its name, as for a key):
//                       SUBSCRIBE a on backend 0's connection, SUBSCRIBE b on backend 2's
//   SSUBSCRIBE s    --> the channel's backend, like SUBSCRIBE
//   PSUBSCRIBE p*   --> every backend: a pattern may match a channel of any of them (in a
//                       cluster pool only the first shard's: every node sees every PUBLISH)
//   UNSUBSCRIBE ... --> where the channels were subscribed
//
// The client's replies ("subscribe", channel, count) are built here, with Redis's counts
// (channels + patterns; shard channels counted apart), and released only once every backend
// involved has confirmed: a message published after the client saw its confirmation reaches
// it. Messages (message, pmessage, smessage) from any backend go to the client as they came
// (ClientSession::pushMessage), unless the client has left that channel or pattern meanwhile.
// Since PUBLISH places a channel on the backend SUBSCRIBE does, the two always meet; a pattern
// subscriber gets each message once, from the backend its channel lives on.
//
// In a cluster pool a shard channel lives on its slot's master: a node takes the shard
// channels of one slot per request, so (un)subscriptions are sent per slot; and a node that
// loses a slot (resharding) drops its subscribers from that slot's channels with an
// unsolicited "sunsubscribe". Such a channel, or one a node refuses with MOVED or ASK, is
// "displaced": the slot table is read again and the channel subscribed where its slot lives
// now (placeShardChannels), on the next topology swap or retry, as a failover's replacement
// is. Messages published to it meanwhile are lost.
//
// A connection that is lost, or whose node stops taking its backend's writes (a failover),
// is replaced: the proxy subscribes again to everything the client has on that backend, logs
// it and counts it (ProxyStats::resubscribes). Messages published meanwhile are lost, as
// Pub/Sub loses them for any client that reconnects. After a failed attempt the next waits
// (kFirstRetryDelay, doubling up to kMaxRetryDelay).
//
// Thread: the owning worker's. Lifetime: owned by its ClientSession; close() before destruction.
#pragma once

#include <asio/steady_timer.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backend/backend_connection.h"
#include "backend/reply_target.h"
#include "command/command.h"
#include "common/clock.h"

namespace sy::server {

class ClientSession;
class PendingRequest;
class SessionHost;

class Subscriptions {
 public:
  static constexpr common::Millis kFirstRetryDelay{100};
  static constexpr common::Millis kMaxRetryDelay{2000};

  Subscriptions(ClientSession& session, SessionHost& host);
  ~Subscriptions();
  Subscriptions(const Subscriptions&) = delete;
  Subscriptions& operator=(const Subscriptions&) = delete;

  // True while the client has a subscription: Redis's subscribed context (RESP2).
  bool active() const {
    return !channels_.empty() || !patterns_.empty() || !shard_channels_.empty();
  }

  // A connection to `server` carries (or is being made to carry) the subscriptions there.
  bool connected(uint32_t server) const {
    return server < links_.size() && links_[server] && links_[server]->connection != nullptr &&
           !links_[server]->lost;
  }

  // A SUBSCRIBE, SSUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE, SUNSUBSCRIBE or PUNSUBSCRIBE request
  // (`command`, well formed) of the session's pool `pool`: completes `request`, at once or
  // once the backends have confirmed.
  void handle(PendingRequest& request, uint32_t pool, const command::CommandInfo& command,
              std::span<const std::string_view> args);
  // After a topology swap: connections whose node no longer takes their backend's writes are
  // replaced. `pool` is the session's pool index now (ClientSession::kNoPool: it left).
  void checkConnections(uint32_t pool);
  // Ends every subscription and closes the connections (RESET, the client left). Requests
  // still waiting for confirmations complete with the replies already built.
  void close();

 private:
  enum class Kind : uint8_t { kChannel, kPattern, kShardChannel };
  // A reply the backend owes on one connection: `frames` confirmations, then, when
  // `completes_ticket`, `ticket`'s request has this backend's part (kNoTicket: a
  // resubscription nobody waits for). A request split by slot is several of these, the last
  // one completing the ticket.
  struct Expected {
    uint64_t ticket;
    uint32_t frames;
    bool completes_ticket = true;
    bool shard_subscribe = false;             // an SSUBSCRIBE (else SUNSUBSCRIBE, when ...)
    std::vector<std::string> shard_channels;  // ... the shard channels it carries (cluster)
  };
  static constexpr uint64_t kNoTicket = UINT64_MAX;
  // One backend's private connection.
  struct Link final : backend::ReplyTarget {
    Link(Subscriptions& subscriptions, uint32_t server_index)
        : owner(subscriptions), server(server_index) {}
    void onBackendReply(std::string_view framed_reply) override;
    void onBackendFailure(std::string_view message) override;

    Subscriptions& owner;
    uint32_t server;
    backend::BackendConnection* connection = nullptr;
    std::deque<Expected> expected;
    bool confirmed = false;  // a confirmation came on this connection
    bool lost = false;       // needs a new connection (retried by the timer)
    std::string failure;     // why the last send on this link was refused
    // Shard channels this connection was sent SUNSUBSCRIBE for, with how many of their
    // confirmations are due: any other "sunsubscribe" is the node dropping the channel.
    std::map<std::string, uint32_t, std::less<>> unsubscribing;
  };
  // A client request waiting for its backends' confirmations.
  struct Waiting {
    PendingRequest* request;  // held
    std::string reply;
    uint32_t links_left;
  };

  // Channels (and shard channels) with the backend they were subscribed on.
  using ChannelMap = std::map<std::string, uint32_t, std::less<>>;
  ChannelMap& channelsOf(Kind kind) { return kind == Kind::kChannel ? channels_ : shard_channels_; }
  uint32_t serverOf(std::string_view channel) const;
  // How many subscriptions Redis counts in a reply about `kind`.
  size_t countFor(Kind kind) const;
  Link& link(uint32_t server);
  // Leases a connection for `link`; false (with `error`) when none can be had now.
  bool connect(Link& link, const std::string*& error);
  bool clusterPool() const;
  // Whether the link to `server` carries the patterns (see the table above).
  bool carriesPatterns(uint32_t server) const;
  // Sends the (un)subscription of `kind` to `channels` on `link`, expecting one confirmation
  // each for `ticket`; in a cluster pool, shard channels go one request per slot.
  bool sendOn(Link& link, Kind kind, bool subscribe, std::span<const std::string_view> channels,
              uint64_t ticket);
  void onFrame(Link& link, std::string_view frame);
  // An error for the request `refused` expected on `link`.
  void onRefused(Link& link, const Expected& refused, std::string_view frame);
  // A "sunsubscribe" on `link`: the confirmation of a SUNSUBSCRIBE sent there (true), or the
  // node dropping `channel` because its slot moved (false; the channel is displaced).
  bool confirmsUnsubscription(Link& link, std::string_view channel);
  void displace(uint32_t server, std::string_view channel);
  // Cluster pools: every shard channel whose slot the table now puts on another shard, or
  // that is displaced, is unsubscribed where it was and subscribed where its slot lives.
  void placeShardChannels();
  void onLost(Link& link, std::string_view reason);
  // Closes `link`'s connection; its outstanding confirmations count as given.
  void drop(Link& link, std::string_view reason);
  void confirm(uint64_t ticket);
  // Gives `link` a new connection, subscribed again to everything the client has on its
  // backend. False (with `error`) when none can be had now: the timer tries again.
  bool resubscribe(Link& link, std::string_view why, const std::string*& error);
  // The client has subscriptions that live on `link`'s backend.
  bool holdsAnything(const Link& link) const;
  void scheduleRetry();
  void retryLost();
  void endIfIdle();

  ClientSession& session_;
  SessionHost& host_;
  uint32_t pool_ = UINT32_MAX;  // the pool the links belong to
  size_t pool_servers_ = 0;     // its backend count when the links were made
  ChannelMap channels_, shard_channels_;
  std::set<std::string, std::less<>> patterns_;
  std::set<std::string, std::less<>> displaced_;  // shard channels to subscribe again
  std::vector<std::unique_ptr<Link>> links_;      // by server index, made on demand
  std::deque<Waiting> waiting_;                   // by ticket, oldest first
  uint64_t first_ticket_ = 0;                     // ticket of waiting_.front()
  asio::steady_timer retry_timer_;
  bool retry_armed_ = false;
  common::Millis retry_delay_ = kFirstRetryDelay;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // the timer's handler checks it
};

}  // namespace sy::server
