// A tiny RESP2 framer for the command tests, independent of the resp module: it checks
// that the table's raw replies are well-formed and reads redis-server's replies. Of RESP3 it
// knows what COMMAND replies with: maps (%), sets (~) and the null (_).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace sy::command {

inline constexpr size_t kBad = std::string_view::npos;

// One RESP2 value starting at `pos`: its type byte, header line and end offset.
struct Frame {
  size_t start = 0;
  char type = 0;
  std::string_view line;  // the header after the type byte
  size_t body = 0;        // offset just past the header's CRLF
  size_t end = kBad;      // offset just past the whole value; kBad if malformed
};

inline bool parseInt(std::string_view text, int64_t& value) {
  if (text.empty()) return false;
  size_t i = text[0] == '-' ? 1 : 0;
  if (i == text.size()) return false;
  value = 0;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  if (text[0] == '-') value = -value;
  return true;
}

inline Frame frameAt(std::string_view data, size_t pos, int depth = 0) {
  Frame frame;
  frame.start = pos;
  if (pos >= data.size() || depth > 16) return frame;
  const size_t eol = data.find("\r\n", pos);
  if (eol == kBad) return frame;
  frame.type = data[pos];
  frame.line = data.substr(pos + 1, eol - pos - 1);
  frame.body = eol + 2;
  if (frame.line.find_first_of("\r\n") != kBad) return frame;
  int64_t n = 0;
  switch (frame.type) {
    case '+':
    case '-':
      frame.end = frame.body;
      break;
    case '_':
      if (frame.line.empty()) frame.end = frame.body;
      break;
    case ':':
      if (parseInt(frame.line, n)) frame.end = frame.body;
      break;
    case '$':
      if (parseInt(frame.line, n) && n >= 0 && frame.body + n + 2 <= data.size() &&
          data.substr(frame.body + n, 2) == "\r\n") {
        frame.end = frame.body + n + 2;
      }
      break;
    case '*':
    case '~':
    case '%': {
      if (!parseInt(frame.line, n) || n < 0) break;
      if (frame.type == '%') n *= 2;
      size_t next = frame.body;
      for (int64_t i = 0; i < n && next != kBad; ++i) next = frameAt(data, next, depth + 1).end;
      frame.end = next;
      break;
    }
    default:
      break;
  }
  return frame;
}

// The elements of the array (or set) at `pos`, or a map's keys and values in turn; empty for
// another type.
inline std::vector<Frame> elements(std::string_view data, size_t pos) {
  std::vector<Frame> out;
  const Frame array = frameAt(data, pos);
  int64_t n = 0;
  if ((array.type != '*' && array.type != '~' && array.type != '%') || !parseInt(array.line, n)) {
    return out;
  }
  if (array.type == '%') n *= 2;
  size_t next = array.body;
  for (int64_t i = 0; i < n; ++i) {
    out.push_back(frameAt(data, next));
    next = out.back().end;
  }
  return out;
}

inline std::string_view bulk(std::string_view data, const Frame& frame) {
  return frame.type == '$' ? data.substr(frame.body, frame.end - frame.body - 2) : "";
}

}  // namespace sy::command
