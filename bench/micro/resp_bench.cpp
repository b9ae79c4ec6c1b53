// Request parsing and reply framing on the shapes the proxy sees most. Each iteration parses
// (or frames) the whole input from a buffer that stays put, as a session does in steady state.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "common/byte_buffer.h"
#include "resp/encoder.h"
#include "resp/reply_framer.h"
#include "resp/request_parser.h"

namespace {

using sy::resp::ParseStatus;

std::string command(const std::vector<std::string_view>& args) {
  sy::common::ByteBuffer out;
  sy::resp::appendCommand(out, args);
  return std::string(out.view());
}

// Parses every request in `input` per iteration; items = requests.
void parseAll(benchmark::State& state, const std::string& input) {
  sy::resp::RequestParser parser;
  sy::resp::Request request;
  int64_t requests = 0;
  for (auto _ : state) {
    std::string_view rest = input;
    while (!rest.empty()) {
      size_t consumed = 0;
      if (parser.parse(rest, consumed, request) != ParseStatus::kOk) {
        state.SkipWithError("parse failed");
        return;
      }
      benchmark::DoNotOptimize(request.args.data());
      rest.remove_prefix(consumed);
      ++requests;
    }
  }
  state.SetItemsProcessed(requests);
}

void BM_ParseGet(benchmark::State& state) { parseAll(state, command({"GET", "user:1000"})); }
BENCHMARK(BM_ParseGet);

void BM_ParseSet32(benchmark::State& state) {
  parseAll(state, command({"SET", "user:1000", std::string(32, 'v')}));
}
BENCHMARK(BM_ParseSet32);

void BM_ParseMget10(benchmark::State& state) {
  parseAll(state, command({"MGET", "key:0", "key:1", "key:2", "key:3", "key:4", "key:5", "key:6",
                           "key:7", "key:8", "key:9"}));
}
BENCHMARK(BM_ParseMget10);

// 16 GET/SET requests back to back: items/s is requests/s.
void BM_ParsePipeline16(benchmark::State& state) {
  std::string input;
  for (int i = 0; i < 8; ++i) {
    input += command({"GET", "key:" + std::to_string(i)});
    input += command({"SET", "key:" + std::to_string(i), std::string(32, 'v')});
  }
  parseAll(state, input);
}
BENCHMARK(BM_ParsePipeline16);

void BM_ParseInline(benchmark::State& state) { parseAll(state, "GET user:1000\r\n"); }
BENCHMARK(BM_ParseInline);

void frameOne(benchmark::State& state, const std::string& reply) {
  sy::resp::ReplyFramer framer;
  for (auto _ : state) {
    size_t consumed = 0;
    if (framer.frame(reply, consumed) != ParseStatus::kOk) {
      state.SkipWithError("frame failed");
      return;
    }
    benchmark::DoNotOptimize(consumed);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(reply.size()));
}

void BM_FrameBulk(benchmark::State& state) {
  frameOne(state, "$32\r\n" + std::string(32, 'v') + "\r\n");
}
BENCHMARK(BM_FrameBulk);

void BM_FrameArray10(benchmark::State& state) {
  std::string reply = "*10\r\n";
  for (int i = 0; i < 10; ++i) reply += "$8\r\nvalue:0" + std::to_string(i) + "\r\n";
  frameOne(state, reply);
}
BENCHMARK(BM_FrameArray10);

void BM_EncodeCommandSet32(benchmark::State& state) {
  const std::string value(32, 'v');
  const std::vector<std::string_view> args = {"SET", "user:1000", value};
  sy::common::ByteBuffer out(4096);
  for (auto _ : state) {
    sy::resp::appendCommand(out, args);
    benchmark::DoNotOptimize(out.data());
    out.clear();
  }
}
BENCHMARK(BM_EncodeCommandSet32);

}  // namespace
