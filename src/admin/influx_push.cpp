#include "admin/influx_push.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace sy::admin {

// How one attempt ended. kRejected (a 4xx: bad data, no such database, wrong credentials)
// drops the batch, as sending it again cannot help; kFailed keeps it for the next tick.
struct InfluxPusher::Outcome {
  enum Kind { kAccepted, kRejected, kFailed };
  Kind kind = kFailed;
  std::string reason;
};

// One POST of one batch on a fresh connection, under one deadline. `done` runs once, on the
// control thread, unless cancel() came first.
class InfluxPusher::HttpAttempt : public std::enable_shared_from_this<HttpAttempt> {
 public:
  using Done = std::function<void(std::string batch, const Outcome&)>;

  HttpAttempt(asio::io_context& io, const InfluxPushOptions& options, std::string batch, Done done)
      : resolver_(io),
        socket_(io),
        deadline_(io),
        target_(options.target),
        timeout_(options.timeout),
        batch_(std::move(batch)),
        done_(std::move(done)) {}

  void start() {
    auto self = shared_from_this();
    deadline_.expires_after(timeout_);
    deadline_.async_wait([self](const std::error_code& error) {
      if (error) return;
      self->finish(
          {Outcome::kFailed, fmt::format("no answer within {} ms", self->timeout_.count())});
    });
    resolver_.async_resolve(
        target_.host, std::to_string(target_.port), asio::ip::tcp::resolver::numeric_service,
        [self](const std::error_code& error, const asio::ip::tcp::resolver::results_type& results) {
          if (error) return self->finish({Outcome::kFailed, "cannot resolve: " + error.message()});
          self->connect(results);
        });
  }

  // Abandons the attempt: `done` will not run.
  void cancel() {
    done_ = nullptr;
    close();
  }

 private:
  void connect(const asio::ip::tcp::resolver::results_type& results) {
    auto self = shared_from_this();
    asio::async_connect(socket_, results,
                        [self](const std::error_code& error, const asio::ip::tcp::endpoint&) {
                          if (error) {
                            return self->finish({Outcome::kFailed, "connect: " + error.message()});
                          }
                          self->write();
                        });
  }

  void write() {
    request_head_ = fmt::format(
        "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: switchyard\r\n{}Content-Type: text/plain; "
        "charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        target_.request_target, target_.host_header,
        target_.authorization.empty() ? std::string()
                                      : "Authorization: " + target_.authorization + "\r\n",
        batch_.size());
    auto self = shared_from_this();
    std::array<asio::const_buffer, 2> buffers{asio::buffer(request_head_), asio::buffer(batch_)};
    asio::async_write(socket_, buffers, [self](const std::error_code& error, size_t) {
      if (error) return self->finish({Outcome::kFailed, "write: " + error.message()});
      self->readResponse();
    });
  }

  // Reads until the response is complete, InfluxDB closes the connection (the request said
  // "Connection: close") or kMaxResponseBytes arrived, whichever is first.
  void readResponse() {
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(chunk_), [self](const std::error_code& error, size_t n) {
      self->response_.append(self->chunk_.data(), n);
      if (!error && self->response_.size() < kMaxResponseBytes &&
          !httpResponseComplete(self->response_)) {
        return self->readResponse();
      }
      self->judge();
    });
  }

  void judge() {
    int status = httpStatusCode(response_);
    if (status >= 200 && status < 300) return finish({Outcome::kAccepted, {}});
    std::string_view body = response_;
    size_t head_end = body.find("\r\n\r\n");
    body = head_end == std::string_view::npos ? std::string_view() : body.substr(head_end + 4);
    body = body.substr(0, std::min<size_t>(200, body.find('\n')));
    std::string reason = fmt::format("HTTP {}{}{}", status, body.empty() ? "" : ": ", body);
    if (status == 0) reason = "the connection closed without an HTTP response";
    bool client_error = status >= 400 && status < 500 && status != 408 && status != 429;
    finish({client_error ? Outcome::kRejected : Outcome::kFailed, std::move(reason)});
  }

  void finish(const Outcome& outcome) {
    close();
    if (!done_) return;
    Done done = std::move(done_);
    done_ = nullptr;
    done(std::move(batch_), outcome);
  }

  void close() {
    deadline_.cancel();
    resolver_.cancel();
    std::error_code ignored;
    socket_.close(ignored);
  }

  static constexpr size_t kMaxResponseBytes = size_t{64} * 1024;

  asio::ip::tcp::resolver resolver_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer deadline_;
  const InfluxTarget target_;  // a copy: a late handler may outlive the pusher
  std::chrono::milliseconds timeout_;
  std::string batch_;
  Done done_;
  std::string request_head_;
  std::array<char, 4096> chunk_{};
  std::string response_;
};

