#include "server/proxy.h"

#include <spdlog/spdlog.h>

namespace sy::server {

Proxy::Proxy(asio::io_context& control_io, std::shared_ptr<const topology::Topology> topology,
             unsigned threads)
    : control_io_(control_io), topology_(std::move(topology)), stats_(topology_->pools().size()) {
  for (unsigned i = 0; i < std::max(1u, threads); ++i) {
    workers_.push_back(std::make_unique<Worker>(i, topology_, stats_));
  }
}

Proxy::~Proxy() { stop(); }

common::Result<void> Proxy::start() {
  for (auto& worker : workers_) worker->start();
  running_ = true;
  const auto& pools = topology_->pools();
  for (uint32_t p = 0; p < pools.size(); ++p) {
    auto listener =
        std::make_unique<Listener>(control_io_, *pools[p].config, p, stats_, [this]() -> Worker& {
          Worker& worker = *workers_[next_worker_];
          next_worker_ = (next_worker_ + 1) % workers_.size();
          return worker;
        });
    auto opened = listener->open();
    if (!opened.ok()) {
      stop();
      return opened;
    }
    listeners_.push_back(std::move(listener));
  }
  spdlog::info("switchyard running: {} pool(s), {} worker thread(s)", pools.size(),
               workers_.size());
  return {};
}

void Proxy::stop() {
  if (!running_) return;
  running_ = false;
  for (auto& listener : listeners_) listener->close();
  for (auto& worker : workers_) worker->stop();
  listeners_.clear();
}

}  // namespace sy::server
