// Request framing, as Redis 7.0 reads requests (networking.c: processInlineBuffer and
// processMultibulkBuffer), with every limit checked before the bytes it guards are buffered.
//
//   first byte '*' ──> kCount ──"*N\r\n"──> kBulkHeader ──"$L\r\n"──> kBulkData ──L bytes + CRLF──┐
//        │               │ N <= 0: empty request        ^                                         │
//        │               └──> kOk (no args)             └──────────── more arguments ─────────────┘
//        │                                                              all N read ──> kOk
//        └─ anything else ──> kInline ──line up to "\n" (optional "\r")──> split ──> kOk
//
// Progress is kept as offsets (pos_, scan_, spans_) because the caller may move its buffer
// between calls; argument views are made only when a request is complete.
#include "resp/request_parser.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include "common/check.h"
#include "resp/errors.h"
#include "resp/inline_args.h"
#include "resp/number.h"

namespace sy::resp {
namespace {

// The smallest possible argument, "$0\r\n\r\n": for the lower bound in bytesNeeded().
constexpr size_t kMinArgBytes = 6;

bool isDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

RequestParser::RequestParser(ParserLimits limits) : limits_(limits) {}

void RequestParser::reset() {
  finishRequest();
  error_ = {};
  over_limit_ = false;
}

void RequestParser::finishRequest() {
  phase_ = Phase::kStart;
  pos_ = 0;
  scan_ = 0;
  args_left_ = 0;
  bulk_len_ = 0;
  bytes_needed_ = 0;
  seen_ = 0;
  spans_.clear();
}

ParseStatus RequestParser::parse(std::string_view input, size_t& consumed, Request& out) {
  consumed = 0;
  if (phase_ == Phase::kFailed) return ParseStatus::kError;
  if (phase_ == Phase::kStart) {
    if (input.empty()) return needMore(1);
    error_ = {};
    phase_ = input[0] == '*' ? Phase::kCount : Phase::kInline;
  } else if (SY_BUG(input.size() < seen_, "request parser resumed with fewer bytes than before")) {
    finishRequest();
    return parse(input, consumed, out);
  }
  ParseStatus status = phase_ == Phase::kInline ? parseInline(input, consumed, out)
                                                : parseMultibulk(input, consumed, out);
  if (status == ParseStatus::kNeedMore) seen_ = input.size();
  return status;
}

ParseStatus RequestParser::parseInline(std::string_view input, size_t& consumed, Request& out) {
  // A '\n' at index <= max_inline_bytes is within the limit; the result does not depend on how
  // the bytes were split across reads.
  const size_t window = std::min(input.size(), limits_.max_inline_bytes + 1);
  const void* newline =
      scan_ < window ? std::memchr(input.data() + scan_, '\n', window - scan_) : nullptr;
  if (newline == nullptr) {
    if (input.size() > limits_.max_inline_bytes) return fail(kErrTooBigInlineRequest);
    scan_ = input.size();
    return needMore(input.size() + 1);
  }
  size_t end = static_cast<size_t>(static_cast<const char*>(newline) - input.data());
  size_t line_len = (end > 0 && input[end - 1] == '\r') ? end - 1 : end;
  if (!splitInlineArgs(input.substr(0, line_len), out.args, unquoted_)) {
    return fail(kErrUnbalancedQuotes);
  }
  consumed = end + 1;
  out.raw = input.substr(0, consumed);
  out.is_inline = true;
  finishRequest();
  return ParseStatus::kOk;
}

ParseStatus RequestParser::parseMultibulk(std::string_view input, size_t& consumed, Request& out) {
  if (phase_ == Phase::kCount) {
    if (Step step = readCount(input); step != Step::kContinue) {
      return step == Step::kError ? ParseStatus::kError : needMore(input.size() + 1);
    }
  }
  while (args_left_ > 0) {
    if (phase_ == Phase::kBulkHeader) {
      if (Step step = readBulkHeader(input); step != Step::kContinue) {
        return step == Step::kError
                   ? ParseStatus::kError
                   : needMore(std::max(input.size() + 1, pos_ + kMinArgBytes * args_left_));
      }
    }
    const size_t end = pos_ + bulk_len_;
    if (input.size() < end + 2) return needMore(end + 2 + kMinArgBytes * (args_left_ - 1));
    if (input[end] != '\r' || input[end + 1] != '\n') return fail(kErrBulkNotTerminated);
    spans_.push_back({pos_, bulk_len_});
    pos_ = end + 2;
    scan_ = pos_;
    --args_left_;
    phase_ = Phase::kBulkHeader;
  }
  out.args.clear();
  for (const ArgSpan& span : spans_) out.args.push_back(input.substr(span.offset, span.length));
  consumed = pos_;
  out.raw = input.substr(0, pos_);
  out.is_inline = false;
  finishRequest();
  return ParseStatus::kOk;
}

// Reads "*<count>\r\n" at offset 0. A count <= 0 leaves args_left_ at 0: an empty request.
RequestParser::Step RequestParser::readCount(std::string_view input) {
  std::string_view digits;
  size_t next = 0;
  if (Step step = readHeaderLine(input, kErrTooBigMbulkCountString, kErrInvalidMultibulkLength,
                                 digits, next);
      step != Step::kContinue) {
    return step;
  }
  std::optional<int64_t> count = parseStrictInteger(digits);
  if (!count || *count > INT_MAX ||
      (*count > 0 && static_cast<size_t>(*count) > limits_.max_args)) {
    fail(kErrInvalidMultibulkLength);
    over_limit_ = count && *count <= INT_MAX;
    return Step::kError;
  }
  pos_ = next;
  scan_ = next;
  args_left_ = *count > 0 ? static_cast<size_t>(*count) : 0;
  phase_ = Phase::kBulkHeader;
  return Step::kContinue;
}

// Reads "$<length>\r\n" at pos_ and moves to the argument's data.
RequestParser::Step RequestParser::readBulkHeader(std::string_view input) {
  if (input.size() <= pos_) return Step::kNeedMore;
  if (input[pos_] != '$') {
    failExpectedDollar(input[pos_]);
    return Step::kError;
  }
  std::string_view digits;
  size_t next = 0;
  if (Step step =
          readHeaderLine(input, kErrTooBigBulkCountString, kErrInvalidBulkLength, digits, next);
      step != Step::kContinue) {
    return step;
  }
  std::optional<int64_t> length = parseStrictInteger(digits);
  if (!length || *length < 0 || static_cast<uint64_t>(*length) > limits_.max_bulk_bytes) {
    fail(kErrInvalidBulkLength);
    over_limit_ = length && *length >= 0;
    return Step::kError;
  }
  // `next` bytes of the request so far, then the argument and its CRLF.
  if (next + static_cast<uint64_t>(*length) + 2 > limits_.max_request_bytes) {
    fail(kErrTooBigRequest);
    over_limit_ = true;
    return Step::kError;
  }
  bulk_len_ = static_cast<size_t>(*length);
  pos_ = next;
  scan_ = next;
  phase_ = Phase::kBulkData;
  return Step::kContinue;
}

// Finds the header line starting at pos_ (its type byte is input[pos_]). On kContinue, `text`
// is the bytes between the type byte and "\r\n" and `next` the offset after them.
// The line's CR must lie within max_inline_bytes of its start, else `too_big`; a CR not
// followed by LF is `invalid`.
RequestParser::Step RequestParser::readHeaderLine(std::string_view input, std::string_view too_big,
                                                  std::string_view invalid, std::string_view& text,
                                                  size_t& next) {
  const size_t start = pos_;
  const size_t window = std::min(input.size(), start + limits_.max_inline_bytes + 1);
  size_t cr = start + 1;
  if (scan_ == start) {
    // Fast path, first look at this line: digits straight to "\r".
    while (cr < window && isDigit(input[cr])) ++cr;
  } else {
    cr = std::max(cr, scan_);
  }
  if (cr >= window || input[cr] != '\r') {
    const void* found = cr < window ? std::memchr(input.data() + cr, '\r', window - cr) : nullptr;
    if (found == nullptr) {
      if (input.size() - start > limits_.max_inline_bytes) {
        fail(too_big);
        return Step::kError;
      }
      scan_ = std::max(window, start + 1);
      return Step::kNeedMore;
    }
    cr = static_cast<size_t>(static_cast<const char*>(found) - input.data());
  }
  scan_ = cr;
  if (cr + 1 >= input.size()) return Step::kNeedMore;
  if (input[cr + 1] != '\n') {
    fail(invalid);
    return Step::kError;
  }
  text = input.substr(start + 1, cr - start - 1);
  next = cr + 2;
  return Step::kContinue;
}

ParseStatus RequestParser::needMore(size_t lower_bound) {
  bytes_needed_ = lower_bound;
  return ParseStatus::kNeedMore;
}

ParseStatus RequestParser::fail(std::string_view message) {
  phase_ = Phase::kFailed;
  error_ = message;
  over_limit_ = false;
  bytes_needed_ = 0;
  return ParseStatus::kError;
}

void RequestParser::failExpectedDollar(char got) {
  // Redis prints the byte as is; the reply must not carry a line break, so those become spaces.
  const size_t prefix = kErrExpectedDollarPrefix.size();
  static_assert(sizeof(error_text_) >= kErrExpectedDollarPrefix.size() + 2);
  std::memcpy(error_text_, kErrExpectedDollarPrefix.data(), prefix);
  error_text_[prefix] = (got == '\r' || got == '\n') ? ' ' : got;
  error_text_[prefix + 1] = '\'';
  fail(std::string_view(error_text_, prefix + 2));
}

}  // namespace sy::resp
