#include "server/parked_writes.h"

#include <fmt/format.h>

#include <chrono>

#include "resp/errors.h"

namespace sy::server {

std::vector<ParkedWrite> ParkedWrites::takeAll() {
  std::vector<ParkedWrite> all;
  all.reserve(entries_.size());
  for (ParkedWrite& write : entries_) all.push_back(std::move(write));
  entries_.clear();
  return all;
}

void ParkedWrites::expire(common::TimePoint now) {
  // Deadlines of one pool grow with arrival; across pools they may not, so look at all.
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->deadline > now) {
      ++it;
      continue;
    }
    ParkedWrite write = std::move(*it);
    it = entries_.erase(it);
    auto waited = std::chrono::duration_cast<common::Millis>(now - write.parked_at).count();
    if (write.slot >= 0) {
      write.target->onBackendFailure(
          fmt::format(resp::kErrSlotUnserved, write.slot, write.pool, waited));
    } else {
      write.target->onBackendFailure(noMasterError(write.pool, write.group, waited));
    }
  }
}

void ParkedWrites::failAll(std::string_view message) {
  std::deque<ParkedWrite> all;
  all.swap(entries_);
  for (ParkedWrite& write : all) write.target->onBackendFailure(message);
}

std::string ParkedWrites::noMasterError(std::string_view pool, std::string_view group,
                                        int64_t waited_ms) {
  return fmt::format(resp::kErrNoConfirmedMaster, group, pool, waited_ms);
}

}  // namespace sy::server
