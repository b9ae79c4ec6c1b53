#include "route/cluster_redirect.h"

#include <algorithm>
#include <charconv>

namespace sy::route {
namespace {

constexpr std::string_view kMoved = "-MOVED ";
constexpr std::string_view kAsk = "-ASK ";
constexpr std::string_view kTryAgain = "-TRYAGAIN";
constexpr std::string_view kClusterDown = "-CLUSTERDOWN";

// "<slot> <host:port>\r\n" after the error's first word.
std::optional<Redirection> slotAndAddress(Redirection::Kind kind, std::string_view rest) {
  if (!rest.ends_with("\r\n")) return std::nullopt;
  rest.remove_suffix(2);
  const size_t space = rest.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  unsigned slot = 0;
  const std::string_view slot_text = rest.substr(0, space);
  auto [end, error] = std::from_chars(slot_text.data(), slot_text.data() + slot_text.size(), slot);
  if (error != std::errc() || end != slot_text.data() + slot_text.size() || slot > 16383) {
    return std::nullopt;
  }
  const std::string_view address = rest.substr(space + 1);
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == address.size()) return std::nullopt;
  return Redirection{kind, static_cast<uint16_t>(slot), address};
}

}  // namespace

std::optional<Redirection> parseRedirection(std::string_view framed) {
  if (framed.empty() || framed.front() != '-') return std::nullopt;
  if (framed.starts_with(kMoved) || framed.starts_with(kAsk)) return parseSlotMove(framed);
  auto word_is = [&](std::string_view word) {
    return framed.starts_with(word) && (framed[word.size()] == ' ' || framed[word.size()] == '\r');
  };
  if (framed.size() > kClusterDown.size() && word_is(kClusterDown)) {
    return Redirection{Redirection::Kind::kClusterDown, 0, {}};
  }
  if (framed.size() > kTryAgain.size() && word_is(kTryAgain)) {
    return Redirection{Redirection::Kind::kTryAgain, 0, {}};
  }
  return std::nullopt;
}

std::optional<Redirection> parseSlotMove(std::string_view framed) {
  if (framed.starts_with(kMoved)) {
    return slotAndAddress(Redirection::Kind::kMoved, framed.substr(kMoved.size()));
  }
  if (framed.starts_with(kAsk)) {
    return slotAndAddress(Redirection::Kind::kAsk, framed.substr(kAsk.size()));
  }
  return std::nullopt;
}

common::Millis clusterRetryDelay(uint8_t retry) {
  const int shift = std::clamp<int>(retry, 1, 5) - 1;
  return common::Millis(10 << shift);
}

}  // namespace sy::route
