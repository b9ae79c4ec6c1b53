// SessionHost: what a ClientSession needs from the worker that owns it. It is the seam that
// lets a session be driven in a unit test without a worker, an event loop, sockets or
// backends: a test derives a fake host that records what the session sends and answers it.
//
//   ClientSession --pool(i), sendRequest(...)--------------> where requests go (Worker: the
//                                                            read policy, parked writes, the
//                                                            BackendPool's connections)
//                 --leaseConnection, returnConnection --> private connections (transactions,
//                   leaseServes                           blocking commands)
//                 --watchClient, deferFlush, deferCall,  --> the event loop and the
//                   destroySession                           end-of-turn socket batch
//                 --requests(), buffers(), scratch       --> per-worker resources (here)
//
// The resources are concrete and live here, so a session reaches them without a virtual
// call; behaviour is virtual (a few calls per request, none per byte).
//
// Thread: the owning worker's only. Lifetime: outlives every session it hosts, and every
// PendingRequest and buffer they took from it.
#pragma once

#include <asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backend/backend_connection.h"
#include "backend/reply_target.h"
#include "backend/script_registry.h"
#include "command/command.h"
#include "common/buffer_pool.h"
#include "common/clock.h"
#include "resp/request_parser.h"
#include "route/cluster_redirect.h"
#include "route/router.h"
#include "server/pending_request.h"
#include "topology/topology.h"

namespace sy::server {

class ClientSession;
struct ProxyStats;

class SessionHost {
 public:
  SessionHost();
  SessionHost(const SessionHost&) = delete;
  SessionHost& operator=(const SessionHost&) = delete;

  // The pool of index `index` in the snapshot this host serves now.
  virtual const topology::PoolTopology& pool(uint32_t index) const = 0;
  // Sends one request (or fragment) of session `session_id`, whose database and protocol are
  // `setup`, that the router placed on `server` of `pool`: `raw` RESP bytes, or (when `raw` is
  // empty) `args` encoded. Returns null when the request was sent or parked (`target` gets its
  // reply later, and keeps the hold the caller gave it), else the error reply text, valid until the
  // next call.
  virtual const std::string* sendRequest(uint32_t pool, uint32_t server, uint64_t session_id,
                                         backend::Setup setup, bool read_only, std::string_view raw,
                                         std::span<const std::string_view> args,
                                         backend::ReplyTarget& target,
                                         common::TimePoint received) = 0;

  // A private connection (backend/backend_pool.h, lease), set up as `setup`, to the node that
  // takes the writes of `server` of `pool`: a plain server, or a group's master while its writes
  // are open. Null, with `error` pointing at the reply text, when none can be leased now
  // (`waited_ms`: how long the request waited for a new master, for that text). The session
  // sends on it directly until returnConnection().
  virtual backend::BackendConnection* leaseConnection(uint32_t pool, uint32_t server,
                                                      backend::Setup setup, int64_t waited_ms,
                                                      const std::string*& error) = 0;
  // Ends a lease (BackendPool::giveBack): `reusable` when the session knows the backend holds
  // no state for it; `reason` fails its requests in flight when it is closed.
  virtual void returnConnection(backend::BackendConnection& connection, bool reusable,
                                std::string_view reason) = 0;
  // The leased `connection` still reaches the node that takes `server`'s writes now.
  virtual bool leaseServes(const backend::BackendConnection& connection, uint32_t pool,
                           uint32_t server) const = 0;
  // True while `server` of `pool` is a replication group whose master is being switched (or
  // cannot be reached) and the pool's failover_wait lets requests wait for it: a write would
  // be parked now, and a lease would be refused.
  virtual bool masterPending(uint32_t pool, uint32_t server, uint64_t session_id,
                             backend::Setup setup) = 0;
  // A node of a cluster pool answered `request` (its cluster_request is set, its owner() is
  // alive: a fragment's is its parent's session) with `framed_reply`, an error reply. When that is
  // a redirection the request may follow (route/cluster_redirect.h), sends or parks it again and
  // returns true (the host keeps the backend's hold); otherwise false, and the client gets the
  // reply.
  virtual bool redirect(PendingRequest& request, std::string_view framed_reply) = 0;
  // A node of cluster pool `pool` answered a session's blocking command with `redirection` (a
  // MOVED or an ASK): counts it, asks for the slot table again (MOVED, or a node the table
  // does not know) and returns the server whose master is the node named; kNoServer when no
  // shard's master is that node.
  static constexpr uint32_t kNoServer = UINT32_MAX;
  virtual uint32_t noteRedirection(uint32_t pool, const route::Redirection& redirection) = 0;
  // Something other than a redirection says cluster pool `pool`'s slot table is stale (a
  // node dropped a shard channel because its slot moved): asks for the table again.
  virtual void slotTableStale(uint32_t pool) = 0;
  // Calls session.onMasterWait() once, after the next topology swap or deadline tick.
  virtual void waitForMaster(ClientSession& session) = 0;

