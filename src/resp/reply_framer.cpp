// Reply framing: one element at a time, with a stack of open aggregates.
//
//   pos_ ──> type byte + line ──┬─ + - : _ , # (  ─────────────> element complete
//                               ├─ $ ! = with length L ──> L bytes + CRLF ──> element complete
//                               └─ * ~ > % | with count N ──> push level (N or 2N elements)
//   element complete: pop every level it fills; the reply ends when the stack is empty.
//
// Positions (pos_, scan_, blob_end_, verbatim_colon_) count from the start of the input the
// caller passes, which is the pending reply's first byte less what the caller dropped.
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

// '+' and '-' lines carry text that no rule constrains (a script chooses it): they have no
// line limit of their own, and an oversized reply may drop bytes in their middle.
bool isFreeTextLine(char type) { return type == '+' || type == '-'; }

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
  cut_line_type_ = 0;
  pending_line_type_ = 0;
  oversized_ = false;
  dropped_ = 0;
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
        last_reply_size_ = dropped_ + pos_;
        last_reply_oversized_ = last_reply_size_ > limits_.max_reply_bytes;
        reset();
        return ParseStatus::kOk;
      case Step::kNeedMore:
        seen_ = input.size();
        // All of input belongs to the pending reply, and so does a bulk's announced length.
        checkOversized(in_blob_ ? std::max(seen_, blob_end_ + 2) : seen_);
        return ParseStatus::kNeedMore;
      case Step::kError:
        return ParseStatus::kError;
    }
  }
}

// Reads the element (or the rest of the bulk) at pos_.
ReplyFramer::Step ReplyFramer::readElement(std::string_view input) {
  if (in_blob_) {
    // The format's ':' is checked as soon as it arrives, before any of it may be dropped.
    if (verbatim_colon_ != 0 && verbatim_colon_ < input.size()) {
      if (input[verbatim_colon_] != ':') return fail(kErrReplyBadVerbatim);
      verbatim_colon_ = 0;
    }
    if (input.size() < blob_end_ + 2) return Step::kNeedMore;
    if (input[blob_end_] != '\r' || input[blob_end_ + 1] != '\n') {
      return fail(kErrReplyBulkNotTerminated);
    }
    pos_ = blob_end_ + 2;
    scan_ = pos_;
    in_blob_ = false;
    return completeElement();
  }
  // An unknown type byte fails at once, rather than after a search for a CRLF that may never come.
  if (cut_line_type_ == 0 && pos_ < input.size() && !isKnownType(input[pos_])) {
    return fail(kErrReplyUnknownType);
  }
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
// A line cut by dropped() has lost its type byte: cut_line_type_ stands for it, and its text
// (which nobody reads: the reply is oversized) is what is left.
ReplyFramer::Step ReplyFramer::readLine(std::string_view input, char& type,
                                        std::string_view& text) {
  const size_t start = pos_;
  if (start >= input.size()) return Step::kNeedMore;
  const bool cut = cut_line_type_ != 0;
  pending_line_type_ = cut ? cut_line_type_ : input[start];
  const size_t line_limit =
      isFreeTextLine(pending_line_type_) ? input.size() : limits_.max_line_bytes;
  const size_t window = std::min(input.size(), start + line_limit + 1);
  size_t from = std::max(scan_, cut ? start : start + 1);
  const void* found = nullptr;
  if (scan_ == start && !cut) {
    // Most lines are short ("$5", ":1", "+OK"): a plain loop beats a memchr call on them.
    const size_t short_end = std::min(window, start + kShortLine);
    while (from < short_end && input[from] != '\r') ++from;
    if (from < short_end) found = input.data() + from;
  }
  if (found == nullptr && from < window) {
    found = std::memchr(input.data() + from, '\r', window - from);
  }
  if (found == nullptr) {
    if (input.size() - start > line_limit) return fail(kErrReplyLineTooLong);
    scan_ = std::max(window, cut ? start : start + 1);
    return Step::kNeedMore;
  }
  const size_t cr = static_cast<size_t>(static_cast<const char*>(found) - input.data());
  scan_ = cr;
  if (cr + 1 >= input.size()) return Step::kNeedMore;
  if (input[cr + 1] != '\n') return fail(kErrReplyBadLineEnd);
  type = pending_line_type_;
  text = cut ? input.substr(start, cr - start) : input.substr(start + 1, cr - start - 1);
  cut_line_type_ = 0;
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

void ReplyFramer::checkOversized(size_t known_bytes) {
  if (!oversized_ && dropped_ + known_bytes > limits_.max_reply_bytes) oversized_ = true;
}

// Bytes before pos_ are framed; so is a bulk's data read so far (its CRLF and, for '=', its
// ':' are checked on arrival); a '+' or '-' line may lose what was searched for its CR.
size_t ReplyFramer::droppable() const {
  if (!oversized_) return 0;
  if (in_blob_) return verbatim_colon_ == 0 ? std::min(seen_, blob_end_) : pos_;
  if (pos_ < seen_ && isFreeTextLine(pending_line_type_)) return std::max(pos_, scan_);
  return pos_;
}

void ReplyFramer::dropped(size_t n) {
  if (n == 0) return;
  if (SY_BUG(n > droppable(), "reply framer told of more dropped bytes than it allowed")) {
    fail(kErrReplyPlaceLost);
    return;
  }
  dropped_ += n;
  seen_ -= n;
  scan_ = std::max(scan_, n) - n;
  if (in_blob_) {
    blob_end_ -= n;
    if (verbatim_colon_ != 0) verbatim_colon_ -= n;  // droppable() kept n <= pos_
  } else if (n > pos_) {
    cut_line_type_ = pending_line_type_;  // the line's type byte is among the dropped
  }
  pos_ = std::max(pos_, n) - n;
}

ReplyFramer::Step ReplyFramer::fail(std::string_view message) {
  failed_ = true;
  error_ = message;
  return Step::kError;
}

}  // namespace sy::resp
