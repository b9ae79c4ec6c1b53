// Routing cost: route::Router::plan, the step between parsing a request and handing it to a
// backend, for the request shapes a proxy sees most (single-key reads and writes on one and
// on four backends, a 10-key MGET split over two backends) and for an unknown command, whose
// error reply is formatted on the spot.
// Run: build/release/bench/switchyard_micro_bench --benchmark_filter=Route
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "route/router.h"
#include "topology/topology.h"

namespace {

using sy::route::Plan;
using sy::route::PlanKind;
using sy::route::Router;

// A topology with one pool of `servers` backends on 127.0.0.1 (addresses only; nothing
// connects). Placement as twemproxy's usual production settings: fnv1a_64 over ketama.
std::shared_ptr<const sy::topology::Topology> makeTopology(int servers) {
  std::string yaml =
      "alpha:\n  listen: 127.0.0.1:22121\n  redis: true\n  hash: fnv1a_64\n"
      "  distribution: ketama\n  hash_tag: \"{}\"\n  servers:\n";
  for (int i = 0; i < servers; ++i) {
    yaml += "   - 127.0.0.1:" + std::to_string(7000 + i) + ":1\n";
  }
  auto config =
      std::make_shared<const sy::config::Config>(sy::config::parseConfig(yaml, "route_bench.yml"));
  auto topology = sy::topology::buildTopology(config);
  return topology.ok() ? *topology : nullptr;
}

// Times Router::plan for `args`; fails the benchmark if the plan is not of kind `expected`,
// so a change in routing cannot make a figure silently measure a different path.
void runPlan(benchmark::State& state, int servers, const std::vector<std::string_view>& args,
             PlanKind expected) {
  auto topology = makeTopology(servers);
  if (topology == nullptr) {
    state.SkipWithError("cannot build the topology");
    return;
  }
  const sy::topology::PoolTopology& pool = topology->pools().front();
  Router router;
  Plan plan;
  router.plan(pool, args, plan);
  if (plan.kind != expected) {
    state.SkipWithError("the request is not routed as this benchmark assumes");
    return;
  }
  for (auto _ : state) {
    router.plan(pool, args, plan);
    benchmark::DoNotOptimize(plan.kind);
    benchmark::DoNotOptimize(plan.server);
  }
}

void BM_RoutePlan_Get1Server(benchmark::State& state) {
  runPlan(state, 1, {"GET", "user:1000:profile"}, PlanKind::kForward);
}

void BM_RoutePlan_Get4Servers(benchmark::State& state) {
  runPlan(state, 4, {"GET", "user:1000:profile"}, PlanKind::kForward);
}

void BM_RoutePlan_Set4Servers(benchmark::State& state) {
  runPlan(state, 4, {"SET", "user:1000:profile", "value"}, PlanKind::kForward);
}

// Ten keys that fnv1a_64/ketama spreads over both backends of a two-server pool (checked by
// runPlan: the plan must be a split).
void BM_RoutePlan_Mget10Keys2Servers(benchmark::State& state) {
  runPlan(state, 2,
          {"MGET", "0a1b2c3d4e:k", "1f2e3d4c5b:k", "2a3b4c5d6e:k", "3f4e5d6c7b:k", "4a5b6c7d8e:k",
           "5f6e7d8c9b:k", "6a7b8c9d0e:k", "7f8e9d0c1b:k", "8a9b0c1d2e:k", "9f0e1d2c3b:k"},
          PlanKind::kSplit);
}

void BM_RoutePlan_UnknownCommand(benchmark::State& state) {
  runPlan(state, 4, {"NOSUCHCMD", "user:1000:profile"}, PlanKind::kError);
}

BENCHMARK(BM_RoutePlan_Get1Server);
BENCHMARK(BM_RoutePlan_Get4Servers);
BENCHMARK(BM_RoutePlan_Set4Servers);
BENCHMARK(BM_RoutePlan_Mget10Keys2Servers);
BENCHMARK(BM_RoutePlan_UnknownCommand);

}  // namespace