InfluxPusher::InfluxPusher(asio::io_context& io, InfluxPushOptions options,
                           InfluxBatchSource source)
    : io_(io),
      options_(std::move(options)),
      source_(std::move(source)),
      tick_(io),
      udp_resolver_(io),
      udp_socket_(io) {
  options_.timeout = std::min(options_.timeout, options_.interval);
}

InfluxPusher::~InfluxPusher() { close(); }

void InfluxPusher::start() {
  open_ = true;
  spdlog::info("pushing statistics to InfluxDB at {} every {} ms", options_.target.display,
               options_.interval.count());
  armTick();
}

void InfluxPusher::close() {
  open_ = false;
  tick_.cancel();
  if (in_flight_) in_flight_->cancel();
  in_flight_.reset();
  queue_.clear();
  queued_bytes_ = 0;
  udp_resolver_.cancel();
  std::error_code ignored;
  udp_socket_.close(ignored);
}

InfluxPushStats InfluxPusher::stats() const {
  InfluxPushStats stats;
  stats.enabled = true;
  stats.batches_sent = sent_;
  stats.batches_failed = failed_;
  stats.batches_dropped = dropped_;
  stats.queued_batches = queue_.size() + (in_flight_ ? 1 : 0);
  stats.last_batch_bytes = last_batch_bytes_;
  return stats;
}

void InfluxPusher::armTick() {
  tick_.expires_after(options_.interval);
  tick_.async_wait([this](const std::error_code& error) {
    if (error || !open_) return;
    onTick();
  });
}

