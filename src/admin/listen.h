// Listening sockets of the admin endpoints (the stats port and the HTTP port): one place for
// address resolution, SO_REUSEADDR and the error text.
//
// Thread: the control thread (resolution may block).
#pragma once

#include <asio/basic_socket_acceptor.hpp>
#include <asio/generic/stream_protocol.hpp>

#include <string_view>

#include "common/result.h"
#include "config/config.h"

namespace sy::admin {

using Acceptor = asio::basic_socket_acceptor<asio::generic::stream_protocol>;

// Makes `acceptor` listen on `address`. On failure the acceptor is left closed and the
// error reads "<what>: cannot listen on <address>: <reason>", or "<what>: <reason>" when the
// address does not resolve.
common::Result<void> listenOn(Acceptor& acceptor, const config::Address& address,
                              std::string_view what);

}  // namespace sy::admin
