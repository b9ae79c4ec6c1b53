// ParkedWrites: writes held on one worker while their replication group's master is being
// switched (topology::WriteState::kWait), so a graceful failover costs clients no error.
//
//   Worker::sendRequest (a write, group waiting) --park()--> [bytes, target, deadline] ...
//   topology swap --takeAll()--> the worker sends each to the new master, refuses it, or
//                                parks it again (still waiting), in arrival order
//   ticker --expire(now)--> entries past the pool's failover_wait get a TRYAGAIN error
//
// Arrival order is kept, so one session's writes reach the new master in the order it sent
// them. Memory is bounded by the sessions' own limits (ClientSession::kMaxPending).
// Each entry holds its target's backend hold (PendingRequest::hold) until it is sent or
// failed. Thread: the owning worker's only.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "backend/backend_connection.h"
#include "backend/reply_target.h"
#include "common/byte_buffer.h"
#include "common/clock.h"

namespace sy::server {

struct ParkedWrite {
  std::string pool;   // pool name
  std::string group;  // the group's name (its stats name)
  uint64_t session_id = 0;
  backend::Setup setup;      // the session's database and protocol
  common::ByteBuffer bytes;  // the request, RESP-encoded
  backend::ReplyTarget* target = nullptr;
  common::TimePoint received{};
  common::TimePoint parked_at{};
  common::TimePoint deadline{};
  // A request a cluster node redirected: sent again to whichever shard serves `slot` in the
  // snapshot of the moment (not to `group`), and not before `not_before` (a retry's pause).
  // -1: a write parked for its group.
  int32_t slot = -1;
  common::TimePoint not_before{};
};

class ParkedWrites {
 public:
  void park(ParkedWrite write) { entries_.push_back(std::move(write)); }
  // Every entry, oldest first; the queue is left empty.
  std::vector<ParkedWrite> takeAll();
  // Fails every entry whose deadline is not after `now` with a retryable error.
  void expire(common::TimePoint now);
  // Fails every entry with `message` (shutdown).
  void failAll(std::string_view message);
  size_t size() const { return entries_.size(); }

  // The error a write gets when its group has no confirmed master after `waited_ms`.
  static std::string noMasterError(std::string_view pool, std::string_view group,
                                   int64_t waited_ms);

 private:
  std::deque<ParkedWrite> entries_;
};

}  // namespace sy::server
