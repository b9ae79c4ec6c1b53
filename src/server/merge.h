// Merging the fragments of a split request into the one reply the client asked for.
//
//   MGET a b c d   --> fragment 1: MGET a c  -> [va, vc]
//                  \-> fragment 2: MGET b d  -> [vb, vd]   ==> [va, vb, vc, vd]
//   DEL/UNLINK/EXISTS/TOUCH: the sum of the fragments' integers.   MSET: +OK.
//
// A command sent to every shard (DBSIZE, KEYS, SCAN, SCRIPT LOAD ...; command.h kFanout) is a
// parent with one fragment per shard, merged by its command's rule (merge_fanout.cpp):
//
//   DBSIZE --> shard 0: 10, shard 1: 7, shard 2: 3   ==> 20
//   SCAN 4 (shard 1, backend cursor 1) --> shard 1: ["0", [k...]]  ==> ["2", [k...]]
//
// A fragment that failed costs only its own keys: MGET puts an error element in their
// places and still answers the others. Commands with one result (MSET, the sums) answer the
// first fragment error, since a partial count would be silently wrong.
#pragma once

#include <string_view>
#include <vector>

#include "common/byte_buffer.h"

namespace sy::server {

class PendingRequest;

// The merged reply of `parent` (every fragment done). Valid until the next call on this
// thread.
std::string_view mergeFragments(const PendingRequest& parent);

// The merged reply of a fan-out parent (merge_fanout.cpp): any rule from kAllOk on. `out` and
// `elements` are scratch; the reply may point into them or into a fragment's reply.
std::string_view mergeFanout(const PendingRequest& parent, common::ByteBuffer& out,
                             std::vector<std::string_view>& elements);

}  // namespace sy::server
