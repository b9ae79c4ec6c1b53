// INFO, answered by the proxy: the worker that received it asks the control thread, which
// owns the statistics snapshot, to render the reply, and completes the request when the text
// comes back.
//
//   worker: INFO [section ...] --post--> control thread: ProxyStats::render_info(pool, sections)
//   worker: request.complete(bulk string) <--post-- text
//
// The request holds an extra hold while the text is being rendered, so a client that goes
// away meanwhile only makes the reply go nowhere.
// Thread: executeInfo runs on the session's worker; the rendering on the control thread.
#pragma once

#include <span>
#include <string_view>

namespace sy::server {

class ClientSession;
class PendingRequest;

void executeInfo(ClientSession& session, PendingRequest& request,
                 std::span<const std::string_view> args);

}  // namespace sy::server
