// ReplyFramer: finds where each backend reply ends, without building a value.
//
// Understands RESP2 (+ - : $ *, with null bulk "$-1" and null array "*-1", nested arrays) and,
// for robustness, the RESP3 types (_ , # ( = ! % ~ > |); RESP3 streamed strings and aggregates
// ("$?", "*?") are rejected. Resumable like RequestParser: on kNeedMore it keeps its place, so
// a reply of 100k elements or a 16 MiB bulk arriving in small reads is scanned once.
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
  size_t max_bulk_bytes = 1024ull * 1024 * 1024;  // one bulk string (also '!' and '=')
  size_t max_depth = 128;                         // nesting of aggregates
  size_t max_line_bytes = 64 * 1024;              // a simple string, error, number or header line
};

class ReplyFramer {
 public:
  explicit ReplyFramer(FramerLimits limits = {});

  // Finds the end of one complete reply at the start of `input`.
  // kOk: consumed = its length. kNeedMore: consumed = 0; call again with the same bytes at the
  // start of `input` followed by more. kError: malformed (the backend connection must be
  // closed); error() says why, and every later call returns kError until reset().
  ParseStatus frame(std::string_view input, size_t& consumed);

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

  FramerLimits limits_;
  size_t pos_ = 0;       // bytes of the pending reply already framed
  size_t scan_ = 0;      // where the search for the current line's CR resumes
  size_t seen_ = 0;      // input size at the last kNeedMore: a resumed call must not bring fewer
  size_t blob_end_ = 0;  // where the bulk being read ends (its CRLF)
  size_t verbatim_colon_ = 0;  // for '=': where its format's ':' must be; 0 otherwise
  bool in_blob_ = false;
  bool failed_ = false;
  std::vector<Level> stack_;
  std::string_view error_;
};

}  // namespace sy::resp
