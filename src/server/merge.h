// Merging the fragments of a split request into the one reply the client asked for.
//
//   MGET a b c d   --> fragment 1: MGET a c  -> [va, vc]
//                  \-> fragment 2: MGET b d  -> [vb, vd]   ==> [va, vb, vc, vd]
//   DEL/UNLINK/EXISTS/TOUCH: the sum of the fragments' integers.   MSET: +OK.
//
// A fragment that failed costs only its own keys: MGET puts an error element in their
// places and still answers the others. Commands with one result (MSET, the sums) answer the
// first fragment error, since a partial count would be silently wrong.
#pragma once

#include <string_view>

namespace sy::server {

class PendingRequest;

// The merged reply of `parent` (every fragment done). Valid until the next call on this
// thread.
std::string_view mergeFragments(const PendingRequest& parent);

}  // namespace sy::server
