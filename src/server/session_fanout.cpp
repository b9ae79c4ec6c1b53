// ClientSession's commands for every shard (command.h Handling::kFanout, kFanoutPrivate).
//
//   DBSIZE --> parent --fragment shard 0--> shared connection to shard 0's master
//                     \-fragment shard 1--> shared connection to shard 1's master ...
//          <== merge.h rule (the sum) once the last fragment is answered
//
//   SCAN c --> the one shard c names, with that shard's own cursor in place of c; its reply's
//              cursor becomes the proxy's (route/scan_cursor.h)
//
//   SCRIPT KILL --> each shard on a private connection leased for this request alone: the
//                   shared connection is stuck behind the script it is meant to stop.
//
// Servers out of the distribution (auto_eject_hosts) are skipped while any other is in it:
// their keys live on the others meanwhile.
// Fragments go to the node that takes the shard's writes (its master), never by read_from:
// the whole data set is the masters', and a SCAN cursor is only valid on the node that made it.
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "backend/backend_connection.h"
#include "backend/reply_target.h"
#include "command/command.h"
#include "resp/errors.h"
#include "server/client_session.h"
#include "server/pending_request.h"
#include "server/proxy_stats.h"
#include "server/session_host.h"

namespace sy::server {
namespace {

// SCAN's last page: cursor 0, no keys.
constexpr std::string_view kScanEnd = "*2\r\n$1\r\n0\r\n*0\r\n";

// The reply target of one fragment sent on a connection leased for it alone: hands the reply
// to the fragment, then gives the connection back (from a fresh call, not from inside the
// connection's read loop) and deletes itself. Heap-allocated: only kills travel this way.
class LeasedFragment final : public backend::ReplyTarget {
 public:
  LeasedFragment(SessionHost& host, backend::BackendConnection& connection,
                 PendingRequest& fragment)
      : host_(host), connection_(connection), fragment_(fragment) {}

  void onBackendReply(std::string_view framed_reply) override {
    fragment_.onBackendReply(framed_reply);  // gives back the backend's hold
    finish(true);
  }
  void onBackendFailure(std::string_view message) override {
    fragment_.onBackendFailure(message);
    finish(false);
  }

 private:
  void finish(bool reusable) {
    SessionHost& host = host_;
    backend::BackendConnection& connection = connection_;
    delete this;
    host.deferCall([&host, &connection, reusable] {
      host.returnConnection(connection, reusable, resp::kErrReasonLeaseEnded);
    });
  }

  SessionHost& host_;
  backend::BackendConnection& connection_;
  PendingRequest& fragment_;
};

}  // namespace

// One fragment per shard (SCAN: one, for the shard its cursor names); the parent completes
// with the merged reply when the last fragment does (PendingRequest::fragmentDone).
void ClientSession::fanout(PendingRequest& parent, const route::Plan& plan,
                           std::span<const std::string_view> args) {
  const command::CommandInfo& command = *plan.command;
  const topology::PoolTopology& pool = host_.pool(pool_index_);
  const auto shard_count = static_cast<uint32_t>(pool.servers.size());
  const bool scan = command.merge == command::MergeRule::kScanCursor;
  if (scan && plan.server == route::kAnyServer) {  // only ejected shards were left
    parent.complete(kScanEnd);
    return;
  }
  const uint32_t first = scan ? plan.server : 0;
  const uint32_t end = scan ? plan.server + 1 : shard_count;
  const bool skip_ejected = !scan && route::hasLiveShard(pool);
  parent.merge = command.merge;
  parent.key_count = shard_count;
  for (uint32_t shard = first; shard < end; ++shard) {
    if (skip_ejected && pool.servers[shard].ejected) continue;  // its keys live elsewhere now
    PendingRequest& fragment = host_.requests().acquire();      // the parent's hold
    fragment.parent = &parent;
    fragment.shard = shard;
    parent.fragments.push_back(&fragment);
  }
  parent.fragments_left = static_cast<uint32_t>(parent.fragments.size());
  parent.hold();  // kept until the last fragment completes
  counters_[common::PoolStat::fragments].add(parent.fragments.size());
  auto& fragment_args = host_.fragmentArgs();
  fragment_args.assign(args.begin(), args.end());
  std::string cursor;
  if (scan) {
    cursor = std::to_string(plan.scan_cursor);
    fragment_args[1] = cursor;
  }
  const bool leased = command.handling == command::Handling::kFanoutPrivate;
  common::TimePoint parent_received = parent.received;
  // Fragments may complete (and the parent with them) inside this loop when a backend is
  // unavailable: iterate over a copy and never touch `parent` after.
  auto& fragments = host_.fragmentList();
  fragments.assign(parent.fragments.begin(), parent.fragments.end());
  for (PendingRequest* fragment : fragments) {
    fragment->hold();  // the backend's hold
    if (leased) {
      sendFanoutPrivate(*fragment, fragment_args, parent_received);
      continue;
    }
    // Not read-only: the shard's master, whatever read_from says.
    const std::string* error = host_.sendRequest(pool_index_, fragment->shard, id_, setup(), false,
                                                 {}, fragment_args, *fragment, parent_received);
    if (error != nullptr) {
      fragment->release();
      fragment->completeWithError(*error);
    }
  }
}

void ClientSession::sendFanoutPrivate(PendingRequest& fragment,
                                      std::span<const std::string_view> args,
                                      common::TimePoint received) {
  const std::string* error = nullptr;
  backend::BackendConnection* connection =
      host_.leaseConnection(pool_index_, fragment.shard, setup(), 0, error);
  if (connection == nullptr) {
    fragment.release();
    fragment.completeWithError(*error);
    return;
  }
  auto* target = new LeasedFragment(host_, *connection, fragment);
  if (!connection->sendCommand(args, *target, received)) {
    std::string reason = connection->unavailableMessage();
    target->onBackendFailure(reason);  // completes the fragment, deletes the target
  }
}

}  // namespace sy::server
