// InfluxPusher: every interval, one batch of line protocol (influx_line.h) to InfluxDB.
//
//   steady timer --tick--> source(now ns) --> queue (bounded: batches and bytes; full: the
//   oldest is dropped) --> HTTP: resolve, connect, POST /write, read the status, close
//                                (one deadline for the whole attempt; 204 sent, 4xx dropped,
//                                anything else kept for the next tick)
//                      --> UDP:  datagrams cut at line boundaries, sent and forgotten
//
// Everything is asynchronous on the control thread's io_context, which also serves the admin
// ports and discovery, never requests: a down, slow or silent InfluxDB costs one socket, one
// timer and at most the queue's bytes, and never touches the workers. Failures and drops are
// counted (stats(), shown in /metrics and in the batches themselves) and logged once per run
// of failures, with one line when pushing works again.
// Thread: the control thread (the io_context passed in).
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "admin/influx_url.h"
#include "admin/stats_snapshot.h"

namespace sy::admin {

struct InfluxPushOptions {
  InfluxTarget target;
  std::chrono::milliseconds interval{10000};
  // For one HTTP attempt, from resolving to the status line; never more than the interval.
  std::chrono::milliseconds timeout{5000};
  size_t max_queued_batches = 6;
  size_t max_queued_bytes = size_t{16} * 1024 * 1024;
  // Under a 1500-byte Ethernet MTU: a datagram is never fragmented (a longer line goes alone).
  size_t max_datagram_bytes = 1400;
};

// Renders one batch for the given timestamp (nanoseconds since the epoch).
using InfluxBatchSource = std::function<std::string(int64_t timestamp_ns)>;

class InfluxPusher {
 public:
  InfluxPusher(asio::io_context& io, InfluxPushOptions options, InfluxBatchSource source);
  ~InfluxPusher();
  InfluxPusher(const InfluxPusher&) = delete;
  InfluxPusher& operator=(const InfluxPusher&) = delete;

  // Starts the timer; the first batch goes one interval from now.
  void start();
  // Stops the timer and abandons the attempt in flight and the queue. Idempotent.
  void close();
  InfluxPushStats stats() const;

 private:
  class HttpAttempt;
  struct Outcome;

  void armTick();
  void onTick();
  void enqueue(std::string batch);
  void sendNextHttp();
  void onHttpOutcome(std::string batch, const Outcome& outcome);
  void sendUdp(std::string batch);
  void sendDatagrams(const std::string& batch);
  void onUdpSent(const std::error_code& error);
  void countFailure(std::string_view reason);
  void countSuccess();
  void dropOldest();

  asio::io_context& io_;
  InfluxPushOptions options_;
  InfluxBatchSource source_;
  asio::steady_timer tick_;
  bool open_ = false;

  std::deque<std::string> queue_;  // HTTP batches waiting, oldest first
  size_t queued_bytes_ = 0;
  std::shared_ptr<HttpAttempt> in_flight_;

  asio::ip::udp::resolver udp_resolver_;
  asio::ip::udp::socket udp_socket_;
  asio::ip::udp::endpoint udp_endpoint_;
  bool udp_resolving_ = false;
  bool udp_resolved_ = false;
  std::vector<std::string> datagrams_;  // the batch being sent; empty when idle
  size_t datagrams_pending_ = 0;
  std::error_code datagram_error_;

  uint64_t sent_ = 0;
  uint64_t failed_ = 0;
  uint64_t dropped_ = 0;
  uint64_t last_batch_bytes_ = 0;
  uint64_t failures_in_run_ = 0;  // consecutive failed attempts; > 0: the failure was logged
  bool dropping_ = false;         // a drop was logged since the last success
  bool ever_sent_ = false;
};

// `batch` cut at line boundaries into pieces of at most `max_bytes` (a longer line alone).
std::vector<std::string_view> splitDatagrams(std::string_view batch, size_t max_bytes);

// Whether `response` holds a whole HTTP/1.x response: its head and, when it has a body, the
// Content-Length bytes of it (without Content-Length, only the connection's end tells).
bool httpResponseComplete(std::string_view response);

// The status code of an HTTP/1.x response's first line; 0 when there is none.
int httpStatusCode(std::string_view response);

}  // namespace sy::admin
