#include "resp/encoder.h"

#include <charconv>
#include <cstring>

namespace sy::resp {
namespace {

// Enough for a type byte, "-9223372036854775808" and CRLF.
constexpr size_t kMaxHeaderBytes = 1 + 20 + 2;

// Writes `type`, the decimal `value` and CRLF at `at`; returns the bytes written.
template <typename Integer>
size_t writeHeader(char* at, char type, Integer value) {
  at[0] = type;
  char* end = std::to_chars(at + 1, at + kMaxHeaderBytes, value).ptr;
  end[0] = '\r';
  end[1] = '\n';
  return static_cast<size_t>(end + 2 - at);
}

size_t writeBulk(char* at, std::string_view payload) {
  size_t n = writeHeader(at, '$', payload.size());
  if (!payload.empty()) std::memcpy(at + n, payload.data(), payload.size());
  n += payload.size();
  at[n] = '\r';
  at[n + 1] = '\n';
  return n + 2;
}

size_t writeLine(char* at, char type, std::string_view text) {
  at[0] = type;
  if (!text.empty()) std::memcpy(at + 1, text.data(), text.size());
  at[1 + text.size()] = '\r';
  at[2 + text.size()] = '\n';
  return text.size() + 3;
}

}  // namespace

void appendSimple(common::ByteBuffer& out, std::string_view text) {
  out.commit(writeLine(out.prepare(text.size() + 3).data(), '+', text));
}

void appendError(common::ByteBuffer& out, std::string_view message) {
  char* at = out.prepare(message.size() + 3).data();
  const size_t n = writeLine(at, '-', message);
  for (char* c = at + 1; c < at + 1 + message.size(); ++c) {
    if (*c == '\r' || *c == '\n') *c = ' ';
  }
  out.commit(n);
}

void appendInteger(common::ByteBuffer& out, int64_t value) {
  out.commit(writeHeader(out.prepare(kMaxHeaderBytes).data(), ':', value));
}

void appendBulk(common::ByteBuffer& out, std::string_view payload) {
  out.commit(writeBulk(out.prepare(kMaxHeaderBytes + payload.size() + 2).data(), payload));
}

void appendNullBulk(common::ByteBuffer& out) { out.append(std::string_view("$-1\r\n")); }

void appendArrayHeader(common::ByteBuffer& out, size_t count) {
  out.commit(writeHeader(out.prepare(kMaxHeaderBytes).data(), '*', count));
}

void appendNullArray(common::ByteBuffer& out) { out.append(std::string_view("*-1\r\n")); }

std::string_view nullReply(int protocol, bool array) {
  if (protocol == 3) return "_\r\n";
  return array ? "*-1\r\n" : "$-1\r\n";
}

void appendNull(common::ByteBuffer& out) { out.append(nullReply(3, false)); }

void appendMapHeader(common::ByteBuffer& out, size_t count) {
  out.commit(writeHeader(out.prepare(kMaxHeaderBytes).data(), '%', count));
}

void appendPushHeader(common::ByteBuffer& out, size_t count) {
  out.commit(writeHeader(out.prepare(kMaxHeaderBytes).data(), '>', count));
}

void appendVerbatim(common::ByteBuffer& out, std::string_view format, std::string_view text) {
  out.commit(
      writeHeader(out.prepare(kMaxHeaderBytes).data(), '=', format.size() + 1 + text.size()));
  out.append(format);
  out.append(std::string_view(":"));
  out.append(text);
  out.append(std::string_view("\r\n"));
}

void appendCommand(common::ByteBuffer& out, std::span<const std::string_view> args) {
  size_t total = kMaxHeaderBytes;
  for (std::string_view arg : args) total += kMaxHeaderBytes + arg.size() + 2;
  char* at = out.prepare(total).data();
  size_t n = writeHeader(at, '*', args.size());
  for (std::string_view arg : args) n += writeBulk(at + n, arg);
  out.commit(n);
}

}  // namespace sy::resp
