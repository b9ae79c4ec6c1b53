#include "backend/connection_key.h"

#include <tuple>

namespace sy::backend {
namespace {

auto tied(const ConnectionKey& k) {
  return std::tie(k.pool, k.server, k.address, k.endpoint, k.auth, k.db, k.server_connections);
}

}  // namespace

bool operator==(const ConnectionKey& a, const ConnectionKey& b) { return tied(a) == tied(b); }
bool operator<(const ConnectionKey& a, const ConnectionKey& b) { return tied(a) < tied(b); }

}  // namespace sy::backend
