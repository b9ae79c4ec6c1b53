// Fuzzes RequestParser. The first input byte picks the limits and the read pattern; the rest is
// the byte stream a client sends. The stream is parsed whole, one byte at a time and in uneven
// reads; every pattern must give the same requests and the same error, and each request must
// hold together (raw is the consumed prefix, a multibulk re-encodes to exactly its raw bytes,
// an inline request re-encodes to a multibulk with the same arguments).
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/byte_buffer.h"
#include "fuzz_target.h"
#include "resp/encoder.h"
#include "resp/request_parser.h"

namespace {

using sy::resp::ParserLimits;
using sy::resp::ParseStatus;
using sy::resp::Request;
using sy::resp::RequestParser;

struct Outcome {
  ParseStatus status;
  std::vector<std::string> args;
  std::string raw;
  bool is_inline;
  std::string error;
  bool operator==(const Outcome&) const = default;
};

void check(bool condition) {
  if (!condition) std::abort();
}

void checkRequest(std::string_view buffer, size_t consumed, const Request& request) {
  check(consumed > 0 && consumed <= buffer.size());
  check(request.raw.data() == buffer.data() && request.raw.size() == consumed);
  sy::common::ByteBuffer encoded;
  if (!request.is_inline) {
    check(buffer[0] == '*');
    for (std::string_view arg : request.args) {
      check(arg.data() >= request.raw.data() &&
            arg.data() + arg.size() <= request.raw.data() + request.raw.size());
    }
    if (request.args.empty()) return;
    sy::resp::appendCommand(encoded, request.args);
    check(encoded.view() == request.raw);
    return;
  }
  check(buffer[0] != '*' && request.raw.back() == '\n');
  sy::resp::appendCommand(encoded, request.args);
  RequestParser reparser;
  Request again;
  size_t again_consumed = 0;
  if (request.args.empty()) return;
  check(reparser.parse(encoded.view(), again_consumed, again) == ParseStatus::kOk);
  check(again_consumed == encoded.size() && again.args == request.args);
}

// Feeds `input` in reads of the sizes `next_read()` returns; parses after each read.
template <typename NextRead>
std::vector<Outcome> run(std::string_view input, const ParserLimits& limits, NextRead next_read) {
  RequestParser parser(limits);
  Request request;
  std::vector<Outcome> outcomes;
  std::string buffer;
  size_t given = 0;
  while (given < input.size()) {
    size_t n = std::min(next_read(), input.size() - given);
    buffer.append(input.substr(given, n));
    given += n;
    while (!buffer.empty()) {
      size_t consumed = 7;
      ParseStatus status = parser.parse(buffer, consumed, request);
      if (status == ParseStatus::kNeedMore) {
        check(consumed == 0 && parser.bytesNeeded() > buffer.size());
        break;
      }
      Outcome outcome{status, {}, {}, false, std::string(parser.error())};
      if (status == ParseStatus::kError) {
        check(!outcome.error.empty());
        outcomes.push_back(outcome);
        return outcomes;
      }
      checkRequest(buffer, consumed, request);
      outcome.args.assign(request.args.begin(), request.args.end());
      outcome.raw = std::string(request.raw);
      outcome.is_inline = request.is_inline;
      outcomes.push_back(outcome);
      buffer.erase(0, consumed);
    }
  }
  if (!buffer.empty()) outcomes.push_back({ParseStatus::kNeedMore, {}, {}, false, {}});
  return outcomes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 8192) return 0;
  const uint8_t control = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  ParserLimits limits;
  if (control & 1) {
    limits.max_args = 4;
    limits.max_bulk_bytes = 16;
    limits.max_inline_bytes = 12;
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