  // Changes `fd`'s registration for readiness events from `old_events` to `new_events` (0
  // means not registered).
  virtual void watchClient(int fd, ClientSession& session, uint32_t old_events,
                           uint32_t new_events) = 0;
  // Queues `session` to flush its output at the end of this loop turn (see
  // ClientSession::takeDeferredFlush).
  virtual void deferFlush(ClientSession& session) = 0;
  // Runs `call` later, outside any dispatch (closing paths only: it may allocate).
  virtual void deferCall(std::function<void()> call) = 0;
  // The session has finished: destroy it (the last use of it).
  virtual void destroySession(ClientSession& session) = 0;

  // For INFO: the process-wide statistics, and a loop that any thread may post to in order
  // to complete a request on this host's thread.
  virtual ProxyStats& proxyStats() = 0;
  virtual asio::io_context& io() = 0;

  // The password clients of a pool must AUTH with (client_auth, else redis_auth); empty
  // when they need none.
  const std::string& poolAuth(uint32_t index) const { return pool(index).config->clientPassword(); }
  bool poolRequiresAuth(uint32_t index) const { return !poolAuth(index).empty(); }

  // A client's request of `command` with `args`: an EVAL, EVAL_RO or SCRIPT LOAD registers
  // its script body (backend/script_registry.h), so the proxy loads it on every backend
  // connection it opens from now on; SCRIPT FLUSH empties the registry. Costs four pointer
  // comparisons for other commands.
  void noteScript(const command::CommandInfo& command, std::span<const std::string_view> args) {
    if (&command == eval_ || &command == eval_ro_) {
      seeScript(args[1]);
    } else if (&command == script_load_) {
      seeScript(args[2]);
    } else if (&command == script_flush_) {
      forgetScripts();
    }
  }

  RequestPool& requests() { return requests_; }
  common::BufferPool& buffers() { return buffers_; }
  // Scratch shared by the sessions of this host. Valid only within one dispatch: no
  // dispatch runs inside another (backends never complete requests synchronously in send).
  resp::Request& parsedRequest() { return parsed_request_; }
  route::Router& router() { return router_; }
  route::Plan& plan() { return plan_; }
  std::vector<uint32_t>& fragmentServers() { return fragment_servers_; }
  std::vector<uint16_t>& fragmentSlots() { return fragment_slots_; }
  std::vector<std::string_view>& fragmentArgs() { return fragment_args_; }
  std::vector<PendingRequest*>& fragmentList() { return fragment_list_; }

 protected:
  ~SessionHost() = default;

 private:
  void seeScript(std::string_view body);
  void forgetScripts();

  RequestPool requests_;
  common::BufferPool buffers_;
  resp::Request parsed_request_;
  route::Router router_;
  route::Plan plan_;
  std::vector<uint32_t> fragment_servers_;
  std::vector<uint16_t> fragment_slots_;
  std::vector<std::string_view> fragment_args_;
  std::vector<PendingRequest*> fragment_list_;
  const command::CommandInfo* eval_;
  const command::CommandInfo* eval_ro_;
  const command::CommandInfo* script_load_;
  const command::CommandInfo* script_flush_;
  backend::ScriptSightings scripts_seen_;  // attached to proxyStats().scripts on first use
  bool scripts_attached_ = false;
};

}  // namespace sy::server
