// ReplyTarget: the seam between a backend connection and whoever waits for a reply.
#pragma once

#include <string_view>

namespace sy::backend {

// Someone waiting for exactly one backend reply. Exactly one of the two calls is made, once,
// on the worker thread that owns the connection. The target must stay alive until then;
// a target that no longer cares (its client left) still receives the call and drops it.
class ReplyTarget {
 public:
  // `framed_reply`: one complete RESP reply, valid only during the call.
  virtual void onBackendReply(std::string_view framed_reply) = 0;
  // `message`: an error reply's text without the leading '-', e.g. "ERR backend ... timed out".
  virtual void onBackendFailure(std::string_view message) = 0;

 protected:
  ~ReplyTarget() = default;
};

// The target of a reply nobody needs (MULTI sent ahead of a transaction's first key, the
// ASKING before a redirected request): it drops both calls. Stateless: one serves every thread.
class DroppedReply final : public ReplyTarget {
 public:
  void onBackendReply(std::string_view /*framed_reply*/) override {}
  void onBackendFailure(std::string_view /*message*/) override {}
};
inline DroppedReply dropped_reply;

// Requests the proxy sends on its own, as RESP.
inline constexpr std::string_view kAskingRequest = "*1\r\n$6\r\nASKING\r\n";
inline constexpr std::string_view kMultiRequest = "*1\r\n$5\r\nMULTI\r\n";
inline constexpr std::string_view kExecRequest = "*1\r\n$4\r\nEXEC\r\n";

}  // namespace sy::backend
