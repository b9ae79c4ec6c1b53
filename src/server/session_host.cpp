#include "server/session_host.h"

namespace sy::server {
namespace {

// Session buffers: borrowed while a session has bytes in them, kept for reuse up to these.
constexpr size_t kBufferSize = 4 * 1024;
constexpr size_t kBufferKeepLimit = 64 * 1024;
constexpr size_t kMaxFreeBuffers = 256;

}  // namespace

SessionHost::SessionHost() : buffers_(kBufferSize, kBufferKeepLimit, kMaxFreeBuffers) {}

}  // namespace sy::server
