// Test drivers that feed a parser or framer the same bytes in different read patterns and
// record what it returns, so tests can require every pattern to agree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "resp/reply_framer.h"
#include "resp/request_parser.h"

namespace sy::resp {

// One result of parse() or frame(), copied out of the buffer.
struct Outcome {
  ParseStatus status = ParseStatus::kNeedMore;
  std::vector<std::string> args;
  std::string raw;  // the request or reply bytes (kOk)
  bool is_inline = false;
  std::string error;            // kError
  uint64_t oversized_size = 0;  // kOk of a reply past the framer's limit: its size (raw empty)

  bool operator==(const Outcome&) const = default;
};

// How the input reaches the parser: the sizes of successive reads (the rest in one last read).
// An empty plan means the whole input in one read.
using ReadPlan = std::vector<size_t>;

ReadPlan splitAt(size_t offset);
ReadPlan oneByteAtATime(size_t size);
ReadPlan chunksOf(size_t chunk, size_t size);

// Appends the reads to a buffer one by one (the buffer reallocates, as a session's would); after
// each, parses requests until kNeedMore or kError, dropping consumed bytes. The outcomes end
// with a kNeedMore if bytes of an incomplete request remain, or with the first kError.
std::vector<Outcome> parseRequests(std::string_view input, const ReadPlan& plan,
                                   ParserLimits limits = {});
std::vector<Outcome> frameReplies(std::string_view input, const ReadPlan& plan,
                                  FramerLimits limits = {});

// Parses `input` whole, then checks (with gtest expectations) that splitting it at every offset
// and feeding it one byte at a time give the same outcomes. Returns the whole-input outcomes.
std::vector<Outcome> parseEveryWay(std::string_view input, ParserLimits limits = {});
std::vector<Outcome> frameEveryWay(std::string_view input, FramerLimits limits = {});

// Shorthands for a single expected outcome.
Outcome okRequest(std::vector<std::string> args, std::string raw, bool is_inline = false);
Outcome okReply(std::string raw);
Outcome oversizedReply(uint64_t size);
Outcome needMoreOutcome();
Outcome errorOutcome(std::string_view text);

// gtest prints an Outcome with this.
void PrintTo(const Outcome& outcome, std::ostream* os);

}  // namespace sy::resp
