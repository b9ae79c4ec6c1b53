#include "server/pending_request.h"

#include <memory>

#include "common/check.h"
#include "resp/encoder.h"
#include "server/client_session.h"
#include "server/merge.h"
#include "server/session_host.h"

namespace sy::server {
namespace {
constexpr size_t kKeptReplyCapacity = 16 * 1024;
constexpr std::string_view kUnblockedPrefix = "-UNBLOCKED ";
constexpr std::string_view kQueuedReply = "+QUEUED\r\n";
}  // namespace

void PendingRequest::release() {
  SY_ASSERT(holds_ > 0);
  if (--holds_ == 0) pool_.recycle(*this);
}

void PendingRequest::complete(std::string_view framed_reply) {
  if (parent != nullptr) {
    reply.append(framed_reply);
    done = true;
    parent->fragmentDone();
    return;
  }
  if (session == nullptr) {
    done = true;
    return;
  }
  session->onRequestDone(*this, framed_reply);
}

void PendingRequest::completeWithError(std::string_view message) {
  thread_local common::ByteBuffer error;
  error.clear();
  resp::appendError(error, message);
  complete(error.view());
}

void PendingRequest::onBackendReply(std::string_view framed_reply) {
  // A master turned replica answers its blocked clients UNBLOCKED: nothing was popped.
  if (resend_blocked && framed_reply.starts_with(kUnblockedPrefix) && session != nullptr &&
      session->resendBlocked(*this)) {
    return;  // the session keeps the backend's hold
  }
  // A cluster node redirected a command of a transaction: queued here, and the transaction
  // runs again, whole, where the node said (ClientSession::replayTransaction).
  if (cluster_tx != 0 && framed_reply.starts_with('-') && session != nullptr) {
    if (cluster_exec) {
      if (session->replayTransaction(*this, framed_reply)) return;  // it answers this EXEC
    } else if (session->redirectQueued(*this, framed_reply)) {
      complete(kQueuedReply);
      release();  // the backend's hold
      return;
    }
  }
  // A cluster node redirected a blocking command: its session sends it on, on a new lease.
  if (resend_blocked && framed_reply.starts_with('-') && session != nullptr &&
      session->redirectBlocked(*this, framed_reply)) {
    return;  // the session keeps the backend's hold
  }
  // A cluster node redirected it: the host sends it on (and keeps the backend's hold).
  if (!cluster_request.empty() && framed_reply.starts_with('-') && owner() != nullptr &&
      owner()->host().redirect(*this, framed_reply)) {
    return;
  }
  if (rewritten()) {
    completeRewritten();
  } else {
    complete(framed_reply);
  }
  release();  // the backend's hold
}

void PendingRequest::onBackendFailure(std::string_view message) {
  if (!retry_request.empty() && retryRead()) return;  // the new backend keeps the hold
  if (resend_blocked && session != nullptr && session->resendBlocked(*this)) return;
  if (rewritten()) {
    completeRewritten();  // the transaction is discarded either way
  } else {
    completeWithError(message);
  }
  release();  // the backend's hold
}

void PendingRequest::completeRewritten() {
  if (rewrite_nil) {
    complete(resp::nullReply(session != nullptr ? session->protocol : 2, true));
  } else {
    completeWithError(rewrite_error);
  }
}

bool PendingRequest::retryRead() {
  common::ByteBuffer bytes;
  bytes.swap(retry_request);             // once: a second failure is answered
  if (session == nullptr) return false;  // the client has gone: nobody waits for it
  SessionHost& host = session->host();
  // A connection failing this request is backing off, so the same one is not picked again.
  const std::string* error =
      host.sendRequest(retry_pool, retry_server, session->id(), session->setup(), true,
                       bytes.view(), {}, *this, received);
  return error == nullptr;
}

// A fragment finished: when it was the last, merge into the parent's reply.
void PendingRequest::fragmentDone() {
  SY_ASSERT(fragments_left > 0);
  if (--fragments_left > 0) return;
  if (session != nullptr) {
    complete(mergeFragments(*this));
  } else {
    done = true;
  }
  for (PendingRequest* fragment : fragments) fragment->release();  // the parent's holds
  fragments.clear();
  release();  // the hold kept while fragments were outstanding
}

void PendingRequest::reset() {
  session = nullptr;
  done = false;
  close_after = false;
  reply.clear();
  reply.shrinkIfIdle(kKeptReplyCapacity);
  received = {};
  command_id = 0xffff;
  parent = nullptr;
  merge = command::MergeRule::kNone;
  key_count = 0;
  fragments_left = 0;
  fragments.clear();
  key_ordinals.clear();
  shard = 0;
  retry_request.clear();
  retry_request.shrinkIfIdle(kKeptReplyCapacity);
  cluster_request.clear();
  cluster_request.shrinkIfIdle(kKeptReplyCapacity);
  cluster_slot = 0;
  cluster_hops = 0;
  cluster_tx = 0;
  cluster_exec = false;
  cluster_watched = false;
  cluster_retries = 0;
  rewrite_error = {};
  rewrite_nil = false;
  resend_blocked = false;
  holds_ = 0;
}

PendingRequest& RequestPool::acquire() {
  PendingRequest* request;
  if (free_.empty()) {
    all_.push_back(std::make_unique<PendingRequest>(*this));
    request = all_.back().get();
  } else {
    request = free_.back();
    free_.pop_back();
  }
  request->hold();
  return *request;
}

void RequestPool::recycle(PendingRequest& request) {
  request.reset();
  free_.push_back(&request);
}

}  // namespace sy::server
