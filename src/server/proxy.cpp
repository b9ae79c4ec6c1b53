#include "server/proxy.h"

#include <spdlog/spdlog.h>
#include <asio/post.hpp>

#include <algorithm>

namespace sy::server {

Proxy::Proxy(asio::io_context& control_io, std::shared_ptr<const topology::Topology> topology,
             unsigned threads, SocketBatch::Mode io_mode)
    : control_io_(control_io),
      base_(std::move(topology)),
      topology_(base_),
      ejector_(control_io, [this] { publishSnapshot(); }),
      groups_(control_io, [this] { publishSnapshot(); }) {
  ejector_.setBase(base_);
  for (unsigned i = 0; i < std::max(1u, threads); ++i) {
    workers_.push_back(std::make_unique<Worker>(i, topology_, stats_, &ejector_, io_mode));
    workers_.back()->setRediscover([this](const std::string& pool, const std::string& group) {
      asio::post(control_io_, [this, pool, group] { groups_.rediscover(pool, group); });
    });
  }
  const SocketBatch& batch = workers_.front()->socketBatch();
  if (batch.mode() == SocketBatch::Mode::kIoUring) {
    spdlog::info("sockets: client reads and end-of-turn writes batched through io_uring");
  } else {
    spdlog::info("sockets: one system call per read and write (io_uring: {})",
                 batch.whyNotIoUring());
  }
}

void Proxy::publishSnapshot() {
  auto ejected = topology::withEjections(*base_, ejector_.tracker(), topology_.get());
  topology_ = topology::withGroupViews(
      *topology::withClusterViews(*ejected, groups_.clusterViews()), groups_.views());
  for (auto& worker : workers_) worker->swapTopology(topology_);
}

Proxy::~Proxy() { stop(); }

std::unique_ptr<Listener> Proxy::makeListener(const topology::PoolTopology& pool) {
  return std::make_unique<Listener>(
      control_io_, *pool.config, pool.index, stats_, stats_.poolClients(pool.config->name),
      [this]() -> Worker& {
        Worker& worker = *workers_[next_worker_];
        next_worker_ = (next_worker_ + 1) % workers_.size();
        return worker;
      },
      listen_sockets_, max_clients_);
}

common::Result<void> Proxy::start() {
  for (auto& worker : workers_) worker->start();
  running_ = true;
  groups_.setBase(*base_);
  for (const auto& pool : topology_->pools()) {
    auto listener = makeListener(pool);
    auto opened = listener->open();
    if (!opened.ok()) {
      stop();
      return opened;
    }
    listeners_[pool.config->name] = std::move(listener);
  }
  listen_sockets_.closeUntaken();
  spdlog::info("switchyard running: {} pool(s), {} worker thread(s)", topology_->pools().size(),
               workers_.size());
  return {};
}

void Proxy::stop() {
  if (!running_) return;
  running_ = false;
  ejector_.stop();
  groups_.stop();
  for (auto& [name, listener] : listeners_) listener->handOver();
  for (auto& worker : workers_) worker->stop();
  listeners_.clear();
}

void Proxy::drain(std::function<void()> drained) {
  if (!running_ || draining_) return;
  draining_ = true;
  for (auto& [name, listener] : listeners_) listener->handOver();
  auto workers_left = std::make_shared<size_t>(workers_.size());
  auto done = std::make_shared<std::function<void()>>(std::move(drained));
  for (auto& worker : workers_) {
    worker->drain([this, workers_left, done] {
      asio::post(control_io_, [workers_left, done] {
        if (--*workers_left == 0) (*done)();
      });
    });
  }
}

Proxy::SwapResult Proxy::applyTopology(std::shared_ptr<const topology::Topology> next) {
  SwapResult result;
  result.diff = topology::diffTopologies(*base_, *next);
  base_ = std::move(next);
  ejector_.setBase(base_);
  if (running_) groups_.setBase(*base_);
  // Workers first: an accept posted after this line reaches a worker after its swap, so the
  // pool index it carries is one of the new snapshot.
  publishSnapshot();
  if (running_ && !draining_) swapListeners(result.listen_errors);
  return result;
}

void Proxy::swapListeners(std::vector<std::string>& errors) {
  std::vector<std::unique_ptr<Listener>> closed;
  for (const auto& pool : topology_->pools()) {
    const std::string& name = pool.config->name;
    auto it = listeners_.find(name);
    // Compared with where the listener is bound, not with the previous snapshot: a rebind
    // that failed on an earlier swap is tried again.
    if (it != listeners_.end() && it->second->boundTo(pool.config->listen)) {
      it->second->update(*pool.config, pool.index);
      continue;
    }
    auto listener = makeListener(pool);
    auto opened = listener->open();
    if (!opened.ok()) {
      std::string message = opened.error().message;
      if (it != listeners_.end()) {
        it->second->update(*pool.config, pool.index);
        message += "; still listening on the previous address";
      } else {
        message += "; the pool has no listener until a reload binds one";
      }
      spdlog::error("reload: {}", message);
      errors.push_back(std::move(message));
      continue;
    }
    if (it != listeners_.end()) {
      it->second->close();
      closed.push_back(std::move(it->second));
    }
    listeners_[name] = std::move(listener);
  }
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    if (topology::findPool(*topology_, it->first) != nullptr) {
      ++it;
      continue;
    }
    it->second->close();
    closed.push_back(std::move(it->second));
    it = listeners_.erase(it);
  }
  if (closed.empty()) return;
  // A closed listener's cancelled accept is already queued: destroy it after that has run.
  auto doomed = std::make_shared<std::vector<std::unique_ptr<Listener>>>(std::move(closed));
  asio::post(control_io_, [doomed] {});
}

}  // namespace sy::server
