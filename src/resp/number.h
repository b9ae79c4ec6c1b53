// Strict decimal integers as Redis reads them (string2ll in util.c): an optional '-', then
// "0" alone or a first digit 1-9 followed by digits; no '+', no spaces, no leading zeros,
// no "-0", at most 20 characters, and the value must fit in int64_t.
// Used for RESP length headers and ':' replies. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sy::resp {

inline std::optional<int64_t> parseStrictInteger(std::string_view text) {
  constexpr size_t kMaxChars = 20;  // "-9223372036854775808"
  if (text.empty() || text.size() > kMaxChars) return std::nullopt;
  if (text.size() == 1 && text[0] == '0') return 0;
  size_t i = 0;
  bool negative = text[0] == '-';
  if (negative && ++i == text.size()) return std::nullopt;
  if (text[i] < '1' || text[i] > '9') return std::nullopt;
  uint64_t value = 0;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  if (negative) {
    if (value > static_cast<uint64_t>(INT64_MAX) + 1) return std::nullopt;
    return static_cast<int64_t>(0 - value);
  }
  if (value > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(value);
}

}  // namespace sy::resp
