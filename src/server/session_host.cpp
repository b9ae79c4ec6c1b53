#include "server/session_host.h"

#include "server/proxy_stats.h"

namespace sy::server {
namespace {

// Session buffers: borrowed while a session has bytes in them, kept for reuse up to these.
constexpr size_t kBufferSize = 4 * 1024;
constexpr size_t kBufferKeepLimit = 64 * 1024;
constexpr size_t kMaxFreeBuffers = 256;

}  // namespace

SessionHost::SessionHost()
    : buffers_(kBufferSize, kBufferKeepLimit, kMaxFreeBuffers),
      eval_(command::findTopLevel("eval")),
      eval_ro_(command::findTopLevel("eval_ro")) {
  const std::string_view script_load[] = {"script", "load"};
  script_load_ = command::findCommand(script_load);
  const std::string_view script_flush[] = {"script", "flush"};
  script_flush_ = command::findCommand(script_flush);
}

// proxyStats() is virtual: it is asked on the first script, not in the constructor.
void SessionHost::seeScript(std::string_view body) {
  if (!scripts_attached_) {
    scripts_seen_.attach(&proxyStats().scripts);
    scripts_attached_ = true;
  }
  scripts_seen_.see(body);
}

void SessionHost::forgetScripts() { proxyStats().scripts.forget(); }

}  // namespace sy::server
