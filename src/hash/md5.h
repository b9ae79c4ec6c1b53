// MD5 (RFC 1321), used by the `md5` key hash and by every ketama ring (twemproxy-compat.md C2, C3).
// Written here rather than taken from OpenSSL because OpenSSL 3 deprecates its one-shot MD5()
// and the EVP route allocates a context per call; ketama needs 40 digests per server at build
// time and the `md5` hash one per key.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace sy::hash {

using Md5Digest = std::array<uint8_t, 16>;

// The MD5 digest of `data`. Pure function; safe on any thread; no allocation.
Md5Digest md5Digest(std::string_view data);

}  // namespace sy::hash
