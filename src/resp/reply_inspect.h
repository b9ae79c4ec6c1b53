// Small read-only helpers on one complete, framed reply (as ReplyFramer delimits it).
// Every returned view points into `framed` and lives as long as it does. Pure functions; any
// thread. Given bytes that are not one well-formed reply they return "no" answers, never read
// out of bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace sy::resp {

// True for an error reply (starts with '-').
bool isErrorReply(std::string_view framed);

// For an array reply ('*', or a RESP3 push '>'), the raw bytes of each top-level element in order,
// each a complete reply. Returns false if `framed` is not an array, is the null array, or is
// malformed. `out` is cleared first.
bool splitArray(std::string_view framed, std::vector<std::string_view>& out);

// The integer of a ':' reply; nullopt otherwise.
std::optional<int64_t> integerReply(std::string_view framed);

// The text of a '+' or '-' reply without the type byte and CRLF; empty for any other reply.
std::string_view lineReplyText(std::string_view framed);

// The payload of a '$' reply; nullopt for the null bulk "$-1" or a reply of another type.
std::optional<std::string_view> bulkReply(std::string_view framed);

// The text of a '$' or '+' reply (what Sentinel and CLUSTER replies mix for strings); nullopt
// for any other reply.
std::optional<std::string_view> textReply(std::string_view framed);

// The integer of a ':' reply, or of a textReply whose whole text is a decimal integer (ROLE,
// SENTINEL and CLUSTER SHARDS send numbers both ways); nullopt otherwise.
std::optional<int64_t> integerOrDecimalReply(std::string_view framed);

// The length of the complete reply at the start of `bytes`, or 0 if it does not start with one.
// Does not enforce FramerLimits: meant for bytes a ReplyFramer has already accepted.
size_t replyLength(std::string_view bytes);

}  // namespace sy::resp
