// Ejector probes against a stand-in server on 127.0.0.1: only a PONG readmits (an error reply
// or silence until the deadline means another probe a retry timeout later), stop() drops a
// probe in flight, and a pool that loses auto_eject_hosts drops its probe.
#include "server/ejector.h"

#include <gtest/gtest.h>

#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"

namespace sy::server {
namespace {

using asio::ip::tcp;

constexpr std::string_view kPing = "*1\r\n$4\r\nPING\r\n";

// Accepts every connection; the n-th gets answers[n] once it has sent something, and none
// (a silent server) when that is empty or past the end. Connections stay open.
class FakeServer {
 public:
  FakeServer(asio::io_context& io, std::vector<std::string> answers)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        answers_(std::move(answers)) {
    accept();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  size_t accepted() const { return peers_.size(); }
  const std::string& received() const { return received_; }

 private:
  struct Peer {
    explicit Peer(asio::any_io_executor executor) : socket(std::move(executor)) {}
    tcp::socket socket;
    std::array<char, 256> buffer{};
    std::string answer;
  };

  void accept() {
    auto peer = std::make_shared<Peer>(acceptor_.get_executor());
    acceptor_.async_accept(peer->socket, [this, peer](const std::error_code& error) {
      if (error) return;
      if (peers_.size() < answers_.size()) peer->answer = answers_[peers_.size()];
      peers_.push_back(peer);
      read(peer);
      accept();
    });
  }
  void read(const std::shared_ptr<Peer>& peer) {
    peer->socket.async_read_some(asio::buffer(peer->buffer),
                                 [this, peer](const std::error_code& error, size_t n) {
                                   if (error) return;
                                   received_.append(peer->buffer.data(), n);
                                   std::string answer = std::exchange(peer->answer, "");
                                   if (!answer.empty())
                                     asio::write(peer->socket, asio::buffer(answer));
                                   read(peer);
                                 });
  }

  tcp::acceptor acceptor_;
  std::vector<std::string> answers_;
  std::vector<std::shared_ptr<Peer>> peers_;
  std::string received_;
};

// Pool "alpha" with one server "s" on `port`: ejected at the first failure, probed every
// 100 ms with a 200 ms deadline.
std::shared_ptr<const topology::Topology> pool(uint16_t port, bool auto_eject) {
  std::string yaml = "alpha:\n  listen: 127.0.0.1:22121\n  auto_eject_hosts: " +
                     std::string(auto_eject ? "true" : "false") +
                     "\n  server_failure_limit: 1\n  server_retry_timeout: 100\n"
                     "  timeout: 200\n  servers:\n    - 127.0.0.1:" +
                     std::to_string(port) + ":1 s\n";
  auto config = std::make_shared<const config::Config>(config::parseConfig(yaml, "t.yml"));
  auto built = topology::buildTopology(config);
  EXPECT_TRUE(built.ok()) << built.error().message;
  return built.ok() ? *built : nullptr;
}

void runUntil(asio::io_context& io, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(10));
  }
}

struct Rig {
  explicit Rig(std::vector<std::string> answers) : server(io, std::move(answers)) {}
  // Ejects "s" (one failure is the limit) and waits for the ejection's publish().
  void eject() {
    ejector.setBase(pool(server.port(), true));
    ejector.observer("alpha", "s").onServerFailure();
    runUntil(io, [&] { return published == 1; });
    ASSERT_TRUE(ejector.tracker().isEjected("alpha", "s"));
  }
  asio::io_context io;
  FakeServer server;
  int published = 0;
  Ejector ejector{io, [this] { ++published; }};
};

TEST(Ejector, ReadmitsOnlyOnceAProbeAnswersPong) {
  Rig rig({"-LOADING Redis is loading the dataset in memory\r\n", "", "+PONG\r\n"});
  rig.eject();
  runUntil(rig.io, [&] { return rig.published == 2; });
  EXPECT_EQ(rig.published, 2);
  EXPECT_FALSE(rig.ejector.tracker().isEjected("alpha", "s"));
  // The error reply and the silent server each cost a probe, on a fresh connection each.
  EXPECT_EQ(rig.server.accepted(), 3u);
  std::string three_pings;
  for (int i = 0; i < 3; ++i) three_pings += kPing;
  EXPECT_EQ(rig.server.received(), three_pings);
}

TEST(Ejector, StopDropsAProbeInFlight) {
  Rig rig({""});
  rig.eject();
  runUntil(rig.io, [&] { return rig.server.accepted() == 1; });
  rig.ejector.stop();
  rig.io.run_for(std::chrono::milliseconds(500));  // past the probe's deadline and retry
  EXPECT_EQ(rig.published, 1);
  EXPECT_EQ(rig.server.accepted(), 1u);
}

TEST(Ejector, APoolThatLosesAutoEjectHostsDropsItsProbe) {
  Rig rig({"+PONG\r\n"});
  rig.eject();
  rig.ejector.setBase(pool(rig.server.port(), false));
  rig.io.run_for(std::chrono::milliseconds(400));
  EXPECT_EQ(rig.server.accepted(), 0u);
  EXPECT_EQ(rig.published, 1);
  EXPECT_FALSE(rig.ejector.tracker().isEjected("alpha", "s"));
}

}  // namespace
}  // namespace sy::server
