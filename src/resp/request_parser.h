// RequestParser: frames client requests (RESP multibulk or inline) out of a read buffer.
//
// Resumable and bounded (STYLE.md rule 7): parse() is given the unconsumed bytes of the
// session's buffer; on kNeedMore it remembers how far it got, so the next call with the same
// bytes plus more continues where it stopped and a long request costs O(its length) overall.
// Every limit is checked before the bytes it guards are buffered.
//
// One parser per client session; owned and called by the session's worker thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sy::resp {

// Past a limit the request is a protocol error, with Redis's words ("invalid multibulk
// length", "invalid bulk length") for the first two, as Redis answers past its own.
struct ParserLimits {
  size_t max_args = 1024 * 1024;                  // elements of one multibulk request (Redis: 1M)
  size_t max_bulk_bytes = 512 * 1024 * 1024;      // one argument (Redis proto-max-bulk-len)
  size_t max_request_bytes = 1024 * 1024 * 1024;  // one multibulk request, headers included
  size_t max_inline_bytes = 64 * 1024;  // an inline command line, and any *N / $N header line
};

enum class ParseStatus { kOk, kNeedMore, kError };

// One parsed client request. `args` are views into the caller's input buffer (for an inline
// argument written with quotes: into the parser's own storage): valid until the caller consumes
// or moves those bytes, or calls parse() again, whichever comes first. `raw` is the whole request
// exactly as received.
struct Request {
  // Capacity reused across parses: no allocation in steady state.
  std::vector<std::string_view> args;
  std::string_view raw;
  bool is_inline = false;  // inline form: `raw` is not RESP; the proxy re-encodes from args
};

class RequestParser {
 public:
  explicit RequestParser(ParserLimits limits = {});

  // Parses one request at the start of `input`.
  // kOk: `out` filled, `consumed` = its length in bytes. A request with no arguments (an empty
  //      inline line, "*0\r\n", "*-1\r\n") is kOk with out.args empty: the caller skips it.
  // kNeedMore: consumed = 0; call again with the same bytes at the start of `input` followed by
  //      more. bytesNeeded() then gives a lower bound of the whole request's length.
  // kError: protocol error; error() gives the text for "-ERR <text>". The parser stays in the
  //      error state (every later call returns kError) until reset().
  ParseStatus parse(std::string_view input, size_t& consumed, Request& out);

  // The last error's text (Redis's wording); empty unless the last parse() returned kError.
  std::string_view error() const { return error_; }
  // The last error was a limit crossed (max_args, max_bulk_bytes, max_request_bytes) by a
  // request that is otherwise well formed.
  bool overLimit() const { return over_limit_; }

  // New limits for the requests parsed from now on (the one in progress included).
  void setLimits(const ParserLimits& limits) { limits_ = limits; }

  // After kNeedMore: a lower bound of the pending request's total length in bytes.
  size_t bytesNeeded() const { return bytes_needed_; }

  // Forgets partial progress and any error (e.g. the caller discarded its buffer).
  void reset();

 private:
  enum class Phase : uint8_t { kStart, kInline, kCount, kBulkHeader, kBulkData, kFailed };
  // An argument of a multibulk request, as offsets: the caller's buffer may move between calls.
  struct ArgSpan {
    size_t offset;
    size_t length;
  };
  enum class Step : uint8_t { kContinue, kNeedMore, kError };

  ParseStatus parseInline(std::string_view input, size_t& consumed, Request& out);
  ParseStatus parseMultibulk(std::string_view input, size_t& consumed, Request& out);
  Step readCount(std::string_view input);
  Step readBulkHeader(std::string_view input);
  Step readHeaderLine(std::string_view input, std::string_view too_big, std::string_view invalid,
                      std::string_view& text, size_t& next);
  ParseStatus needMore(size_t lower_bound);
  ParseStatus fail(std::string_view message);
  void failExpectedDollar(char got);
  void finishRequest();

  ParserLimits limits_;
  Phase phase_ = Phase::kStart;
  size_t pos_ = 0;   // bytes of the pending request already parsed
  size_t scan_ = 0;  // where the search for the current line's end resumes
  size_t args_left_ = 0;
  size_t bulk_len_ = 0;
  size_t bytes_needed_ = 0;
  size_t seen_ = 0;  // input size at the last kNeedMore: a resumed call must not bring fewer
  std::vector<ArgSpan> spans_;
  std::string unquoted_;  // inline arguments that needed unquoting; reserved once per line
  std::string_view error_;
  bool over_limit_ = false;
  char error_text_[64] = {};
};

}  // namespace sy::resp
