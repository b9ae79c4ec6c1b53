// Reply framing: one element at a time, with a stack of open aggregates.
//
//   pos_ ──> type byte + line ──┬─ + - : _ , # (  ─────────────> element complete
//                               ├─ $ ! = with length L ──> L bytes + CRLF ──> element complete
//                               └─ * ~ > % | with count N ──> push level (N or 2N elements)
//   element complete: pop every level it fills; the reply ends when the stack is empty.
#include "resp/reply_framer.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "common/check.h"
#include "resp/errors.h"
#include "resp/number.h"

namespace sy::resp {
namespace {

// Lines up to this long are searched byte by byte on first sight (see readLine).
constexpr size_t kShortLine = 24;

bool isBignum(std::string_view text) {
  if (!text.empty() && text[0] == '-') text.remove_prefix(1);
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool isKnownType(char type) {
  switch (type) {
    case '+':
    case '-':
    case ':':
    case '$':
    case '*':
    case '_':
    case ',':
    case '#':
    case '(':
    case '=':
    case '!':
    case '%':
    case '~':
    case '>':
    case '|':
      return true;
    default:
      return false;
  }
}

}  // namespace

ReplyFramer::ReplyFramer(FramerLimits limits) : limits_(limits) {}

void ReplyFramer::reset() {
  pos_ = 0;
  scan_ = 0;
  seen_ = 0;
  blob_end_ = 0;
  verbatim_colon_ = 0;
  in_blob_ = false;
  failed_ = false;
  stack_.clear();
  error_ = {};
}

ParseStatus ReplyFramer::frame(std::string_view input, size_t& consumed) {
  consumed = 0;
  if (failed_) return ParseStatus::kError;
  if (SY_BUG(input.size() < seen_, "reply framer resumed with fewer bytes than before")) {
    reset();
  }
  while (true) {
    switch (readElement(input)) {
      case Step::kMore:
        continue;
      case Step::kDone:
        consumed = pos_;
        reset();
        return ParseStatus::kOk;
      case Step::kNeedMore:
        seen_ = input.size();
        return ParseStatus::kNeedMore;
      case Step::kError:
        return ParseStatus::kError;
    }
  }
}

// Reads the element (or the rest of the bulk) at pos_.
ReplyFramer::Step ReplyFramer::readElement(std::string_view input) {
  if (in_blob_) {
    if (input.size() < blob_end_ + 2) return Step::kNeedMore;
    if (input[blob_end_] != '\r' || input[blob_end_ + 1] != '\n') {
      return fail(kErrReplyBulkNotTerminated);
    }
    if (verbatim_colon_ != 0 && input[verbatim_colon_] != ':') return fail(kErrReplyBadVerbatim);
    pos_ = blob_end_ + 2;
    scan_ = pos_;
    in_blob_ = false;
    return completeElement();
  }
  // An unknown type byte fails at once, rather than after a search for a CRLF that may never come.
  if (pos_ < input.size() && !isKnownType(input[pos_])) return fail(kErrReplyUnknownType);
  char type = 0;
  std::string_view text;
  if (Step step = readLine(input, type, text); step != Step::kMore) return step;
  switch (type) {
    case '$':
    case '!':
    case '=':
      return readBlobHeader(type, text);
    case '*':
    case '~':
    case '>':
    case '%':
    case '|':
      return readAggregateHeader(type, text);
    default:
      return readScalar(type, text);
  }
}

// Reads the line at pos_: its type byte and the text up to CRLF. Moves pos_ past it (kMore).
ReplyFramer::Step ReplyFramer::readLine(std::string_view input, char& type,
                                        std::string_view& text) {
  const size_t start = pos_;
  const size_t window = std::min(input.size(), start + limits_.max_line_bytes + 1);
  size_t from = std::max(scan_, start + 1);
  const void* found = nullptr;
  if (scan_ == start) {
    // Most lines are short ("$5", ":1", "+OK"): a plain loop beats a memchr call on them.
    const size_t short_end = std::min(window, start + kShortLine);
    while (from < short_end && input[from] != '\r') ++from;
    if (from < short_end) found = input.data() + from;
  }
  if (found == nullptr && from < window) {
    found = std::memchr(input.data() + from, '\r', window - from);
  }
  if (found == nullptr) {
    if (input.size() - start > limits_.max_line_bytes) return fail(kErrReplyLineTooLong);
    scan_ = std::max(window, start + 1);
    return Step::kNeedMore;
  }
  const size_t cr = static_cast<size_t>(static_cast<const char*>(found) - input.data());
  scan_ = cr;
  if (cr + 1 >= input.size()) return Step::kNeedMore;
  if (input[cr + 1] != '\n') return fail(kErrReplyBadLineEnd);
  type = input[start];
  text = input.substr(start + 1, cr - start - 1);
  pos_ = cr + 2;
  scan_ = pos_;
  return Step::kMore;
}

// '$' bulk, '!' blob error, '=' verbatim string ("txt:" then the text): a length, then data.
ReplyFramer::Step ReplyFramer::readBlobHeader(char type, std::string_view text) {
  if (text == "?") return fail(kErrReplyStreamed);
  std::optional<int64_t> length = parseStrictInteger(text);
  if (!length) return fail(kErrReplyBadLength);
  if (*length == -1 && type == '$') return completeElement();  // null bulk
  if (*length < 0) return fail(kErrReplyBadLength);
  if (static_cast<uint64_t>(*length) > limits_.max_bulk_bytes) return fail(kErrReplyBulkTooBig);
  verbatim_colon_ = 0;
  if (type == '=') {
    if (*length < 4) return fail(kErrReplyBadVerbatim);
    verbatim_colon_ = pos_ + 3;
  }
  blob_end_ = pos_ + static_cast<size_t>(*length);
  in_blob_ = true;
  return Step::kMore;
}

// '*' array, '~' set, '>' push: N elements. '%' map: N pairs. '|' attribute: N pairs, and then
// the value it annotates (so it does not take an element's place in its parent).
ReplyFramer::Step ReplyFramer::readAggregateHeader(char type, std::string_view text) {
  if (text == "?") return fail(kErrReplyStreamed);
  std::optional<int64_t> count = parseStrictInteger(text);
  if (!count) return fail(kErrReplyBadLength);
  if (*count == -1 && type == '*') return completeElement();  // null array
  if (*count < 0) return fail(kErrReplyBadLength);
  const bool is_attribute = type == '|';
  uint64_t elements = static_cast<uint64_t>(*count);
  if (type == '%' || is_attribute) elements *= 2;  // count <= INT64_MAX: no overflow
  if (elements == 0) return is_attribute ? Step::kMore : completeElement();
  if (stack_.size() >= limits_.max_depth) return fail(kErrReplyTooDeep);
  stack_.push_back({elements, is_attribute});
  return Step::kMore;
}

ReplyFramer::Step ReplyFramer::readScalar(char type, std::string_view text) {
  switch (type) {
    case '+':
    case '-':
      break;
    case ':':
      if (!parseStrictInteger(text)) return fail(kErrReplyBadInteger);
      break;
    case '_':
      if (!text.empty()) return fail(kErrReplyBadNull);
      break;
    case ',':
      if (text.empty()) return fail(kErrReplyBadDouble);
      break;
    case '#':
      if (text != "t" && text != "f") return fail(kErrReplyBadBoolean);
      break;
    default:  // '(': isKnownType() admitted nothing else
      if (!isBignum(text)) return fail(kErrReplyBadInteger);
      break;
  }
  return completeElement();
}

// An element has been read: it fills a place in the innermost open aggregate, which may close
// and fill a place in its parent, and so on. kDone when the outermost reply is complete.
ReplyFramer::Step ReplyFramer::completeElement() {
  while (!stack_.empty()) {
    Level& top = stack_.back();
    if (--top.remaining > 0) return Step::kMore;
    const bool was_attribute = top.is_attribute;
    stack_.pop_back();
    if (was_attribute) return Step::kMore;  // the annotated value comes next
  }
  return Step::kDone;
}

ReplyFramer::Step ReplyFramer::fail(std::string_view message) {
  failed_ = true;
  error_ = message;
  return Step::kError;
}

}  // namespace sy::resp
