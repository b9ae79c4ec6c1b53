// PendingRequest: one client request from the moment it is parsed until its reply has been
// handed to the client (or the client has gone and every backend has answered).
//
//   ClientSession.pending_:  [req A: done, reply stored] [req B: waiting] [req C: done] ...
//                             ^ head: written to the client as soon as it is done
//
// A split request (MGET across backends) is a parent with one fragment per backend:
//
//   parent (in the session queue) --owns--> fragment 1 --in flight on--> backend 1
//                                      \--> fragment 2 --in flight on--> backend 2
//   when the last fragment completes, merge.cpp builds the parent's reply.
//
// Lifetime: objects come from the worker's RequestPool and go back when nothing holds them
// any more. Holders: the session queue, one backend FIFO entry, and (for a parent) its
// outstanding fragments. Thread: the owning worker's only.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "backend/reply_target.h"
#include "command/command.h"
#include "common/byte_buffer.h"
#include "common/clock.h"

namespace sy::server {

class ClientSession;
class RequestPool;

class PendingRequest final : public backend::ReplyTarget {
 public:
  explicit PendingRequest(RequestPool& pool) : pool_(pool) {}

  // The session waiting for this reply; null once the client has gone.
  ClientSession* session = nullptr;
  bool done = false;         // the reply is complete (stored in `reply` if not yet written)
  bool close_after = false;  // close the client once this reply is written (QUIT, bad input)
  common::ByteBuffer reply;  // the reply, when it completed before its turn

  // Statistics: when the request was received and which command it is
  // (PoolCounters::kNoCommand when unknown or not counted).
  common::TimePoint received{};
  uint16_t command_id = 0xffff;

  // Split requests.
  PendingRequest* parent = nullptr;                      // fragment: its parent
  command::MergeRule merge = command::MergeRule::kNone;  // parent: how to merge
  // parent: keys in the original request; for a fan-out, the number of shards of the pool.
  uint32_t key_count = 0;
  uint32_t fragments_left = 0;             // parent: fragments still waiting
  std::vector<PendingRequest*> fragments;  // parent: all fragments, in send order
  std::vector<uint32_t> key_ordinals;      // fragment: which of the parent's keys it carries
  uint32_t shard = 0;                      // fan-out fragment: the shard (server index) it went to

  // A read sent to a replication group's node, kept so that it is sent once more, by the
  // same read_from rule, when its connection is lost before the reply (reads are safe to
  // repeat; Sentinel kills client connections of the nodes it reconfigures). Empty: not
  // retryable.
  common::ByteBuffer retry_request;
  uint32_t retry_pool = 0;
  uint32_t retry_server = 0;

  // A request (or fragment) to a cluster pool, kept so that it is sent again where the
  // cluster redirects it (route/cluster_redirect.h: MOVED, ASK, TRYAGAIN, CLUSTERDOWN); the
  // client sees only the final reply. Empty: not a cluster request.
  common::ByteBuffer cluster_request;
  uint16_t cluster_slot = 0;    // the hash slot of its keys
  uint8_t cluster_hops = 0;     // MOVED and ASK followed so far
  uint8_t cluster_retries = 0;  // TRYAGAIN and CLUSTERDOWN waited out so far
  // A cluster pool's transaction (ClientSession::redirectQueued, replayTransaction): the
  // number of the transaction this command is queued in, or this EXEC ends (0: none); for
  // EXEC, cluster_request holds the transaction's commands and cluster_watched says WATCH
  // was in force.
  uint32_t cluster_tx = 0;
  bool cluster_exec = false;
  bool cluster_watched = false;
  // A transaction's EXEC that the session turned into DISCARD (server/transaction.cpp): the
  // client gets this error (kErrExecAbort, kErrTransactionLost) or, when `rewrite_nil`, a nil
  // array, whatever the backend answered. Empty and false: the reply as it is.
  std::string_view rewrite_error;
  bool rewrite_nil = false;

  // A blocking command that its session may send again when its block ends before any reply
  // (ClientSession::resendBlocked): a failover closed the connection or unblocked it, or a
  // cluster node redirected it (ClientSession::redirectBlocked).
  bool resend_blocked = false;

  // The session this request (or, for a fragment, its parent) answers; null once it has gone.
  ClientSession* owner() const { return parent != nullptr ? parent->session : session; }

  void hold() { ++holds_; }
  // Drops one hold; the last one returns the object to its pool.
  void release();

  // Completes this request with a full reply (bytes valid only during the call).
  void complete(std::string_view framed_reply);
  // Completes it with an error reply built from `message` (no '-' and CRLF).
  void completeWithError(std::string_view message);

  // backend::ReplyTarget
  void onBackendReply(std::string_view framed_reply) override;
  void onBackendFailure(std::string_view message) override;

 private:
  friend class RequestPool;
  void fragmentDone();
  bool rewritten() const { return rewrite_nil || !rewrite_error.empty(); }
  void completeRewritten();
  void reset();
  // Sends retry_request again (once); true when it went out and its reply will come.
  bool retryRead();

  RequestPool& pool_;
  int holds_ = 0;
};

// Free list of PendingRequests for one worker: steady traffic allocates none.
class RequestPool {
 public:
  RequestPool() = default;
  RequestPool(const RequestPool&) = delete;
  RequestPool& operator=(const RequestPool&) = delete;

  // A clean request with one hold (the caller's).
  PendingRequest& acquire();
  void recycle(PendingRequest& request);

  size_t liveCount() const { return all_.size() - free_.size(); }

 private:
  std::vector<std::unique_ptr<PendingRequest>> all_;
  std::vector<PendingRequest*> free_;
};

}  // namespace sy::server
