#include "feed.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>

namespace sy::resp {
namespace {

std::vector<size_t> readSizes(const ReadPlan& plan, size_t size) {
  std::vector<size_t> sizes;
  size_t given = 0;
  for (size_t n : plan) {
    n = std::min(n, size - given);
    sizes.push_back(n);
    given += n;
  }
  if (given < size || sizes.empty()) sizes.push_back(size - given);
  return sizes;
}

// Drives `step(buffer, consumed, outcome)` over the reads; shared by parser and framer. After
// each kNeedMore, `droppable()` leading bytes of the buffer are dropped, as the backend
// connection drops those of an oversized reply.
template <typename Step, typename Droppable>
std::vector<Outcome> drive(std::string_view input, const ReadPlan& plan, Step step,
                           Droppable droppable) {
  std::vector<Outcome> outcomes;
  std::string buffer;
  size_t given = 0;
  for (size_t n : readSizes(plan, input.size())) {
    buffer.append(input.substr(given, n));
    given += n;
    while (!buffer.empty()) {
      Outcome outcome;
      size_t consumed = 12345;
      outcome.status = step(std::string_view(buffer), consumed, outcome);
      if (outcome.status == ParseStatus::kNeedMore) {
        EXPECT_EQ(consumed, 0u);
        buffer.erase(0, droppable());
        break;
      }
      outcomes.push_back(outcome);
      if (outcome.status == ParseStatus::kError) return outcomes;
      EXPECT_GT(consumed, 0u);
      EXPECT_LE(consumed, buffer.size());
      buffer.erase(0, consumed);
    }
  }
  if (!buffer.empty()) outcomes.push_back(needMoreOutcome());
  return outcomes;
}

}  // namespace

ReadPlan splitAt(size_t offset) { return {offset}; }

ReadPlan oneByteAtATime(size_t size) { return ReadPlan(size, 1); }

ReadPlan chunksOf(size_t chunk, size_t size) { return ReadPlan(size / chunk + 1, chunk); }

std::vector<Outcome> parseRequests(std::string_view input, const ReadPlan& plan,
                                   ParserLimits limits) {
  RequestParser parser(limits);
  Request request;
  const auto step = [&](std::string_view buffer, size_t& consumed, Outcome& outcome) {
    ParseStatus status = parser.parse(buffer, consumed, request);
    if (status == ParseStatus::kOk) {
      outcome.args.assign(request.args.begin(), request.args.end());
      outcome.raw = std::string(request.raw);
      outcome.is_inline = request.is_inline;
      EXPECT_EQ(request.raw.size(), consumed);
      EXPECT_EQ(request.raw.data(), buffer.data());
    } else if (status == ParseStatus::kError) {
      outcome.error = std::string(parser.error());
      EXPECT_FALSE(outcome.error.empty());
    }
    return status;
  };
  return drive(input, plan, step, [] { return size_t{0}; });
}

std::vector<Outcome> frameReplies(std::string_view input, const ReadPlan& plan,
                                  FramerLimits limits) {
  ReplyFramer framer(limits);
  const auto step = [&](std::string_view buffer, size_t& consumed, Outcome& outcome) {
    ParseStatus status = framer.frame(buffer, consumed);
    if (status == ParseStatus::kOk && framer.lastReplyOversized()) {
      outcome.oversized_size = framer.lastReplySize();  // what is left of it depends on reads
    } else if (status == ParseStatus::kOk) {
      outcome.raw = std::string(buffer.substr(0, consumed));
      EXPECT_EQ(framer.lastReplySize(), consumed);
    } else if (status == ParseStatus::kError) {
      outcome.error = std::string(framer.error());
      EXPECT_FALSE(outcome.error.empty());
    }
    return status;
  };
  const auto droppable = [&] {
    size_t n = framer.droppable();
    if (n > 0) {
      EXPECT_TRUE(framer.oversized());
    }
    framer.dropped(n);
    return n;
  };
  return drive(input, plan, step, droppable);
}

template <typename Run>
std::vector<Outcome> everyWay(std::string_view input, Run run) {
  std::vector<Outcome> whole = run(ReadPlan{});
  for (size_t offset = 1; offset < input.size(); ++offset) {
    EXPECT_EQ(run(splitAt(offset)), whole) << "split at " << offset;
  }
  EXPECT_EQ(run(oneByteAtATime(input.size())), whole) << "one byte at a time";
  return whole;
}

std::vector<Outcome> parseEveryWay(std::string_view input, ParserLimits limits) {
  return everyWay(input, [&](const ReadPlan& plan) { return parseRequests(input, plan, limits); });
}

std::vector<Outcome> frameEveryWay(std::string_view input, FramerLimits limits) {
  return everyWay(input, [&](const ReadPlan& plan) { return frameReplies(input, plan, limits); });
}

Outcome okRequest(std::vector<std::string> args, std::string raw, bool is_inline) {
  Outcome outcome;
  outcome.status = ParseStatus::kOk;
  outcome.args = std::move(args);
  outcome.raw = std::move(raw);
  outcome.is_inline = is_inline;
  return outcome;
}

Outcome okReply(std::string raw) {
  Outcome outcome;
  outcome.status = ParseStatus::kOk;
  outcome.raw = std::move(raw);
  return outcome;
}

Outcome oversizedReply(uint64_t size) {
  Outcome outcome;
  outcome.status = ParseStatus::kOk;
  outcome.oversized_size = size;
  return outcome;
}

Outcome needMoreOutcome() { return Outcome{}; }

Outcome errorOutcome(std::string_view text) {
  Outcome outcome;
  outcome.status = ParseStatus::kError;
  outcome.error = std::string(text);
  return outcome;
}

void PrintTo(const Outcome& outcome, std::ostream* os) {
  static constexpr const char* kNames[] = {"kOk", "kNeedMore", "kError"};
  *os << "{" << kNames[static_cast<int>(outcome.status)];
  if (outcome.status == ParseStatus::kOk) {
    *os << (outcome.is_inline ? " inline" : "") << " raw=" << ::testing::PrintToString(outcome.raw)
        << " args=" << ::testing::PrintToString(outcome.args);
    if (outcome.oversized_size != 0) *os << " oversized=" << outcome.oversized_size;
  }
  if (!outcome.error.empty()) *os << " error=" << ::testing::PrintToString(outcome.error);
  *os << "}";
}

}  // namespace sy::resp
