#include "server/listen_sockets.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

namespace sy::server {
namespace {

constexpr int kFirstPassedFd = 3;  // SD_LISTEN_FDS_START

std::optional<long> environmentNumber(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr) return std::nullopt;
  long value = 0;
  std::string_view view(text);
  auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), value);
  if (error != std::errc() || end != view.data() + view.size()) return std::nullopt;
  return value;
}

std::vector<std::string> passedNames(size_t count) {
  std::vector<std::string> names(count);
  const char* text = std::getenv("LISTEN_FDNAMES");
  if (text == nullptr) return names;
  std::string_view rest(text);
  for (size_t i = 0; i < count && !rest.empty(); ++i) {
    size_t colon = rest.find(':');
    names[i] = std::string(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  }
  return names;
}

bool isListeningStream(int fd) {
  int type = 0;
  int listening = 0;
  socklen_t length = sizeof(type);
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_STREAM) {
    return false;
  }
  length = sizeof(listening);
  return ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0 && listening;
}

}  // namespace

bool boundTo(int fd, const asio::generic::stream_protocol::endpoint& endpoint) {
  sockaddr_storage local{};
  socklen_t length = sizeof(local);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) return false;
  const sockaddr* wanted = endpoint.data();
  if (local.ss_family != wanted->sa_family) return false;
  switch (local.ss_family) {
    case AF_INET: {
      const auto& a = reinterpret_cast<const sockaddr_in&>(local);
      const auto& b = *reinterpret_cast<const sockaddr_in*>(wanted);
      return a.sin_port == b.sin_port && a.sin_addr.s_addr == b.sin_addr.s_addr;
    }
    case AF_INET6: {
      const auto& a = reinterpret_cast<const sockaddr_in6&>(local);
      const auto& b = *reinterpret_cast<const sockaddr_in6*>(wanted);
      return a.sin6_port == b.sin6_port &&
             std::memcmp(&a.sin6_addr, &b.sin6_addr, sizeof(a.sin6_addr)) == 0;
    }
    case AF_UNIX: {
      const auto& a = reinterpret_cast<const sockaddr_un&>(local);
      const auto& b = *reinterpret_cast<const sockaddr_un*>(wanted);
      return std::strncmp(a.sun_path, b.sun_path, sizeof(a.sun_path)) == 0;
    }
    default:
      return false;
  }
}

ListenSockets::~ListenSockets() {
  for (const Passed& passed : passed_) ::close(passed.fd);
}

ListenSockets ListenSockets::fromEnvironment() {
  ListenSockets sockets;
  std::optional<long> pid = environmentNumber("LISTEN_PID");
  std::optional<long> count = environmentNumber("LISTEN_FDS");
  if (!pid || !count || *pid != ::getpid() || *count <= 0) return sockets;
  std::vector<std::string> names = passedNames(static_cast<size_t>(*count));
  for (long i = 0; i < *count; ++i) {
    int fd = kFirstPassedFd + static_cast<int>(i);
    if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) continue;  // not open
    if (!isListeningStream(fd)) {
      spdlog::warn("passed descriptor {} is not a listening stream socket: closed", fd);
      ::close(fd);
      continue;
    }
    sockets.addPassed(fd, names[static_cast<size_t>(i)]);
  }
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  spdlog::info("{} listening socket(s) passed by the service manager", sockets.passed_.size());
  return sockets;
}

int ListenSockets::take(const asio::generic::stream_protocol::endpoint& endpoint) {
  auto it = std::find_if(passed_.begin(), passed_.end(),
                         [&](const Passed& passed) { return boundTo(passed.fd, endpoint); });
  if (it == passed_.end()) return -1;
  int fd = it->fd;
  passed_.erase(it);
  return fd;
}

void ListenSockets::closeUntaken() {
  for (const Passed& passed : passed_) {
    spdlog::warn(
        "passed listening socket '{}' (descriptor {}) matches no pool's listen "
        "address: closed",
        passed.name, passed.fd);
    if (!passed.name.empty() && store_.forget) store_.forget(passed.name);
    ::close(passed.fd);
  }
  passed_.clear();
}

std::string ListenSockets::storeName(const config::Address& address) {
  std::string name = "listen " + address.toString();
  std::replace(name.begin(), name.end(), ':', ' ');
  return name;
}

void ListenSockets::keep(int fd, const config::Address& address) {
  if (store_.active && store_.keep) store_.keep(fd, storeName(address));
}

void ListenSockets::forget(const config::Address& address) {
  if (store_.active && store_.forget) store_.forget(storeName(address));
}

}  // namespace sy::server
