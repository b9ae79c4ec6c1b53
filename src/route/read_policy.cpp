#include "route/read_policy.h"

#include <limits>
#include <optional>

namespace sy::route {
namespace {

std::optional<size_t> leastLoaded(std::span<const ReadCandidate> replicas, size_t& rotation) {
  if (replicas.empty()) return std::nullopt;
  const size_t start = rotation++ % replicas.size();
  std::optional<size_t> best;
  for (size_t i = 0; i < replicas.size(); ++i) {
    const size_t index = (start + i) % replicas.size();
    if (!replicas[index].usable) continue;
    if (!best || replicas[index].in_flight < replicas[*best].in_flight) best = index;
  }
  return best;
}

int64_t rank(int64_t rtt_usec) {
  return rtt_usec < 0 ? std::numeric_limits<int64_t>::max() : rtt_usec;
}

ReadChoice replicaOr(std::optional<size_t> replica, ReadChoice::Kind otherwise) {
  if (replica) return ReadChoice{ReadChoice::Kind::kReplica, *replica};
  return ReadChoice{otherwise, 0};
}

}  // namespace

ReadChoice chooseReadNode(config::ReadFrom read_from, const ReadCandidate& master,
                          std::span<const ReadCandidate> replicas, size_t& rotation) {
  using Kind = ReadChoice::Kind;
  switch (read_from) {
    case config::ReadFrom::kMaster:
      return ReadChoice{Kind::kMaster, 0};
    case config::ReadFrom::kPreferMaster:
      if (master.usable) return ReadChoice{Kind::kMaster, 0};
      return replicaOr(leastLoaded(replicas, rotation), Kind::kMaster);
    case config::ReadFrom::kReplica:
      return replicaOr(leastLoaded(replicas, rotation), Kind::kNone);
    case config::ReadFrom::kPreferReplica:
      return replicaOr(leastLoaded(replicas, rotation), Kind::kMaster);
    case config::ReadFrom::kNearest: {
      ReadChoice best{Kind::kMaster, 0};
      bool found = master.usable;
      int64_t best_rtt = master.usable ? rank(master.rtt_usec) : 0;
      for (size_t r = 0; r < replicas.size(); ++r) {
        if (!replicas[r].usable) continue;
        const int64_t rtt = rank(replicas[r].rtt_usec);
        if (!found || rtt < best_rtt) {
          best = ReadChoice{Kind::kReplica, r};
          best_rtt = rtt;
          found = true;
        }
      }
      return best;  // nothing usable: the master, whose error the client then gets
    }
  }
  return ReadChoice{Kind::kMaster, 0};
}

}  // namespace sy::route
