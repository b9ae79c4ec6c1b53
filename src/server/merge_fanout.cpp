// The merge rules of commands sent to every shard (command.h Handling::kFanout). Each takes
// the fragments in shard order (fragment i went to shard fragments[i]->shard) and writes the
// one reply a single Redis holding all the shards' data would give.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/byte_buffer.h"
#include "resp/encoder.h"
#include "resp/errors.h"
#include "resp/reply_inspect.h"
#include "route/scan_cursor.h"
#include "server/merge.h"
#include "server/pending_request.h"

namespace sy::server {
namespace {

constexpr std::string_view kOk = "+OK\r\n";
constexpr std::string_view kNotBusyPrefix = "-NOTBUSY";

std::string_view unexpected(common::ByteBuffer& out) {
  out.clear();
  resp::appendError(out, resp::kErrUnexpectedFanoutReply);
  return out.view();
}

std::string_view mergeAllOk(const PendingRequest& parent, common::ByteBuffer& out) {
  for (const PendingRequest* fragment : parent.fragments) {
    if (fragment->reply.view() != kOk) return unexpected(out);
  }
  return kOk;
}

std::string_view mergeMaxInteger(const PendingRequest& parent, common::ByteBuffer& out) {
  int64_t largest = 0;
  for (const PendingRequest* fragment : parent.fragments) {
    auto value = resp::integerReply(fragment->reply.view());
    if (!value) return unexpected(out);
    largest = std::max(largest, *value);
  }
  out.clear();
  resp::appendInteger(out, largest);
  return out.view();
}

std::string_view mergeConcat(const PendingRequest& parent, common::ByteBuffer& out,
                             std::vector<std::string_view>& elements) {
  size_t total = 0;
  for (const PendingRequest* fragment : parent.fragments) {
    if (!resp::splitArray(fragment->reply.view(), elements)) return unexpected(out);
    total += elements.size();
  }
  out.clear();
  resp::appendArrayHeader(out, total);
  for (const PendingRequest* fragment : parent.fragments) {
    resp::splitArray(fragment->reply.view(), elements);
    for (std::string_view element : elements) out.append(element);
  }
  return out.view();
}

std::string_view mergeUnion(const PendingRequest& parent, common::ByteBuffer& out,
                            std::vector<std::string_view>& elements) {
  std::vector<std::string_view> kept;
  std::unordered_set<std::string_view> seen;
  for (const PendingRequest* fragment : parent.fragments) {
    if (!resp::splitArray(fragment->reply.view(), elements)) return unexpected(out);
    for (std::string_view element : elements) {
      if (seen.insert(element).second) kept.push_back(element);
    }
  }
  out.clear();
  resp::appendArrayHeader(out, kept.size());
  for (std::string_view element : kept) out.append(element);
  return out.view();
}

// SCRIPT EXISTS: a script exists only where every shard has it, since EVALSHA may reach any.
std::string_view mergeAnd(const PendingRequest& parent, common::ByteBuffer& out,
                          std::vector<std::string_view>& elements) {
  std::vector<bool> all;
  bool first = true;
  for (const PendingRequest* fragment : parent.fragments) {
    if (!resp::splitArray(fragment->reply.view(), elements)) return unexpected(out);
    if (first) all.assign(elements.size(), true);
    if (elements.size() != all.size()) return unexpected(out);
    for (size_t i = 0; i < elements.size(); ++i) {
      auto value = resp::integerReply(elements[i]);
      if (!value) return unexpected(out);
      all[i] = all[i] && *value != 0;
    }
    first = false;
  }
  out.clear();
  resp::appendArrayHeader(out, all.size());
  for (bool present : all) resp::appendInteger(out, present ? 1 : 0);
  return out.view();
}

// PUBSUB NUMSUB: [channel, count, channel, count ...] in request order on every shard.
std::string_view mergeSumPairs(const PendingRequest& parent, common::ByteBuffer& out,
                               std::vector<std::string_view>& elements) {
  std::vector<std::string_view> names;
  std::vector<int64_t> counts;
  bool first = true;
  for (const PendingRequest* fragment : parent.fragments) {
    if (!resp::splitArray(fragment->reply.view(), elements) || elements.size() % 2 != 0) {
      return unexpected(out);
    }
    if (first) {
      for (size_t i = 0; i < elements.size(); i += 2) names.push_back(elements[i]);
      counts.assign(names.size(), 0);
    }
    if (elements.size() != names.size() * 2) return unexpected(out);
    for (size_t i = 0; i < names.size(); ++i) {
      auto value = resp::integerReply(elements[2 * i + 1]);
      if (!value) return unexpected(out);
      counts[i] += *value;
    }
    first = false;
  }
  out.clear();
  resp::appendArrayHeader(out, names.size() * 2);
  for (size_t i = 0; i < names.size(); ++i) {
    out.append(names[i]);
    resp::appendInteger(out, counts[i]);
  }
  return out.view();
}

std::string_view mergeIdentical(const PendingRequest& parent, common::ByteBuffer& out) {
  std::string_view first = parent.fragments.front()->reply.view();
  for (const PendingRequest* fragment : parent.fragments) {
    if (fragment->reply.view() != first) {
      out.clear();
      resp::appendError(
          out, fmt::format(resp::kErrShardsDisagree, command::commandById(parent.command_id).name,
                           parent.fragments.front()->shard, fragment->shard));
      return out.view();
    }
  }
  return first;
}

// RANDOMKEY: one shard's key, picked at random among the shards that have one; else the
// null (in the protocol the shards answered in).
std::string_view mergeRandomNonNil(const PendingRequest& parent) {
  thread_local std::minstd_rand generator{std::random_device{}()};
  std::vector<std::string_view> found;
  for (const PendingRequest* fragment : parent.fragments) {
    const std::string_view reply = fragment->reply.view();
    if (reply != resp::nullReply(2, false) && reply != resp::nullReply(3, false)) {
      found.push_back(reply);
    }
  }
  if (found.empty()) return parent.fragments.front()->reply.view();
  std::uniform_int_distribution<size_t> pick(0, found.size() - 1);
  return found[pick(generator)];
}

// SCAN: the page of one shard (parent.key_count shards in all), its cursor rewritten.
std::string_view mergeScan(const PendingRequest& parent, common::ByteBuffer& out,
                           std::vector<std::string_view>& elements) {
  const PendingRequest& page = *parent.fragments.front();
  if (!resp::splitArray(page.reply.view(), elements) || elements.size() != 2) {
    return unexpected(out);
  }
  std::optional<std::string_view> cursor_text = resp::bulkReply(elements[0]);
  uint64_t backend_next = 0;
  if (!cursor_text) return unexpected(out);
  auto [end, error] =
      std::from_chars(cursor_text->data(), cursor_text->data() + cursor_text->size(), backend_next);
  if (error != std::errc() || end != cursor_text->data() + cursor_text->size()) {
    return unexpected(out);
  }
  std::optional<uint64_t> next = route::nextScanCursor(page.shard, backend_next, parent.key_count);
  out.clear();
  if (!next) {
    resp::appendError(out, resp::kErrScanCursorOverflow);
    return out.view();
  }
  resp::appendArrayHeader(out, 2);
  resp::appendBulk(out, std::to_string(*next));
  out.append(elements[1]);
  return out.view();
}

// SCRIPT KILL: a real failure first; else +OK if a shard had a script to kill; else NOTBUSY.
std::string_view mergeAnyKilled(const PendingRequest& parent) {
  std::string_view killed;
  for (const PendingRequest* fragment : parent.fragments) {
    std::string_view reply = fragment->reply.view();
    if (resp::isErrorReply(reply) && !reply.starts_with(kNotBusyPrefix)) return reply;
    if (reply == kOk) killed = reply;
  }
  return killed.empty() ? parent.fragments.front()->reply.view() : killed;
}

}  // namespace

std::string_view mergeFanout(const PendingRequest& parent, common::ByteBuffer& out,
                             std::vector<std::string_view>& elements) {
  using command::MergeRule;
  if (parent.fragments.empty()) return unexpected(out);
  if (parent.merge == MergeRule::kAnyKilled) return mergeAnyKilled(parent);
  for (const PendingRequest* fragment : parent.fragments) {
    if (resp::isErrorReply(fragment->reply.view())) return fragment->reply.view();
  }
  switch (parent.merge) {
    case MergeRule::kAllOk:
      return mergeAllOk(parent, out);
    case MergeRule::kConcatArrays:
      return mergeConcat(parent, out, elements);
    case MergeRule::kRandomNonNil:
      return mergeRandomNonNil(parent);
    case MergeRule::kIdentical:
      return mergeIdentical(parent, out);
    case MergeRule::kAndArrays:
      return mergeAnd(parent, out, elements);
    case MergeRule::kUnionArrays:
      return mergeUnion(parent, out, elements);
    case MergeRule::kSumPairs:
      return mergeSumPairs(parent, out, elements);
    case MergeRule::kMaxInteger:
      return mergeMaxInteger(parent, out);
    case MergeRule::kScanCursor:
      return mergeScan(parent, out, elements);
    default:
      return unexpected(out);
  }
}

}  // namespace sy::server
