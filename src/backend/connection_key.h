// ConnectionKey: everything a backend connection depends on. A connection built for one key
// serves a node with an equal key unchanged, so a topology swap keeps it (with its requests
// in flight). `timeout` and `tcpkeepalive` are deliberately not part of it: a kept
// connection applies them in place, so a knob change does not reorder requests that a client
// pipelined across a reload. topology::connectionKey() derives one from a snapshot.
// Thread-neutral: a plain value.
#pragma once

#include <asio/generic/stream_protocol.hpp>

#include <cstdint>
#include <string>

namespace sy::backend {

struct ConnectionKey {
  std::string pool;
  std::string server;   // the node's identity (stats name; a replica's is "group@address")
  std::string address;  // as written
  asio::generic::stream_protocol::endpoint endpoint;  // as resolved: a host name that now
                                                      // resolves elsewhere is a change
  std::string auth;
  int db = 0;
  uint32_t server_connections = 1;

  friend bool operator==(const ConnectionKey& a, const ConnectionKey& b);
  friend bool operator<(const ConnectionKey& a, const ConnectionKey& b);
};

}  // namespace sy::backend
