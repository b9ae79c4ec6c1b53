// ClientSession in a cluster pool: a transaction whose slot moved while it was queued runs
// again, whole, on the node the cluster named (see client_session.h).
//
//   MULTI .. commands .. EXEC, pinned to the shard of the first key: each command sent is
//   logged (tx_log_, at most kMaxReplayBytes)
//   a queued command answered MOVED/ASK --> the client gets +QUEUED; the node named is kept
//                                           (a second, different node: no replay)
//   EXEC answered EXECABORT after that  --> [ASKING] MULTI <log> EXEC on a private connection
//                                           of its own to that node; its EXEC reply is the
//                                           client's. Under WATCH: nil (the keys moved).
//
// The node that redirected ran nothing: Redis discards a transaction one of whose commands
// it refused while queuing. Replies on one connection come in order, so the queued
// commands' redirections are known when their EXEC's reply arrives; transactions are told
// apart by number (tx_number_), so a pipelined next transaction cannot be confused with it.
#include <utility>

#include <spdlog/spdlog.h>

#include "resp/encoder.h"
#include "resp/errors.h"
#include "resp/request_parser.h"
#include "route/cluster_redirect.h"
#include "server/client_session.h"
#include "server/pending_request.h"
#include "server/session_host.h"

namespace sy::server {
namespace {

constexpr std::string_view kExecAbortPrefix = "-EXECABORT";

// The replayed EXEC's reply: answers the client's EXEC (its backend's hold goes with it), then
// gives the connection back, outside the connection's own call. Deletes itself.
class ReplayedExec final : public backend::ReplyTarget {
 public:
  ReplayedExec(SessionHost& host, backend::BackendConnection& connection, PendingRequest& exec)
      : host_(host), connection_(connection), exec_(exec) {}

  void onBackendReply(std::string_view framed_reply) override {
    exec_.onBackendReply(framed_reply);  // cluster_tx is 0: no second replay
    finish(true);
  }
  void onBackendFailure(std::string_view message) override {
    exec_.onBackendFailure(message);
    finish(false);
  }

 private:
  void finish(bool reusable) {
    SessionHost* host = &host_;
    backend::BackendConnection* connection = &connection_;
    host->deferCall([host, connection, reusable] {
      host->returnConnection(*connection, reusable, resp::kErrReasonLeaseEnded);
    });
    delete this;
  }

  SessionHost& host_;
  backend::BackendConnection& connection_;
  PendingRequest& exec_;
};

}  // namespace

void ClientSession::beginTransactionLog() {
  if (++tx_number_ == 0) tx_number_ = 1;
  tx_log_.clear();
  tx_log_full_ = false;
}

bool ClientSession::keepsTransactionLog() const {
  return pool_index_ != kNoPool && host_.pool(pool_index_).config->cluster && !tx_log_full_;
}

bool ClientSession::transactionLogFits() {
  if (tx_log_.size() <= kMaxReplayBytes) return true;
  tx_log_full_ = true;
  tx_log_.clear();
  return false;
}

void ClientSession::logQueued(PendingRequest& request, const resp::Request& parsed) {
  if (!keepsTransactionLog()) return;
  if (parsed.is_inline) {
    resp::appendCommand(tx_log_, parsed.args);
  } else {
    tx_log_.append(parsed.raw);
  }
  if (transactionLogFits()) request.cluster_tx = tx_number_;
}

void ClientSession::logHeld(std::string_view command) {
  if (!keepsTransactionLog()) return;
  tx_log_.append(command);
  transactionLogFits();
}

bool ClientSession::redirectQueued(PendingRequest& request, std::string_view framed_reply) {
  if (pool_index_ == kNoPool || !host_.pool(pool_index_).config->cluster) return false;
  const std::optional<route::Redirection> redirection = route::parseSlotMove(framed_reply);
  if (!redirection) return false;
  const uint32_t named = host_.noteRedirection(pool_index_, *redirection);
  const bool ask = redirection->kind == route::Redirection::Kind::kAsk;
  if (tx_redirected_ != request.cluster_tx) {
    tx_redirected_ = request.cluster_tx;
    tx_target_ = named;
    tx_asking_ = ask;
    tx_target_conflict_ = named == SessionHost::kNoServer;
  } else if (named != tx_target_ || ask != tx_asking_) {
    tx_target_conflict_ = true;
  }
  return !tx_target_conflict_;
}

bool ClientSession::replayTransaction(PendingRequest& exec, std::string_view framed_reply) {
  const uint32_t transaction = std::exchange(exec.cluster_tx, 0);
  if (!framed_reply.starts_with(kExecAbortPrefix) || transaction != tx_redirected_ ||
      tx_target_conflict_ || pool_index_ == kNoPool) {
    return false;
  }
  tx_redirected_ = 0;
  if (exec.cluster_watched) {  // the watched keys moved with their slot: WATCH failed
    exec.complete(resp::nullReply(protocol, true));
    exec.release();  // the backend's hold
    return true;
  }
  const std::string* error = nullptr;
  backend::BackendConnection* connection =
      host_.leaseConnection(pool_index_, tx_target_, setup(), 0, error);
  if (connection == nullptr) return false;  // the client gets EXECABORT
  if (tx_asking_) connection->send(backend::kAskingRequest, backend::dropped_reply);
  connection->send(backend::kMultiRequest, backend::dropped_reply);
  resp::RequestParser parser;
  resp::Request command;
  std::string_view rest = exec.cluster_request.view();
  while (!rest.empty()) {
    size_t consumed = 0;
    if (parser.parse(rest, consumed, command) != resp::ParseStatus::kOk || consumed == 0) break;
    // Their replies are dropped: the EXEC's says whether each was queued.
    connection->send(rest.substr(0, consumed), backend::dropped_reply);
    rest.remove_prefix(consumed);
  }
  auto* replayed = new ReplayedExec(host_, *connection, exec);
  if (!rest.empty() || connection->hasFailed() ||
      !connection->send(backend::kExecRequest, *replayed, exec.received)) {
    replayed->onBackendFailure(connection->unavailableMessage());
    return true;
  }
  spdlog::debug("client {}: a transaction whose slot moved runs again on {}", id_,
                host_.pool(pool_index_).servers[tx_target_].stats_name);
  return true;
}

}  // namespace sy::server
