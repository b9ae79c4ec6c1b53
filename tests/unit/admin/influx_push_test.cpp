// --influxdb-url parsing, and the pusher against fake InfluxDB endpoints on loopback.
#include "admin/influx_push.h"

#include <gtest/gtest.h>

#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/write.hpp>

#include <string>
#include <vector>

namespace sy::admin {
namespace {

using namespace std::chrono_literals;

InfluxTarget parsed(std::string_view url) {
  auto target = parseInfluxUrl(url);
  EXPECT_TRUE(target.ok()) << target.error().message;
  return target.ok() ? *target : InfluxTarget{};
}

std::string errorOf(std::string_view url) {
  auto target = parseInfluxUrl(url);
  EXPECT_FALSE(target.ok()) << url;
  return target.ok() ? std::string() : target.error().message;
}

TEST(InfluxUrl, HttpFormsAndCredentials) {
  InfluxTarget plain = parsed("http://db.example:9999/write?db=sy&rp=week&precision=s");
  EXPECT_EQ(plain.transport, InfluxTarget::Transport::kHttp);
  EXPECT_EQ(plain.host, "db.example");
  EXPECT_EQ(plain.port, 9999);
  EXPECT_EQ(plain.request_target, "/write?db=sy&rp=week&precision=ns");
  EXPECT_EQ(plain.host_header, "db.example:9999");
  EXPECT_EQ(plain.authorization, "");
  InfluxTarget query = parsed("http://127.0.0.1/influx/write?u=ops&db=sy&p=s%3Dcret");
  EXPECT_EQ(query.port, kInfluxHttpPort);
  EXPECT_EQ(query.request_target, "/influx/write?db=sy&precision=ns");
  EXPECT_EQ(query.authorization, "Basic " + base64Encode("ops:s=cret"));
  EXPECT_EQ(query.display.find("cret"), std::string::npos);
  InfluxTarget userinfo = parsed("http://ops:pw@[::1]:8086/write?db=sy");
  EXPECT_EQ(userinfo.host, "::1");
  EXPECT_EQ(userinfo.host_header, "[::1]:8086");
  EXPECT_EQ(userinfo.authorization, "Basic b3BzOnB3");
  EXPECT_EQ(base64Encode("a"), "YQ==");
  EXPECT_EQ(base64Encode("ab"), "YWI=");
  EXPECT_EQ(base64Encode("abc"), "YWJj");
}

TEST(InfluxUrl, Udp) {
  InfluxTarget udp = parsed("udp://127.0.0.1");
  EXPECT_EQ(udp.transport, InfluxTarget::Transport::kUdp);
  EXPECT_EQ(udp.port, kInfluxUdpPort);
  EXPECT_EQ(parsed("udp://localhost:9000/").port, 9000);
}

TEST(InfluxUrl, ErrorsSayWhatToWrite) {
  EXPECT_EQ(errorOf("https://h/write?db=x").find("TLS (https) is not supported"), 0u);
  EXPECT_NE(errorOf("ftp://h/write?db=x").find("unknown scheme"), std::string::npos);
  EXPECT_NE(errorOf("h:8086/write?db=x").find("unknown scheme"), std::string::npos);
  EXPECT_NE(errorOf("http://h/write").find("no database: add db=NAME"), std::string::npos);
  EXPECT_NE(errorOf("http://h/write?db=").find("no database"), std::string::npos);
  EXPECT_NE(errorOf("http://h/query?db=x").find("must end in /write"), std::string::npos);
  EXPECT_EQ(errorOf("http://h:0/write?db=x"), "bad port '0' (1..65535)");
  EXPECT_EQ(errorOf("http://h:70000/write?db=x"), "bad port '70000' (1..65535)");
  EXPECT_EQ(errorOf("http://h:x/write?db=x"), "bad port 'x' (1..65535)");
  EXPECT_EQ(errorOf("http://:8086/write?db=x"), "no host");
  EXPECT_NE(errorOf("udp://h:8089/write?db=x").find("no path or query"), std::string::npos);
  EXPECT_NE(errorOf("http://u:%zz@h/write?db=x").find("%-escape"), std::string::npos);
}

TEST(InfluxPush, DatagramsAreCutAtLineBoundaries) {
  std::string batch = "aaaa\nbbbb\ncccccccccccc\nd\n";
  std::vector<std::string_view> pieces = splitDatagrams(batch, 10);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(pieces[0], "aaaa\nbbbb\n");
  EXPECT_EQ(pieces[1], "cccccccccccc\n");  // longer than the limit: alone
  EXPECT_EQ(pieces[2], "d\n");
  EXPECT_TRUE(splitDatagrams("", 10).empty());
}

TEST(InfluxPush, StatusCode) {
  EXPECT_EQ(httpStatusCode("HTTP/1.1 204 No Content\r\n"), 204);
  EXPECT_EQ(httpStatusCode("HTTP/1.0 404 Not Found\r\n"), 404);
  EXPECT_EQ(httpStatusCode("SSH-2.0"), 0);
  EXPECT_EQ(httpStatusCode(""), 0);
  EXPECT_TRUE(httpResponseComplete("HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n"));
  EXPECT_FALSE(httpResponseComplete("HTTP/1.1 204 No Content\r\n"));
  EXPECT_FALSE(httpResponseComplete("HTTP/1.1 404 Not Found\r\ncontent-length: 5\r\n\r\nab"));
  EXPECT_TRUE(httpResponseComplete("HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nab"));
  EXPECT_FALSE(httpResponseComplete("HTTP/1.1 500 Oops\r\n\r\nuntil the end"));
}

// A one-shot-per-connection HTTP endpoint: reads a request (head and Content-Length body),
// records it, answers `status`.
class FakeInflux {
 public:
  FakeInflux(asio::io_context& io, std::string status)
      : acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}), status_(std::move(status)) {
    acceptNext();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::vector<std::string> requests;

 private:
  void acceptNext() {
    acceptor_.async_accept([this](const std::error_code& error, asio::ip::tcp::socket socket) {
      if (error) return;
      serve(std::make_shared<asio::ip::tcp::socket>(std::move(socket)),
            std::make_shared<std::string>());
      acceptNext();
    });
  }
  void serve(std::shared_ptr<asio::ip::tcp::socket> socket, std::shared_ptr<std::string> in) {
    auto chunk = std::make_shared<std::array<char, 4096>>();
    socket->async_read_some(asio::buffer(*chunk), [=, this](const std::error_code& error,
                                                            size_t n) {
      if (error) return;
      in->append(chunk->data(), n);
      size_t head_end = in->find("\r\n\r\n");
      size_t length_at = in->find("Content-Length: ");
      if (head_end == std::string::npos || length_at == std::string::npos) {
        return serve(socket, in);
      }
      size_t length = std::stoul(in->substr(length_at + 16));
      if (in->size() < head_end + 4 + length) return serve(socket, in);
      requests.push_back(*in);
      auto response =
          std::make_shared<std::string>("HTTP/1.1 " + status_ + "\r\nContent-Length: 0\r\n\r\n");
      asio::async_write(*socket, asio::buffer(*response),
                        [socket, response](const std::error_code&, size_t) { socket->close(); });
    });
  }

  asio::ip::tcp::acceptor acceptor_;
  std::string status_;
};

InfluxPushOptions fastOptions(std::string_view url) {
  InfluxPushOptions options;
  options.target = parsed(url);
  options.interval = 20ms;
  options.max_queued_batches = 3;
  return options;
}

TEST(InfluxPush, PostsEachBatchWithCredentialsAndNanosecondPrecision) {
  asio::io_context io;
  FakeInflux influx(io, "204 No Content");
  std::string url = "http://u:p@127.0.0.1:" + std::to_string(influx.port()) + "/write?db=sy";
  int64_t first_time = 0;
  InfluxPusher pusher(io, fastOptions(url), [&](int64_t time_ns) {
    if (first_time == 0) first_time = time_ns;
    return std::string("m v=1i ") + std::to_string(time_ns) + "\n";
  });
  pusher.start();
  while (pusher.stats().batches_sent < 3) io.run_one_for(1s);
  pusher.close();
  ASSERT_GE(influx.requests.size(), 3u);
  const std::string& request = influx.requests[0];
  EXPECT_EQ(request.find("POST /write?db=sy&precision=ns HTTP/1.1\r\n"), 0u) << request;
  EXPECT_NE(request.find("\r\nAuthorization: Basic dTpw\r\n"), std::string::npos);
  EXPECT_TRUE(request.ends_with("\r\n\r\nm v=1i " + std::to_string(first_time) + "\n"));
  EXPECT_EQ(pusher.stats().batches_failed, 0u);
  EXPECT_EQ(pusher.stats().batches_dropped, 0u);
}

TEST(InfluxPush, ADownInfluxFailsBoundedAndDropsTheOldest) {
  asio::io_context io;
  uint16_t closed_port = 0;
  {
    asio::ip::tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
    closed_port = probe.local_endpoint().port();
  }
  InfluxPusher pusher(
      io, fastOptions("http://127.0.0.1:" + std::to_string(closed_port) + "/write?db=sy"),
      [](int64_t) { return std::string("m v=1i\n"); });
  pusher.start();
  while (pusher.stats().batches_dropped < 3) io.run_one_for(1s);
  InfluxPushStats stats = pusher.stats();
  EXPECT_EQ(stats.batches_sent, 0u);
  EXPECT_GE(stats.batches_failed, 3u);
  EXPECT_LE(stats.queued_batches, 3u);
  pusher.close();
}

TEST(InfluxPush, A4xxDropsTheBatch) {
  asio::io_context io;
  FakeInflux influx(io, "404 Not Found");
  InfluxPusher pusher(
      io, fastOptions("http://127.0.0.1:" + std::to_string(influx.port()) + "/write?db=sy"),
      [](int64_t) { return std::string("m v=1i\n"); });
  pusher.start();
  while (pusher.stats().batches_dropped < 2) io.run_one_for(1s);
  EXPECT_EQ(pusher.stats().batches_sent, 0u);
  EXPECT_EQ(pusher.stats().queued_batches, 0u);
  pusher.close();
}

TEST(InfluxPush, AnEndpointThatNeverAnswersTimesOut) {
  asio::io_context io;
  asio::ip::tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});  // never accepts
  InfluxPushOptions options = fastOptions(
      "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/write?db=sy");
  InfluxPusher pusher(io, options, [](int64_t) { return std::string("m v=1i\n"); });
  pusher.start();
  while (pusher.stats().batches_failed < 2) io.run_one_for(1s);
  EXPECT_EQ(pusher.stats().batches_sent, 0u);
  pusher.close();
}

TEST(InfluxPush, UdpSendsDatagramsCutAtLines) {
  asio::io_context io;
  asio::ip::udp::socket receiver(io, {asio::ip::make_address("127.0.0.1"), 0});
  InfluxPushOptions options =
      fastOptions("udp://127.0.0.1:" + std::to_string(receiver.local_endpoint().port()));
  options.max_datagram_bytes = 16;
  InfluxPusher pusher(io, options, [](int64_t) { return std::string("m v=1i 1\nm v=2i 1\n"); });
  pusher.start();
  while (pusher.stats().batches_sent < 1) io.run_one_for(1s);
  pusher.close();
  std::array<char, 64> buffer{};
  size_t n = receiver.receive(asio::buffer(buffer));
  EXPECT_EQ(std::string(buffer.data(), n), "m v=1i 1\n");
  n = receiver.receive(asio::buffer(buffer));
  EXPECT_EQ(std::string(buffer.data(), n), "m v=2i 1\n");
}

}  // namespace
}  // namespace sy::admin
