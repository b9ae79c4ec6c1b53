// ReplyFramer: finds where each backend reply ends, without building a value.
//
// Understands RESP2 (+ - : $ *, with null bulk "$-1" and null array "*-1", nested arrays) and,
// for robustness, the RESP3 types (_ , # ( = ! % ~ > |); RESP3 streamed strings and aggregates
// ("$?", "*?") are rejected. Resumable like RequestParser: on kNeedMore it keeps its place, so
// a reply of 100k elements or a 16 MiB bulk arriving in small reads is scanned once.
//
// A backend's reply is shaped by the client that asked (a script returns whatever it builds),
// so every legal reply is framed to its end: aggregates nest to any depth (a loop over a stack
// of 16 bytes per open level, no recursion), and simple strings and errors ('+' '-') may be
// as long as the reply limit. A reply past `max_reply_bytes` is still framed, so the
// connection stays aligned, but need not be kept: it is "oversized", and its caller drops its
// bytes as they come and answers its own client with an error. kError is kept for bytes that
// are not RESP at all, which no client request can make a Redis server send.
//
// One framer per backend connection; owned and called by that connection's worker thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "resp/request_parser.h"

namespace sy::resp {

struct FramerLimits {
  // One reply, all its elements included; a longer one is oversized (see above).
  size_t max_reply_bytes = 1024ull * 1024 * 1024;
  // A header or number line ($ * : , ( and the like); '+' and '-' lines have no limit of their
  // own. A longer one is malformed.
  size_t max_line_bytes = 64 * 1024;
};

class ReplyFramer {
 public:
  explicit ReplyFramer(FramerLimits limits = {});

  // Finds the end of one complete reply at the start of `input`.
  // kOk: consumed = its length (what is left of it, if the caller dropped some), and
  //      lastReplySize() / lastReplyOversized() describe it.
  // kNeedMore: consumed = 0; call again with the same bytes at the start of `input` followed
  //      by more (less the bytes dropped, see droppable()).
  // kError: malformed (the backend connection must be closed); error() says why, and every
  //      later call returns kError until reset().
  ParseStatus frame(std::string_view input, size_t& consumed);

  // After kNeedMore: the pending reply has passed max_reply_bytes. The caller may then drop
  // the first droppable() bytes of what it passed and must report it with dropped(n) before
  // the next frame(), which is given the input without them.
  bool oversized() const { return oversized_; }
  size_t droppable() const;
  void dropped(size_t n);

  // The reply of the last kOk: its full size (dropped bytes included), and whether it passed
  // max_reply_bytes (then it must not be forwarded).
  uint64_t lastReplySize() const { return last_reply_size_; }
  bool lastReplyOversized() const { return last_reply_oversized_; }

  // The last error's text; empty unless the last frame() returned kError.
  std::string_view error() const { return error_; }

  // Forgets partial progress and any error.
  void reset();

 private:
  // One open aggregate: how many elements it still expects. An attribute ('|') does not take
  // the place of an element: when it closes, the value it annotates is still to come.
  struct Level {
    uint64_t remaining;
    bool is_attribute;
  };
  enum class Step : uint8_t { kDone, kMore, kNeedMore, kError };

  Step readElement(std::string_view input);
  Step readLine(std::string_view input, char& type, std::string_view& text);
  Step readBlobHeader(char type, std::string_view text);
  Step readAggregateHeader(char type, std::string_view text);
  Step readScalar(char type, std::string_view text);
  Step completeElement();
  Step fail(std::string_view message);
  void checkOversized(size_t known_bytes);

  FramerLimits limits_;
  size_t pos_ = 0;       // bytes of the pending reply already framed
  size_t scan_ = 0;      // where the search for the current line's CR resumes
  size_t seen_ = 0;      // input size at the last kNeedMore: a resumed call must not bring fewer
  size_t blob_end_ = 0;  // where the bulk being read ends (its CRLF)
  size_t verbatim_colon_ = 0;  // for '=': where its format's ':' must be; 0 otherwise
  bool in_blob_ = false;
  bool failed_ = false;
  // The oversized reply's caller dropped bytes inside the '+' or '-' line being read: its
  // type byte is gone, so it is kept here (0 otherwise).
  char cut_line_type_ = 0;
  char pending_line_type_ = 0;  // the type of the line whose end is being searched for
  bool oversized_ = false;
  uint64_t dropped_ = 0;  // bytes of the pending reply the caller dropped
  uint64_t last_reply_size_ = 0;
  bool last_reply_oversized_ = false;
  std::vector<Level> stack_;
  std::string_view error_;
};

}  // namespace sy::resp
