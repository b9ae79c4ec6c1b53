#include "resp/reply_inspect.h"

#include <charconv>
#include <cstring>

#include "resp/number.h"

namespace sy::resp {
namespace {

// The first line of `framed`: the text between the type byte and the first CRLF.
std::optional<std::string_view> firstLine(std::string_view framed, size_t& next) {
  if (framed.empty()) return std::nullopt;
  const void* found = std::memchr(framed.data(), '\r', framed.size());
  if (found == nullptr) return std::nullopt;
  const size_t cr = static_cast<size_t>(static_cast<const char*>(found) - framed.data());
  if (cr + 1 >= framed.size() || framed[cr + 1] != '\n') return std::nullopt;
  next = cr + 2;
  return framed.substr(1, cr - 1);
}

}  // namespace

bool isErrorReply(std::string_view framed) { return !framed.empty() && framed[0] == '-'; }

size_t replyLength(std::string_view bytes) {
  size_t pos = 0;
  uint64_t pending = 1;  // elements still to read; aggregates add theirs
  while (pending > 0) {
    size_t next = 0;
    std::optional<std::string_view> text = firstLine(bytes.substr(pos), next);
    if (!text) return 0;
    const char type = bytes[pos];
    pos += next;
    --pending;
    if (type != '$' && type != '!' && type != '=' && type != '*' && type != '~' && type != '>' &&
        type != '%' && type != '|') {
      continue;
    }
    std::optional<int64_t> n = parseStrictInteger(*text);
    if (!n || *n < -1 || (*n == -1 && type != '$' && type != '*')) return 0;
    if (*n == -1) continue;
    const uint64_t count = static_cast<uint64_t>(*n);
    if (type == '$' || type == '!' || type == '=') {
      if (bytes.size() - pos < count + 2 || bytes[pos + count] != '\r' ||
          bytes[pos + count + 1] != '\n') {
        return 0;
      }
      pos += count + 2;
      continue;
    }
    // Every element takes at least 3 bytes: more than the bytes left means malformed.
    if (count > bytes.size() - pos) return 0;
    if (type == '%') {
      pending += 2 * count;
    } else if (type == '|') {
      pending += 2 * count + 1;
    } else {
      pending += count;
    }
  }
  return pos;
}

bool splitArray(std::string_view framed, std::vector<std::string_view>& out) {
  out.clear();
  if (framed.empty() || (framed[0] != '*' && framed[0] != '>')) return false;
  size_t pos = 0;
  std::optional<std::string_view> text = firstLine(framed, pos);
  if (!text) return false;
  std::optional<int64_t> count = parseStrictInteger(*text);
  if (!count || *count < 0 || static_cast<uint64_t>(*count) > framed.size()) return false;
  for (int64_t i = 0; i < *count; ++i) {
    const size_t length = replyLength(framed.substr(pos));
    if (length == 0) {
      out.clear();
      return false;
    }
    out.push_back(framed.substr(pos, length));
    pos += length;
  }
  return true;
}

std::optional<int64_t> integerReply(std::string_view framed) {
  if (framed.empty() || framed[0] != ':') return std::nullopt;
  size_t next = 0;
  std::optional<std::string_view> text = firstLine(framed, next);
  if (!text) return std::nullopt;
  return parseStrictInteger(*text);
}

std::optional<std::string_view> textReply(std::string_view framed) {
  if (!framed.empty() && framed.front() == '+') return lineReplyText(framed);
  return bulkReply(framed);
}

std::optional<int64_t> integerOrDecimalReply(std::string_view framed) {
  if (std::optional<int64_t> value = integerReply(framed)) return value;
  std::optional<std::string_view> text = textReply(framed);
  int64_t value = 0;
  if (!text || text->empty()) return std::nullopt;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size()) return std::nullopt;
  return value;
}

std::string_view lineReplyText(std::string_view framed) {
  if (framed.empty() || (framed[0] != '+' && framed[0] != '-')) return {};
  size_t next = 0;
  return firstLine(framed, next).value_or(std::string_view{});
}

std::optional<std::string_view> bulkReply(std::string_view framed) {
  if (framed.empty() || framed[0] != '$') return std::nullopt;
  size_t pos = 0;
  std::optional<std::string_view> text = firstLine(framed, pos);
  if (!text) return std::nullopt;
  std::optional<int64_t> length = parseStrictInteger(*text);
  if (!length || *length < 0) return std::nullopt;
  const uint64_t n = static_cast<uint64_t>(*length);
  if (framed.size() - pos < n + 2) return std::nullopt;
  return framed.substr(pos, n);
}

}  // namespace sy::resp
