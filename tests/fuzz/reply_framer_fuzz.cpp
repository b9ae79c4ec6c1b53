// Fuzzes ReplyFramer and the reply inspectors. The first input byte picks the limits and the
// read pattern; the rest is the byte stream a backend sends. The stream is framed whole, one
// byte at a time and in uneven reads; every pattern must frame the same replies and stop at
// the same error. Each framed reply must also satisfy the inspectors (replyLength agrees with
// the framer, splitArray's elements tile an array exactly, ...).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_target.h"
#include "resp/reply_framer.h"
#include "resp/reply_inspect.h"

namespace {

using sy::resp::FramerLimits;
using sy::resp::ParseStatus;
using sy::resp::ReplyFramer;

struct Outcome {
  ParseStatus status;
  std::string raw;  // empty for an oversized reply: what is left of it depends on the reads
  std::string error;
  uint64_t oversized_size = 0;
  bool operator==(const Outcome&) const = default;
};

void check(bool condition) {
  if (!condition) std::abort();
}

void checkReply(std::string_view reply) {
  check(sy::resp::replyLength(reply) == reply.size());
  std::vector<std::string_view> elements;
  const bool is_array = sy::resp::splitArray(reply, elements);
  check(is_array == ((reply[0] == '*' && reply.substr(0, 3) != "*-1") || reply[0] == '>'));
  if (is_array) {
    size_t total = reply.find("\r\n") + 2;
    for (std::string_view element : elements) {
      check(element.data() == reply.data() + total);
      total += element.size();
    }
    check(total == reply.size());
  }
  check(sy::resp::integerReply(reply).has_value() == (reply[0] == ':'));
  check(sy::resp::bulkReply(reply).has_value() == (reply[0] == '$' && reply[1] != '-'));
  if (reply[0] == '+' || reply[0] == '-') {
    check(sy::resp::lineReplyText(reply).size() + 3 == reply.size());
  }
  check(sy::resp::isErrorReply(reply) == (reply[0] == '-'));
}

template <typename NextRead>
std::vector<Outcome> run(std::string_view input, const FramerLimits& limits, NextRead next_read) {
  ReplyFramer framer(limits);
  std::vector<Outcome> outcomes;
  std::string buffer;
  size_t given = 0;
  while (given < input.size()) {
    size_t n = std::min(next_read(), input.size() - given);
    buffer.append(input.substr(given, n));
    given += n;
    while (!buffer.empty()) {
      size_t consumed = 7;
      ParseStatus status = framer.frame(buffer, consumed);
      if (status == ParseStatus::kNeedMore) {
        check(consumed == 0);
        const size_t drop = framer.droppable();
        check(drop <= buffer.size() && (drop == 0 || framer.oversized()));
        buffer.erase(0, drop);
        framer.dropped(drop);
        break;
      }
      if (status == ParseStatus::kError) {
        check(!framer.error().empty());
        outcomes.push_back({status, {}, std::string(framer.error())});
        return outcomes;
      }
      check(consumed > 0 && consumed <= buffer.size());
      if (framer.lastReplyOversized()) {
        check(framer.lastReplySize() > limits.max_reply_bytes);
        outcomes.push_back({status, {}, {}, framer.lastReplySize()});
      } else {
        check(framer.lastReplySize() == consumed);
        checkReply(std::string_view(buffer).substr(0, consumed));
        outcomes.push_back({status, buffer.substr(0, consumed), {}});
      }
      buffer.erase(0, consumed);
    }
  }
  if (!buffer.empty()) outcomes.push_back({ParseStatus::kNeedMore, {}, {}});
  return outcomes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 8192) return 0;
  const uint8_t control = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  FramerLimits limits;
  if (control & 1) {
    limits.max_reply_bytes = 16;
    limits.max_line_bytes = 12;
  }
  const std::vector<Outcome> whole = run(input, limits, [&] { return input.size(); });
  check(run(input, limits, [] { return size_t{1}; }) == whole);
  uint32_t state = control * 2654435761u + 1;
  const auto uneven = [&] {
    state = state * 1103515245u + 12345u;
    return size_t{1} + (state >> 16) % 23;
  };
  check(run(input, limits, uneven) == whole);
  return 0;
}
