// RESP2 encoding: appends replies and requests to a ByteBuffer. Each call makes room once and
// writes in place, so nothing is allocated beyond the buffer's own growth. Pure functions; the
// buffer belongs to the calling thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/byte_buffer.h"

namespace sy::resp {

// +text\r\n. `text` must not contain CR or LF (simple strings cannot carry them).
void appendSimple(common::ByteBuffer& out, std::string_view text);

// -message\r\n. `message` includes its prefix, e.g. "ERR ...". CR and LF in it become spaces,
// so an error built from untrusted text can never break the reply stream.
void appendError(common::ByteBuffer& out, std::string_view message);

// :value\r\n
void appendInteger(common::ByteBuffer& out, int64_t value);

// $len\r\npayload\r\n
void appendBulk(common::ByteBuffer& out, std::string_view payload);

// $-1\r\n
void appendNullBulk(common::ByteBuffer& out);

// *count\r\n, to be followed by `count` replies.
void appendArrayHeader(common::ByteBuffer& out, size_t count);

// *-1\r\n
void appendNullArray(common::ByteBuffer& out);

// The null as `protocol` spells it: RESP3's one null, or RESP2's null array (`array`) or
// null bulk string.
std::string_view nullReply(int protocol, bool array);

// RESP3 only (a client that sent HELLO 3):
// _\r\n, RESP3's one null, for a null bulk or array alike.
void appendNull(common::ByteBuffer& out);
// %count\r\n, to be followed by `count` key and value pairs.
void appendMapHeader(common::ByteBuffer& out, size_t count);
// >count\r\n, to be followed by `count` replies: out of band (Pub/Sub messages).
void appendPushHeader(common::ByteBuffer& out, size_t count);
// =len\r\nfmt:text\r\n, text with a three-letter format ("txt" as INFO sends).
void appendVerbatim(common::ByteBuffer& out, std::string_view format, std::string_view text);

// A request as a multibulk: *N\r\n then $len\r\narg\r\n for each argument.
void appendCommand(common::ByteBuffer& out, std::span<const std::string_view> args);

}  // namespace sy::resp
