// ListenSockets: the pools' listening sockets outlive one process of the service, so that a
// restart refuses no connection: clients that connect while the old process drains and the
// new one starts wait in the socket's backlog, and the new process accepts them.
//
//   at start   sockets passed by the service manager (LISTEN_PID and LISTEN_FDS, as systemd
//              passes those of a .socket unit and of its file descriptor store) are taken by
//              the listener whose address they are bound to, instead of a bind;
//   running    a socket a listener bound itself goes to the store (systemd's FDSTORE=1, named
//              after its address), which passes it to the service's next process; one closed
//              by a reload (address changed, pool removed) is taken out of it again.
//
// The store is two functions the app gives (systemd's notify socket, app/notify.h); without a
// service manager they do nothing, and a stop closes the sockets as before.
//
// Thread: the control thread.
#pragma once

#include <asio/generic/stream_protocol.hpp>

#include <functional>
#include <string>
#include <vector>

#include "config/config.h"

namespace sy::server {

class ListenSockets {
 public:
  struct Store {
    // Whether a service manager keeps sockets for the next process (under systemd).
    bool active = false;
    std::function<void(int fd, const std::string& name)> keep;
    std::function<void(const std::string& name)> forget;
  };

  ListenSockets() = default;
  ListenSockets(const ListenSockets&) = delete;
  ListenSockets& operator=(const ListenSockets&) = delete;
  ListenSockets(ListenSockets&&) = default;
  ListenSockets& operator=(ListenSockets&&) = default;
  ~ListenSockets();

  // The sockets passed to this process: LISTEN_FDS descriptors from 3 on, when LISTEN_PID is
  // this process (the variables are then removed, so that no child sees them). A descriptor
  // that is not a listening stream socket is logged and closed.
  static ListenSockets fromEnvironment();

  // One passed socket (fromEnvironment's; a test's): a listening stream socket, owned from
  // now on, `name` its LISTEN_FDNAMES entry (may be empty).
  void addPassed(int fd, std::string name) { passed_.push_back({fd, std::move(name)}); }

  void setStore(Store store) { store_ = std::move(store); }
  bool storing() const { return store_.active; }

  // The passed socket bound to `endpoint`, or -1. The caller owns it from then on.
  int take(const asio::generic::stream_protocol::endpoint& endpoint);
  // Closes every passed socket no listener took (its address is configured no more) and
  // takes it out of the store; logged.
  void closeUntaken();

  // `fd`, bound to `address` by a listener, goes to the store / leaves it.
  void keep(int fd, const config::Address& address);
  void forget(const config::Address& address);

  size_t passedCount() const { return passed_.size(); }

  // The store's name for the socket of `address`: systemd's names may not hold ':'.
  static std::string storeName(const config::Address& address);

 private:
  struct Passed {
    int fd = -1;
    std::string name;  // LISTEN_FDNAMES' entry, may be empty
  };
  std::vector<Passed> passed_;
  Store store_;
};

// True when the socket `fd` is bound to `endpoint` (same family, address and port, or the
// same UNIX path).
bool boundTo(int fd, const asio::generic::stream_protocol::endpoint& endpoint);

}  // namespace sy::server
