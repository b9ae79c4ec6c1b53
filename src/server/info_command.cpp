#include "server/info_command.h"

#include <asio/post.hpp>

#include <memory>
#include <string>
#include <vector>

#include "common/byte_buffer.h"
#include "common/clock.h"
#include "resp/encoder.h"
#include "resp/errors.h"
#include "server/client_session.h"
#include "server/pending_request.h"
#include "server/proxy_stats.h"
#include "server/session_host.h"

namespace sy::server {

void executeInfo(ClientSession& session, PendingRequest& request,
                 std::span<const std::string_view> args) {
  SessionHost& host = session.host();
  const ProxyStats& stats = host.proxyStats();
  if (stats.control_io == nullptr || !stats.render_info) {
    return request.completeWithError(resp::kErrInfoUnavailable);
  }
  std::vector<std::string> sections(args.begin() + 1, args.end());
  // By name: the control thread's snapshot may already be newer than this worker's.
  uint32_t pool_index = session.poolIndex();
  std::string pool =
      pool_index == ClientSession::kNoPool ? std::string() : host.pool(pool_index).config->name;
  const bool verbatim = session.protocol == 3;  // RESP3 sends INFO as verbatim text
  request.hold();  // released once the rendered text has completed the request
  asio::post(*stats.control_io, [&stats, &host, &request, verbatim, pool = std::move(pool),
                                 sections = std::move(sections)] {
    auto text = std::make_shared<std::string>(stats.render_info(pool, sections));
    asio::post(host.io(), [&request, verbatim, text] {
      common::stampEventTime();
      common::ByteBuffer out;
      if (verbatim) {
        resp::appendVerbatim(out, "txt", *text);
      } else {
        resp::appendBulk(out, *text);
      }
      request.complete(out.view());
      request.release();
    });
  });
}

}  // namespace sy::server