void InfluxPusher::onTick() {
  armTick();
  auto now = std::chrono::system_clock::now().time_since_epoch();
  std::string batch = source_(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
  last_batch_bytes_ = batch.size();
  if (options_.target.transport == InfluxTarget::Transport::kUdp) return sendUdp(std::move(batch));
  enqueue(std::move(batch));
  if (!in_flight_) sendNextHttp();
}

void InfluxPusher::enqueue(std::string batch) {
  queued_bytes_ += batch.size();
  queue_.push_back(std::move(batch));
  while (queue_.size() > options_.max_queued_batches ||
         (queued_bytes_ > options_.max_queued_bytes && queue_.size() > 1)) {
    dropOldest();
  }
}

void InfluxPusher::dropOldest() {
  queued_bytes_ -= queue_.front().size();
  queue_.pop_front();
  ++dropped_;
  if (dropping_) return;
  dropping_ = true;
  spdlog::warn(
      "InfluxDB push: the queue is full ({} batches, at most {} bytes): dropping the oldest "
      "batch; further drops are counted (influxdb_batches_dropped), not logged",
      options_.max_queued_batches, options_.max_queued_bytes);
}

void InfluxPusher::sendNextHttp() {
  if (queue_.empty() || !open_) return;
  std::string batch = std::move(queue_.front());
  queue_.pop_front();
  queued_bytes_ -= batch.size();
  in_flight_ = std::make_shared<HttpAttempt>(io_, options_, std::move(batch),
                                             [this](std::string unsent, const Outcome& outcome) {
                                               onHttpOutcome(std::move(unsent), outcome);
                                             });
  in_flight_->start();
}

void InfluxPusher::onHttpOutcome(std::string batch, const Outcome& outcome) {
  in_flight_.reset();
  switch (outcome.kind) {
    case Outcome::kAccepted:
      countSuccess();
      return sendNextHttp();  // the backlog goes at once, one batch after another
    case Outcome::kRejected:
      ++dropped_;
      countFailure(outcome.reason + " (the batch is dropped)");
      return;
    case Outcome::kFailed:
      countFailure(outcome.reason);
      // Kept, oldest first, for the next tick; the queue's bounds still apply.
      queued_bytes_ += batch.size();
      queue_.push_front(std::move(batch));
      while (queue_.size() > options_.max_queued_batches) dropOldest();
      return;
  }
}

void InfluxPusher::countFailure(std::string_view reason) {
  ++failed_;
  if (failures_in_run_++ > 0) return;
  spdlog::warn(
      "InfluxDB push to {} failed: {}; trying again every {} ms and keeping at most {} "
      "batches (further failures are counted, influxdb_batches_failed, not logged)",
      options_.target.display, reason, options_.interval.count(), options_.max_queued_batches);
}

void InfluxPusher::countSuccess() {
  ++sent_;
  if (failures_in_run_ > 0) {
    spdlog::info(
        "InfluxDB push to {} works again after {} failed attempts ({} batches dropped "
        "in all)",
        options_.target.display, failures_in_run_, dropped_);
  } else if (!ever_sent_) {
    spdlog::info("InfluxDB push: the first batch reached {} ({} bytes)", options_.target.display,
                 last_batch_bytes_);
  }
  ever_sent_ = true;
  failures_in_run_ = 0;
  dropping_ = false;
}

void InfluxPusher::sendUdp(std::string batch) {
  if (datagrams_pending_ > 0 || udp_resolving_) {  // the last batch is still on its way
    ++dropped_;
    return;
  }
  if (udp_resolved_) return sendDatagrams(batch);
  // Resolved once; a name that does not resolve yet is tried again at the next tick.
  udp_resolving_ = true;
  udp_resolver_.async_resolve(
      options_.target.host, std::to_string(options_.target.port),
      asio::ip::udp::resolver::numeric_service,
      [this, batch = std::move(batch)](const std::error_code& error,
                                       const asio::ip::udp::resolver::results_type& results) {
        if (error == asio::error::operation_aborted) return;  // closed: the pusher may be gone
        udp_resolving_ = false;
        if (error || results.empty()) return countFailure("cannot resolve: " + error.message());
        udp_endpoint_ = results.begin()->endpoint();
        std::error_code opened;
        udp_socket_.open(udp_endpoint_.protocol(), opened);
        if (opened) return countFailure("cannot open a UDP socket: " + opened.message());
        udp_resolved_ = true;
        sendDatagrams(batch);
      });
}

void InfluxPusher::sendDatagrams(const std::string& batch) {
  datagrams_.clear();
  for (std::string_view piece : splitDatagrams(batch, options_.max_datagram_bytes)) {
    datagrams_.emplace_back(piece);
  }
  datagram_error_.clear();
  datagrams_pending_ = datagrams_.size();
  for (const std::string& datagram : datagrams_) {
    udp_socket_.async_send_to(asio::buffer(datagram), udp_endpoint_,
                              [this](const std::error_code& error, size_t) { onUdpSent(error); });
  }
}

void InfluxPusher::onUdpSent(const std::error_code& error) {
  if (error == asio::error::operation_aborted) return;  // closed: the pusher may be gone
  if (error) datagram_error_ = error;
  if (--datagrams_pending_ > 0) return;
  if (datagram_error_) return countFailure("UDP send: " + datagram_error_.message());
  countSuccess();
}

std::vector<std::string_view> splitDatagrams(std::string_view batch, size_t max_bytes) {
  std::vector<std::string_view> pieces;
  while (!batch.empty()) {
    size_t end = 0;  // the end of the last whole line that fits
    for (size_t line_end = batch.find('\n'); line_end != std::string_view::npos;
         line_end = batch.find('\n', line_end + 1)) {
      if (line_end + 1 > max_bytes && end > 0) break;
      end = line_end + 1;
      if (end >= max_bytes) break;
    }
    if (end == 0) end = batch.size();  // no newline left: the rest is one (last) line
    pieces.push_back(batch.substr(0, end));
    batch.remove_prefix(end);
  }
  return pieces;
}

bool httpResponseComplete(std::string_view response) {
  size_t head_end = response.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return false;
  int status = httpStatusCode(response);
  if (status == 204 || status == 304 || (status >= 100 && status < 200)) return true;
  std::string head(response.substr(0, head_end));
  std::transform(head.begin(), head.end(), head.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  size_t at = head.find("\r\ncontent-length:");
  if (at == std::string::npos) return false;  // the body ends when the connection does
  size_t length = 0;
  std::string_view digits = std::string_view(head).substr(at + 17);
  while (!digits.empty() && digits.front() == ' ') digits.remove_prefix(1);
  std::from_chars(digits.data(), digits.data() + digits.size(), length);
  return response.size() >= head_end + 4 + length;
}

int httpStatusCode(std::string_view response) {
  if (!response.starts_with("HTTP/1.") || response.size() < 12 || response[8] != ' ') return 0;
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (response[i] < '0' || response[i] > '9') return 0;
    status = status * 10 + (response[i] - '0');
  }
  return status;
}

}  // namespace sy::admin
