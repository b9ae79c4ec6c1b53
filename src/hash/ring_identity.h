// The name a server is hashed by on a ketama ring (twemproxy-compat.md C3.4 and "Server line
// parsing"). It is also the server's key in the twemproxy stats JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sy::hash {

// nutcracker's default port for which the port is left out of the identity (libmemcached).
inline constexpr uint16_t kKetamaDefaultPort = 11211;

// The longest identity whose ketama labels nutcracker hashes correctly. nutcracker formats each
// label "<identity>-<i>" into an 86-byte buffer but hashes the untruncated length, reading past
// the buffer when a label exceeds 85 bytes, so such rings cannot be reproduced. 80 bytes leave
// room for "-9999", i.e. every label of a ring of up to 250 servers. Config validation should
// reject longer names; Distributor hashes the full label regardless.
inline constexpr size_t kMaxRingIdentityLength = 80;

// The twemproxy hashing identity of a server, as nutcracker 0.5.0 derives it from a `servers`
// line ("host:port:weight [name]" or "/path/sock:weight [name]"):
//   - the configured name when there is one (non-empty `name`); the weight is never part of it;
//   - else, for a unix socket, the path followed by ":" (nutcracker takes the address text plus
//     one byte, which is the ':' before the weight); `port` is ignored;
//   - else "host" alone when port == 11211;
//   - else "host:port".
// `host` must be the host text as written in the config: nutcracker hashes the text, so
// "localhost:6379" and "127.0.0.1:6379" are different identities. The port is printed in
// decimal without leading zeros, so a config that writes "6379" gets the same identity as
// nutcracker; one that writes "06379" would not, and config validation should reject it.
// Verified against nutcracker itself by tools/nutcracker_golden.py (named, host:port, unix
// socket and 11211 servers).
std::string ringIdentity(std::string_view name, std::string_view host, uint16_t port,
                         bool is_unix_socket);

}  // namespace sy::hash
