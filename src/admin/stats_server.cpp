#include "admin/stats_server.h"

#include <unistd.h>

#include <spdlog/spdlog.h>
#include <asio/write.hpp>

#include "admin/listen.h"
#include "admin/stats_snapshot.h"
#include "topology/topology.h"

namespace sy::admin {

StatsServer::StatsServer(asio::io_context& io, const server::Proxy& proxy,
                         StatsServerOptions options)
    : io_(io), proxy_(proxy), options_(std::move(options)), acceptor_(io), refresh_timer_(io) {
  source_ = hostName();
}

std::string hostName() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) return {};
  return host;
}

common::Result<void> StatsServer::open() {
  config::Address address;
  address.host = options_.address;
  address.port = options_.port;
  if (auto listening = listenOn(acceptor_, address, "stats"); !listening.ok()) return listening;
  open_ = true;
  refresh();
  armRefresh();
  acceptNext();
  spdlog::info("stats on {}, refreshed every {} ms", address.toString(), options_.interval_ms);
  return {};
}

void StatsServer::close() {
  open_ = false;
  std::error_code ignored;
  acceptor_.close(ignored);
  refresh_timer_.cancel();
}

void StatsServer::refresh() {
  document_ =
      renderTwemproxyJson(collectStats(proxy_, *proxy_.topology()), source_, options_.version);
  document_ += '\n';
}

void StatsServer::armRefresh() {
  refresh_timer_.expires_after(std::chrono::milliseconds(options_.interval_ms));
  refresh_timer_.async_wait([this](const std::error_code& error) {
    if (error || !open_) return;
    refresh();
    armRefresh();
  });
}

void StatsServer::acceptNext() {
  acceptor_.async_accept(
      [this](const std::error_code& error, asio::generic::stream_protocol::socket socket) {
        if (!open_) return;
        if (!error) {
          auto client = std::make_shared<asio::generic::stream_protocol::socket>(std::move(socket));
          auto document = std::make_shared<std::string>(document_);
          asio::async_write(*client, asio::buffer(*document),
                            [client, document](const std::error_code&, size_t) {
                              std::error_code ignored;
                              client->shutdown(asio::socket_base::shutdown_both, ignored);
                              client->close(ignored);
                            });
        }
        acceptNext();
      });
}

}  // namespace sy::admin
