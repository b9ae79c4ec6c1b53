// Key extraction from Redis 7 key specs (see extractKeys() in command.h).
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include "command/command.h"

namespace sy::command {
namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + ('a' - 'A'));
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + ('a' - 'A'));
    if (x != y) return false;
  }
  return true;
}

// A decimal integer as Redis's string2ll() accepts it: an optional '-', no '+', no spaces, no
// leading zeros. Values outside int64 fail.
bool parseInteger(std::string_view text, int64_t& value) {
  if (text.empty() || text.size() > 20) return false;
  size_t i = 0;
  const bool negative = text[0] == '-';
  if (negative) ++i;
  if (i == text.size() || (text[i] == '0' && text.size() > i + 1)) return false;
  uint64_t magnitude = 0;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (magnitude > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;
    magnitude = magnitude * 10 + digit;
  }
  const uint64_t limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (magnitude > limit + (negative ? 1 : 0)) return false;
  value = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return true;
}

// Where a keyword spec's keys begin: one past the keyword, or 0 when it is absent. Searches
// forward from startfrom up to (not including) the last argument, or backward from
// argc + startfrom down to (not including) argument 1, as Redis does.
int64_t keywordStart(const KeySpec& spec, std::span<const std::string_view> args) {
  const int64_t argc = static_cast<int64_t>(args.size());
  const bool forward = spec.index > 0;
  const int64_t start = forward ? spec.index : argc + spec.index;
  const int64_t end = forward ? argc - 1 : 1;
  for (int64_t i = start; i != end; i = start <= end ? i + 1 : i - 1) {
    if (i >= argc || i < 1) break;
    if (equalsIgnoreCase(args[static_cast<size_t>(i)], spec.keyword)) return i + 1;
  }
  return 0;
}

enum class SpecResult { kKeys, kSkipped, kInvalid };

// Appends the keys one spec finds.
SpecResult applySpec(const KeySpec& spec, std::span<const std::string_view> args,
                     std::vector<uint32_t>& out) {
  const int64_t argc = static_cast<int64_t>(args.size());
  int64_t first = 0;
  switch (spec.begin_search) {
    case BeginSearch::kIndex:
      first = spec.index;
      break;
    case BeginSearch::kKeyword:
      first = keywordStart(spec, args);
      if (first == 0) return SpecResult::kSkipped;
      break;
    case BeginSearch::kUnknown:
      return SpecResult::kInvalid;
  }
  int64_t last = 0;
  switch (spec.find_keys) {
    case FindKeys::kRange:
      if (spec.last_key >= 0) {
        last = first + spec.last_key;
      } else if (spec.limit == 0) {
        last = argc + spec.last_key;
      } else {
        last = first + ((argc - first) / spec.limit + spec.last_key);
      }
      break;
    case FindKeys::kKeynum: {
      const int64_t count_at = first + spec.keynum_index;
      int64_t numkeys = 0;
      if (count_at >= argc) return SpecResult::kInvalid;
      if (!parseInteger(args[static_cast<size_t>(count_at)], numkeys) || numkeys < 0) {
        return SpecResult::kInvalid;
      }
      first += spec.first_key;
      if (numkeys == 0) return SpecResult::kSkipped;  // EVAL "..." 0: no keys, not an error
      if (numkeys > argc) return SpecResult::kInvalid;
      last = first + numkeys - 1;
      break;
    }
    case FindKeys::kUnknown:
      return SpecResult::kInvalid;
  }
  if (spec.key_step <= 0 || last >= argc || last < first || first >= argc) {
    return SpecResult::kInvalid;
  }
  for (int64_t i = first; i <= last; i += spec.key_step) out.push_back(static_cast<uint32_t>(i));
  return (spec.flags & kKeyIncomplete) != 0 ? SpecResult::kInvalid : SpecResult::kKeys;
}

// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE dst]:
// the sorted key, then the key of the last STORE, skipping the arguments of BY, LIMIT and GET
// exactly as Redis's sortGetKeys() does.
bool sortKeys(std::span<const std::string_view> args, bool read_only, std::vector<uint32_t>& out) {
  if (args.size() < 2) return false;
  out.push_back(1);
  if (read_only) return true;
  uint32_t store = 0;
  for (size_t i = 2; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (equalsIgnoreCase(arg, "limit")) {
      i += 2;
    } else if (equalsIgnoreCase(arg, "get") || equalsIgnoreCase(arg, "by")) {
      i += 1;
    } else if (equalsIgnoreCase(arg, "store") && i + 1 < args.size()) {
      store = static_cast<uint32_t>(i + 1);
    }
  }
  if (store != 0) out.push_back(store);
  return true;
}

}  // namespace

bool extractKeys(const CommandInfo& command, std::span<const std::string_view> args,
                 std::vector<uint32_t>& out) {
  out.clear();
  switch (command.key_finder) {
    case KeyFinder::kSort:
      return sortKeys(args, false, out);
    case KeyFinder::kSortRo:
      return sortKeys(args, true, out);
    case KeyFinder::kSpecs:
      break;
  }
  for (const KeySpec& spec : command.key_specs) {
    if ((spec.flags & kKeyNotKey) != 0) continue;
    if (applySpec(spec, args, out) == SpecResult::kInvalid) {
      out.clear();
      return false;
    }
  }
  return true;
}

bool mayBlock(const CommandInfo& command, std::span<const std::string_view> args) {
  if (!command.hasFlag(kFlagBlocking)) return false;
  if (command.name != "xread" && command.name != "xreadgroup") return true;
  // Options before STREAMS, as Redis's xreadGetKeys() walks them.
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (equalsIgnoreCase(arg, "block")) return true;
    if (equalsIgnoreCase(arg, "count")) {
      i += 1;
    } else if (equalsIgnoreCase(arg, "group")) {
      i += 2;
    } else if (!equalsIgnoreCase(arg, "noack")) {
      return false;  // STREAMS, or a syntax error the backend reports
    }
  }
  return false;
}

BlockTimeout blockTimeout(const CommandInfo& command, std::span<const std::string_view> args) {
  if (!mayBlock(command, args) || args.size() < 3) return {};
  const std::string_view name = command.name;
  if (name == "blmpop" || name == "bzmpop") return {1, false};
  if (name == "xread" || name == "xreadgroup") {
    for (size_t i = 1; i + 1 < args.size(); ++i) {  // the options before STREAMS, as mayBlock()
      const std::string_view arg = args[i];
      if (equalsIgnoreCase(arg, "block")) return {i + 1, true};
      if (equalsIgnoreCase(arg, "count")) {
        i += 1;
      } else if (equalsIgnoreCase(arg, "group")) {
        i += 2;
      } else if (!equalsIgnoreCase(arg, "noack")) {
        break;
      }
    }
    return {};
  }
  if (name == "wait") return {};
  return {args.size() - 1, false};  // BLPOP BRPOP BRPOPLPUSH BLMOVE BZPOPMIN BZPOPMAX
}

}  // namespace sy::command
