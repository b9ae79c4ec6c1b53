#include "topology/polling_provider.h"

#include <utility>

namespace sy::topology {

PollingProvider::PollingProvider(asio::io_context& io, ControlConnectionOptions node_options,
                                 common::Millis poll_interval)
    : nodes_(io, std::move(node_options)), poll_timer_(io), poll_interval_(poll_interval) {}

void PollingProvider::start() {
  if (running_) return;
  running_ = true;
  life_ = std::make_shared<int>(0);
  onStart();
  schedulePoll();
}

void PollingProvider::stop() {
  running_ = false;
  life_.reset();
  onStop();
  nodes_.closeAllBut({});
  poll_timer_.cancel();
}

void PollingProvider::schedulePoll() {
  std::weak_ptr<int> life = life_;
  poll_timer_.expires_after(poll_interval_);
  poll_timer_.async_wait([this, life](const std::error_code& error) {
    if (error || life.expired()) return;
    onPoll();
    schedulePoll();
  });
}

}  // namespace sy::topology
