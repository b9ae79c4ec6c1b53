#include "hash/ring_identity.h"

namespace sy::hash {

std::string ringIdentity(std::string_view name, std::string_view host, uint16_t port,
                         bool is_unix_socket) {
  if (!name.empty()) {
    return std::string(name);
  }
  std::string identity(host);
  if (is_unix_socket) {
    identity += ':';
  } else if (port != kKetamaDefaultPort) {
    identity += ':';
    identity += std::to_string(port);
  }
  return identity;
}

}  // namespace sy::hash
