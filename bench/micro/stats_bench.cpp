// The cost of the statistics a request pays for: reading the clock (why workers stamp an
// event time once per batch instead of once per request), recording a latency, counting a
// command by id, and finding a command's id.
#include <benchmark/benchmark.h>

#include <array>
#include <memory>
#include <string_view>

#include "command/command.h"
#include "common/clock.h"
#include "common/stats_registry.h"

namespace {

void BM_ClockNow(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(sy::common::now());
}

void BM_EventTimeRead(benchmark::State& state) {
  sy::common::stampEventTime();
  for (auto _ : state) benchmark::DoNotOptimize(sy::common::eventTime());
}

void BM_HistogramRecord(benchmark::State& state) {
  sy::common::LatencyHistogram histogram;
  uint64_t usec = 1;
  for (auto _ : state) {
    histogram.record(usec);
    usec = (usec * 7 + 3) & 0xfffff;  // spread over the buckets
  }
  benchmark::DoNotOptimize(histogram.sumUsec());
}

void BM_CommandCount(benchmark::State& state) {
  auto counters = std::make_unique<sy::common::CommandCounters[]>(sy::command::commandIdCount());
  const std::array<std::string_view, 2> get{"GET", "key"};
  uint16_t id = sy::command::commandId(*sy::command::findCommand(get));
  for (auto _ : state) {
    counters[id][sy::common::CommandStat::calls].add();
    counters[id][sy::common::CommandStat::usec].add(12);
  }
  benchmark::DoNotOptimize(counters[id][sy::common::CommandStat::calls].get());
}

void BM_CommandId_GET(benchmark::State& state) {
  const std::array<std::string_view, 2> get{"GET", "key"};
  const sy::command::CommandInfo* command = sy::command::findCommand(get);
  for (auto _ : state) benchmark::DoNotOptimize(sy::command::commandId(*command));
}

void BM_CommandId_CLIENT_ID(benchmark::State& state) {
  const std::array<std::string_view, 2> client_id{"CLIENT", "ID"};
  const sy::command::CommandInfo* command = sy::command::findCommand(client_id);
  for (auto _ : state) benchmark::DoNotOptimize(sy::command::commandId(*command));
}

}  // namespace

BENCHMARK(BM_ClockNow);
BENCHMARK(BM_EventTimeRead);
BENCHMARK(BM_HistogramRecord);
BENCHMARK(BM_CommandCount);
BENCHMARK(BM_CommandId_GET);
BENCHMARK(BM_CommandId_CLIENT_ID);
