// The one list of twemproxy-compatible statistics. Every output (the stats JSON, -D, and
// later Prometheus and INFO) is generated from these lists, in this order, which is the
// order nutcracker 0.5.0 prints them.
#pragma once

namespace sy::admin {

enum class StatKind { kCounter, kGauge, kTimestamp };

// ACTION(name, kind, description)
#define SY_POOL_STATS(ACTION)                                                             \
  ACTION(client_eof, kCounter, "client connections closed by the client")                 \
  ACTION(client_err, kCounter, "client connections closed on an error")                   \
  ACTION(client_connections, kGauge, "open client connections")                           \
  ACTION(server_ejects, kCounter, "times a backend was taken out of the distribution")    \
  ACTION(forward_error, kCounter, "requests answered with an error instead of forwarded") \
  ACTION(fragments, kCounter, "sub-requests made by splitting multi-key requests")

#define SY_SERVER_STATS(ACTION)                                                                 \
  ACTION(server_eof, kCounter, "backend connections closed by the backend")                     \
  ACTION(server_err, kCounter, "backend connections failed on an error")                        \
  ACTION(server_timedout, kCounter, "requests that timed out")                                  \
  ACTION(server_connections, kGauge, "open backend connections")                                \
  ACTION(server_ejected_at, kTimestamp, "when the backend was last ejected (usec since epoch)") \
  ACTION(requests, kCounter, "requests sent")                                                   \
  ACTION(request_bytes, kCounter, "request bytes sent")                                         \
  ACTION(responses, kCounter, "replies received")                                               \
  ACTION(response_bytes, kCounter, "reply bytes received")                                      \
  ACTION(in_queue, kGauge, "requests queued, not yet written")                                  \
  ACTION(in_queue_bytes, kGauge, "bytes of requests queued, not yet written")                   \
  ACTION(out_queue, kGauge, "requests written, waiting for a reply")                            \
  ACTION(out_queue_bytes, kGauge, "bytes of requests written, waiting for a reply")

#define SY_STAT_ENUM(name, kind, description) name,
enum class PoolStat { SY_POOL_STATS(SY_STAT_ENUM) kCount };
enum class ServerStat { SY_SERVER_STATS(SY_STAT_ENUM) kCount };
#undef SY_STAT_ENUM

struct StatField {
  const char* name;
  StatKind kind;
  const char* description;
};

#define SY_STAT_FIELD(name, kind, description) StatField{#name, StatKind::kind, description},
inline constexpr StatField kPoolStatFields[] = {SY_POOL_STATS(SY_STAT_FIELD)};
inline constexpr StatField kServerStatFields[] = {SY_SERVER_STATS(SY_STAT_FIELD)};
#undef SY_STAT_FIELD

}  // namespace sy::admin
