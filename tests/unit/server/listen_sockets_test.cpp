#include "server/listen_sockets.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "config/address_parser.h"
#include "topology/topology.h"

namespace sy::server {
namespace {

// A TCP socket listening on 127.0.0.1 at a port the kernel picks; its port through `port`.
int listenOnLoopback(uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  EXPECT_EQ(::listen(fd, 16), 0);
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  port = ntohs(address.sin_port);
  return fd;
}

asio::generic::stream_protocol::endpoint endpointOf(const std::string& text) {
  auto address = config::parseListenAddress(text);
  EXPECT_TRUE(address.ok()) << text;
  auto endpoint = topology::resolveAddress(*address);
  EXPECT_TRUE(endpoint.ok()) << text;
  return *endpoint;
}

bool isOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

TEST(ListenSockets, AListenerTakesThePassedSocketBoundToItsAddress) {
  uint16_t first_port = 0;
  uint16_t second_port = 0;
  int first = listenOnLoopback(first_port);
  int second = listenOnLoopback(second_port);
  ListenSockets sockets;
  sockets.addPassed(first, "listen 127.0.0.1 " + std::to_string(first_port));
  sockets.addPassed(second, "");
  EXPECT_EQ(sockets.take(endpointOf("127.0.0.1:" + std::to_string(second_port))), second);
  EXPECT_EQ(sockets.take(endpointOf("127.0.0.1:" + std::to_string(second_port))), -1);
  EXPECT_EQ(sockets.take(endpointOf("127.0.0.2:" + std::to_string(first_port))), -1);
  EXPECT_EQ(sockets.passedCount(), 1u);
  ::close(second);

  std::vector<std::string> forgotten;
  sockets.setStore({true, nullptr, [&](const std::string& name) { forgotten.push_back(name); }});
  sockets.closeUntaken();  // `first` matched no address: closed and taken out of the store
  EXPECT_FALSE(isOpen(first));
  EXPECT_EQ(forgotten, std::vector<std::string>{"listen 127.0.0.1 " + std::to_string(first_port)});
  EXPECT_EQ(sockets.passedCount(), 0u);
}

TEST(ListenSockets, AUnixSocketIsMatchedByItsPath) {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("sy-listen-test-" + std::to_string(::getpid()) + ".sock"))
                         .string();
  ::unlink(path.c_str());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  EXPECT_TRUE(boundTo(fd, endpointOf(path)));
  EXPECT_FALSE(boundTo(fd, endpointOf(path + "x")));
  EXPECT_FALSE(boundTo(fd, endpointOf("127.0.0.1:6379")));
  ::close(fd);
  ::unlink(path.c_str());
}

TEST(ListenSockets, TheStoreSeesTheSocketsListenersBindAndGiveUp) {
  std::vector<std::string> kept;
  std::vector<std::string> forgotten;
  ListenSockets sockets;
  EXPECT_FALSE(sockets.storing());
  auto address = config::parseListenAddress("127.0.0.1:22121");
  ASSERT_TRUE(address.ok());
  sockets.keep(7, *address);  // no service manager: nothing happens
  sockets.setStore({true,
                    [&](int fd, const std::string& name) {
                      EXPECT_EQ(fd, 7);
                      kept.push_back(name);
                    },
                    [&](const std::string& name) { forgotten.push_back(name); }});
  sockets.keep(7, *address);
  sockets.forget(*address);
  // systemd's names may not hold ':'.
  EXPECT_EQ(kept, std::vector<std::string>{"listen 127.0.0.1 22121"});
  EXPECT_EQ(forgotten, kept);
  auto v6 = config::parseListenAddress("[::1]:6380");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(ListenSockets::storeName(*v6).find(':'), std::string::npos);
}

}  // namespace
}  // namespace sy::server
