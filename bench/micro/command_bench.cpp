// Command lookup and key extraction, the two table operations on every request.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "command/command.h"

namespace {

template <size_t N>
void lookup(benchmark::State& state, const std::array<std::string_view, N>& args) {
  for (auto _ : state) {
    const sy::command::CommandInfo* command = sy::command::findCommand(args);
    benchmark::DoNotOptimize(command);
  }
}

void BM_FindCommand_GET(benchmark::State& state) {
  lookup(state, std::array<std::string_view, 2>{"GET", "key:000001"});
}
void BM_FindCommand_set(benchmark::State& state) {
  lookup(state, std::array<std::string_view, 3>{"set", "key:000001", "value"});
}
void BM_FindCommand_MGET(benchmark::State& state) {
  lookup(state, std::array<std::string_view, 3>{"MGET", "a", "b"});
}
void BM_FindCommand_zunionstore(benchmark::State& state) {
  lookup(state, std::array<std::string_view, 5>{"zunionstore", "d", "2", "a", "b"});
}
void BM_FindCommand_Unknown(benchmark::State& state) {
  lookup(state, std::array<std::string_view, 2>{"NOSUCHCMD", "x"});
}
void BM_FindCommand_ConfigGet(benchmark::State& state) {
  lookup(state, std::array<std::string_view, 3>{"CONFIG", "GET", "maxmemory"});
}

void BM_ExtractKeys_Mset10Pairs(benchmark::State& state) {
  std::vector<std::string_view> args{"MSET"};
  for (int i = 0; i < 10; ++i) {
    args.push_back("key");
    args.push_back("value");
  }
  const sy::command::CommandInfo& mset = *sy::command::findCommand(args);
  std::vector<uint32_t> keys;
  keys.reserve(16);
  for (auto _ : state) {
    const bool ok = sy::command::extractKeys(mset, args, keys);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(keys.data());
  }
}

void BM_ExtractKeys_Get(benchmark::State& state) {
  const std::array<std::string_view, 2> args{"GET", "key:000001"};
  const sy::command::CommandInfo& get = *sy::command::findCommand(args);
  std::vector<uint32_t> keys;
  keys.reserve(4);
  for (auto _ : state) {
    const bool ok = sy::command::extractKeys(get, args, keys);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(keys.data());
  }
}

}  // namespace

BENCHMARK(BM_FindCommand_GET);
BENCHMARK(BM_FindCommand_set);
BENCHMARK(BM_FindCommand_MGET);
BENCHMARK(BM_FindCommand_zunionstore);
BENCHMARK(BM_FindCommand_Unknown);
BENCHMARK(BM_FindCommand_ConfigGet);
BENCHMARK(BM_ExtractKeys_Mset10Pairs);
BENCHMARK(BM_ExtractKeys_Get);
