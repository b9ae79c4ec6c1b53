#include "admin/listen.h"

#include <string>

#include "topology/topology.h"

namespace sy::admin {

common::Result<void> listenOn(Acceptor& acceptor, const config::Address& address,
                              std::string_view what) {
  auto endpoint = topology::resolveAddress(address);
  if (!endpoint.ok()) return common::makeError(std::string(what) + ": " + endpoint.error().message);
  std::error_code error;
  acceptor.open(endpoint->protocol(), error);
  if (!error) acceptor.set_option(asio::socket_base::reuse_address(true), error);
  if (!error) acceptor.bind(*endpoint, error);
  if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    std::error_code ignored;
    acceptor.close(ignored);
    return common::makeError(std::string(what) + ": cannot listen on " + address.toString() + ": " +
                             error.message());
  }
  return {};
}

}  // namespace sy::admin
