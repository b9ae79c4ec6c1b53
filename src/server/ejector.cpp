#include "server/ejector.h"

#include <spdlog/spdlog.h>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <string_view>

#include "common/clock.h"
#include "topology/control_connection.h"
#include "topology/topology_diff.h"

namespace sy::server {
namespace {

constexpr int64_t kDefaultProbeTimeoutMs = 1000;
// A server_retry_timeout of 0 must not turn a down server into a busy probe loop.
constexpr int64_t kMinProbeIntervalMs = 100;
constexpr std::string_view kPong = "+PONG\r\n";

int64_t nowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// Posts a connection's report to the control thread. Immutable once built.
class Ejector::ServerHealth final : public backend::HealthObserver {
 public:
  ServerHealth(Ejector& owner, Key key) : owner_(owner), key_(std::move(key)) {}
  void onServerFailure() override { post(false); }
  void onServerRecovered() override { post(true); }

 private:
  void post(bool ok) {
    asio::post(owner_.io_, [this, ok] { owner_.onReport(key_, ok); });
  }
  Ejector& owner_;
  const Key key_;
};

// One probe cycle of an ejected server. Shared by its pending handlers, which keeps it alive
// until the last of them has run.
struct Ejector::Probe {
  Probe(asio::io_context& io, Key k) : key(std::move(k)), timer(io) {}
  Key key;
  asio::steady_timer timer;                                 // server_retry_timeout before the probe
  std::shared_ptr<topology::ControlConnection> connection;  // fresh for every probe
  bool done = false;
};

Ejector::Ejector(asio::io_context& control_io, std::function<void()> publish)
    : io_(control_io), publish_(std::move(publish)) {}

Ejector::~Ejector() { stop(); }

void Ejector::stop() {
  stopped_ = true;
  for (auto& [key, probe] : probes_) cancelProbe(*probe);
  probes_.clear();
}

// Its timer's handler sees `done`; close() drops the connection's handlers uncalled.
void Ejector::cancelProbe(Probe& probe) {
  probe.done = true;
  probe.timer.cancel();
  if (probe.connection != nullptr) probe.connection->close();
  probe.connection.reset();
}

void Ejector::setBase(std::shared_ptr<const topology::Topology> base) {
  base_ = std::move(base);
  tracker_.retain(*base_);
  for (auto it = probes_.begin(); it != probes_.end();) {
    if (tracker_.isEjected(it->first.first, it->first.second)) {
      ++it;
      continue;
    }
    cancelProbe(*it->second);
    it = probes_.erase(it);
  }
}

backend::HealthObserver& Ejector::observer(const std::string& pool, const std::string& server) {
  Key key(pool, server);
  auto it = observers_.find(key);
  if (it == observers_.end()) {
    it = observers_.emplace(key, std::make_unique<ServerHealth>(*this, key)).first;
  }
  return *it->second;
}

const topology::PoolTopology* Ejector::ejectingPool(const std::string& pool) const {
  const topology::PoolTopology* found = topology::findPool(*base_, pool);
  return found != nullptr && found->config->auto_eject_hosts ? found : nullptr;
}

void Ejector::onReport(const Key& key, bool ok) {
  if (stopped_ || base_ == nullptr) return;
  if (ok) {
    tracker_.recordSuccess(key.first, key.second);
    return;
  }
  if (!tracker_.recordFailure(*base_, key.first, key.second, nowMicros())) return;
  const topology::PoolTopology* pool = ejectingPool(key.first);
  spdlog::warn(
      "pool '{}': server {} ejected after {} failures in a row; its keys go to the "
      "other servers; probing it again in {} ms",
      key.first, key.second, pool->config->server_failure_limit,
      pool->config->server_retry_timeout_ms);
  scheduleProbe(key);
  publish_();
}

void Ejector::scheduleProbe(const Key& key) {
  const topology::PoolTopology* pool = ejectingPool(key.first);
  if (pool == nullptr) return;
  auto probe = std::make_shared<Probe>(io_, key);
  probes_[key] = probe;
  probe->timer.expires_after(std::chrono::milliseconds(
      std::max(pool->config->server_retry_timeout_ms, kMinProbeIntervalMs)));
  probe->timer.async_wait([this, probe](const std::error_code& error) {
    if (!error && !probe->done) startProbe(probe);
  });
}

void Ejector::startProbe(const std::shared_ptr<Probe>& probe) {
  const topology::PoolTopology* pool = ejectingPool(probe->key.first);
  if (pool == nullptr) return;  // auto_eject_hosts is off since: setBase() dropped the probe
  const topology::ServerInfo* server = nullptr;
  for (const auto& info : pool->servers) {
    if (info.stats_name == probe->key.second) server = &info;
  }
  if (server == nullptr) return;
  int64_t timeout =
      pool->config->timeout_ms > 0 ? pool->config->timeout_ms : kDefaultProbeTimeoutMs;
  // connect_timeout 0: the one deadline covers connecting, AUTH and PING together. An AUTH
  // the server refuses fails the PING with the refusal.
  topology::ControlConnectionOptions options{.auth_user = "",
                                             .auth_password = pool->config->redis_auth,
                                             .connect_timeout = common::Millis(0),
                                             .request_timeout = common::Millis(timeout)};
  probe->connection = topology::ControlConnection::create(io_, server->endpoint,
                                                          server->address_text, std::move(options));
  probe->connection->request({"PING"}, [this, probe](common::Result<std::string> reply) {
    if (!reply.ok()) return finishProbe(probe, false, reply.error().message);
    bool ok = *reply == kPong;
    finishProbe(probe, ok,
                ok ? "" : "unexpected reply '" + reply->substr(0, reply->find('\r')) + "'");
  });
}

void Ejector::finishProbe(const std::shared_ptr<Probe>& probe, bool ok, const std::string& why) {
  if (probe->done) return;
  cancelProbe(*probe);
  auto it = probes_.find(probe->key);
  if (it == probes_.end() || it->second != probe || stopped_) return;
  probes_.erase(it);
  const Key& key = probe->key;
  if (!ok) {
    spdlog::info("pool '{}': server {} still ejected: probe failed: {}", key.first, key.second,
                 why);
    scheduleProbe(key);
    return;
  }
  tracker_.readmit(key.first, key.second);
  spdlog::warn("pool '{}': server {} answered its probe and is back in the distribution", key.first,
               key.second);
  publish_();
}

}  // namespace sy::server
