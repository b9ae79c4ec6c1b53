#include "server/merge.h"

#include <fmt/format.h>

#include <vector>

#include "common/byte_buffer.h"
#include "resp/encoder.h"
#include "resp/errors.h"
#include "resp/reply_inspect.h"
#include "server/pending_request.h"

namespace sy::server {
namespace {

// Scratch space reused by every merge on this worker thread.
struct MergeScratch {
  common::ByteBuffer out;
  std::vector<std::string_view> elements;  // by key ordinal
  std::vector<std::string_view> fragment_elements;
  common::ByteBuffer errors;  // error elements for failed fragments
};

MergeScratch& scratch() {
  thread_local MergeScratch instance;
  return instance;
}

// The first error among the fragments' replies, or empty.
std::string_view firstError(const PendingRequest& parent) {
  for (const PendingRequest* fragment : parent.fragments) {
    if (resp::isErrorReply(fragment->reply.view())) return fragment->reply.view();
  }
  return {};
}

std::string_view mergeArray(const PendingRequest& parent, MergeScratch& s) {
  s.elements.assign(parent.key_count, std::string_view());
  s.errors.clear();
  // Error elements are appended to s.errors first and referenced after, so that its buffer
  // does not move under the views: reserve room for every fragment's error up front.
  size_t error_room = 0;
  for (const PendingRequest* fragment : parent.fragments) error_room += fragment->reply.size() + 64;
  s.errors.prepare(error_room);
  for (const PendingRequest* fragment : parent.fragments) {
    std::string_view reply = fragment->reply.view();
    bool usable = resp::splitArray(reply, s.fragment_elements) &&
                  s.fragment_elements.size() == fragment->key_ordinals.size();
    if (!usable) {
      size_t start = s.errors.size();
      if (resp::isErrorReply(reply)) {
        s.errors.append(reply);
      } else {
        resp::appendError(s.errors, resp::kErrUnexpectedSplitReply);
      }
      std::string_view error = s.errors.view().substr(start);
      for (uint32_t ordinal : fragment->key_ordinals) s.elements[ordinal] = error;
      continue;
    }
    for (size_t i = 0; i < s.fragment_elements.size(); ++i) {
      s.elements[fragment->key_ordinals[i]] = s.fragment_elements[i];
    }
  }
  s.out.clear();
  resp::appendArrayHeader(s.out, s.elements.size());
  for (std::string_view element : s.elements) s.out.append(element);
  return s.out.view();
}

std::string_view mergeSum(const PendingRequest& parent, MergeScratch& s) {
  int64_t total = 0;
  for (const PendingRequest* fragment : parent.fragments) {
    auto value = resp::integerReply(fragment->reply.view());
    if (!value) {
      s.out.clear();
      resp::appendError(s.out, resp::kErrUnexpectedSplitReply);
      return s.out.view();
    }
    total += *value;
  }
  s.out.clear();
  resp::appendInteger(s.out, total);
  return s.out.view();
}

}  // namespace

std::string_view mergeFragments(const PendingRequest& parent) {
  MergeScratch& s = scratch();
  if (parent.merge == command::MergeRule::kMgetArray) return mergeArray(parent, s);
  if (parent.merge >= command::MergeRule::kAllOk) {
    return mergeFanout(parent, s.out, s.fragment_elements);
  }
  std::string_view error = firstError(parent);
  if (!error.empty()) return error;
  if (parent.merge == command::MergeRule::kSumIntegers) return mergeSum(parent, s);
  s.out.clear();
  for (const PendingRequest* fragment : parent.fragments) {
    if (fragment->reply.view() != "+OK\r\n") {
      resp::appendError(s.out, resp::kErrUnexpectedSplitReply);
      return s.out.view();
    }
  }
  resp::appendSimple(s.out, "OK");
  return s.out.view();
}

}  // namespace sy::server
