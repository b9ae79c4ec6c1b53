#include "topology/group_provider.h"

#include <utility>

#include "topology/role_prober.h"
#include "topology/sentinel_watcher.h"

namespace sy::topology {

std::unique_ptr<GroupProvider> makeGroupProvider(asio::io_context& io,
                                                 const config::PoolConfig& pool,
                                                 GroupProvider::Listener listener) {
  if (pool.isSentinelManaged()) {
    return std::make_unique<SentinelWatcher>(io, sentinelWatcherOptionsFor(pool),
                                             std::move(listener));
  }
  return std::make_unique<RoleProber>(io, roleProberOptionsFor(pool), std::move(listener));
}

}  // namespace sy::topology
