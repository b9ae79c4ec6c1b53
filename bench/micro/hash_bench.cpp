// Key placement costs: each twemproxy hash on a 16-byte key, ketama lookup on small and large
// rings, and the whole KeyPlacer::serverForKey path (tag extraction + hash + lookup).
// Run: build/release/bench/switchyard_micro_bench --benchmark_filter=Hash
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "hash/distribution.h"
#include "hash/hash_function.h"

namespace {

using sy::hash::Distribution;
using sy::hash::HashFunction;
using sy::hash::RingMember;

const std::string kKey16 = "user:1000:profil";  // 16 bytes

std::vector<RingMember> servers(int count) {
  std::vector<RingMember> members;
  for (int i = 0; i < count; ++i) {
    members.push_back(RingMember{"server" + std::to_string(i + 1), 1, static_cast<uint32_t>(i)});
  }
  return members;
}

// Keys that differ, so lookups do not hit one cached path.
std::vector<std::string> keys(size_t count) {
  std::vector<std::string> out;
  for (size_t i = 0; i < count; ++i) {
    out.push_back("user:" + std::to_string(i * 7919) + ":profile");
  }
  return out;
}

void BM_HashBytes16(benchmark::State& state) {
  const auto function = static_cast<HashFunction>(state.range(0));
  state.SetLabel(std::string(sy::hash::hashFunctionName(function)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(sy::hash::hashBytes(function, kKey16));
  }
}
BENCHMARK(BM_HashBytes16)->DenseRange(0, std::size(sy::hash::kAllHashFunctions) - 1);

void BM_KetamaLookup(benchmark::State& state) {
  const auto members = servers(static_cast<int>(state.range(0)));
  const auto ring = sy::hash::Distributor::build(Distribution::kKetama, members);
  uint32_t hash = 0x9e3779b9;
  for (auto _ : state) {
    hash = hash * 1664525u + 1013904223u;
    benchmark::DoNotOptimize(ring.serverFor(hash));
  }
}
BENCHMARK(BM_KetamaLookup)->Arg(4)->Arg(100);

void BM_KetamaBuild(benchmark::State& state) {
  const auto members = servers(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(sy::hash::Distributor::build(Distribution::kKetama, members));
  }
}
BENCHMARK(BM_KetamaBuild)->Arg(4)->Arg(100);

void BM_ServerForKey(benchmark::State& state) {
  const auto members = servers(static_cast<int>(state.range(0)));
  const auto distribution = static_cast<Distribution>(state.range(1));
  const sy::hash::KeyPlacer placer(HashFunction::kFnv1a_64, "{}", distribution, members);
  const auto all = keys(1024);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(placer.serverForKey(all[i++ & 1023]));
  }
}
BENCHMARK(BM_ServerForKey)
    ->Args({4, static_cast<int>(Distribution::kKetama)})
    ->Args({100, static_cast<int>(Distribution::kKetama)})
    ->Args({4, static_cast<int>(Distribution::kModula)})
    ->Args({4, static_cast<int>(Distribution::kRandom)});

}  // namespace
