// Client-visible error strings, in one place (STYLE.md rule 9).
//
// Each is the text after the "-ERR " (or other prefix) that the caller adds when it replies.
// The protocol errors use Redis 7.0's own wording so clients and their tests see what a real
// server would say. Other modules add their strings here, grouped by the module that emits them.
#pragma once

#include <string_view>

namespace sy::resp {

// --- Request parser (client -> proxy). The client is sent "-ERR <text>" and disconnected. ---
inline constexpr std::string_view kErrInvalidMultibulkLength =
    "Protocol error: invalid multibulk length";
inline constexpr std::string_view kErrInvalidBulkLength = "Protocol error: invalid bulk length";
inline constexpr std::string_view kErrTooBigInlineRequest =
    "Protocol error: too big inline request";
inline constexpr std::string_view kErrTooBigMbulkCountString =
    "Protocol error: too big mbulk count string";
inline constexpr std::string_view kErrTooBigBulkCountString =
    "Protocol error: too big bulk count string";
inline constexpr std::string_view kErrUnbalancedQuotes =
    "Protocol error: unbalanced quotes in request";
// Followed by the offending byte and a closing quote: "Protocol error: expected '$', got 'x'".
inline constexpr std::string_view kErrExpectedDollarPrefix = "Protocol error: expected '$', got '";
// Redis skips the two bytes after bulk data without looking; we insist they are CRLF.
inline constexpr std::string_view kErrBulkNotTerminated =
    "Protocol error: bulk argument not followed by CRLF";

// --- Reply framer (backend -> proxy). Logged; the backend connection is closed. ---
inline constexpr std::string_view kErrReplyUnknownType = "reply: unknown type byte";
inline constexpr std::string_view kErrReplyBadLineEnd = "reply: CR not followed by LF";
inline constexpr std::string_view kErrReplyLineTooLong = "reply: header or line too long";
inline constexpr std::string_view kErrReplyBadInteger = "reply: invalid integer";
inline constexpr std::string_view kErrReplyBadLength = "reply: invalid bulk or aggregate length";
inline constexpr std::string_view kErrReplyBulkTooBig = "reply: bulk larger than the limit";
inline constexpr std::string_view kErrReplyBulkNotTerminated = "reply: bulk not followed by CRLF";
inline constexpr std::string_view kErrReplyTooDeep = "reply: aggregates nested too deeply";
inline constexpr std::string_view kErrReplyBadNull = "reply: RESP3 null with a payload";
inline constexpr std::string_view kErrReplyBadBoolean = "reply: RESP3 boolean not 't' or 'f'";
inline constexpr std::string_view kErrReplyBadDouble = "reply: RESP3 double is empty";
inline constexpr std::string_view kErrReplyBadVerbatim =
    "reply: RESP3 verbatim string without format";
inline constexpr std::string_view kErrReplyStreamed =
    "reply: RESP3 streamed types are not supported";

// --- Routing (route/). Replied as "-<text>"; the connection stays open. ---
inline constexpr std::string_view kErrCrossShard =
    "CROSSSLOT Keys in request don't hash to the same backend (use a hash tag to keep them "
    "together)";

}  // namespace sy::resp
