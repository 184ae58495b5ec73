// How long the float64 reference takes: it backs `mobagen run --check`, the
// end-to-end tests and the quickstart, so its cost bounds what they can afford.
// MoBA's reference cost grows with attended keys (top_k * block), dense with Lk.
//
//   build/bench/mobagen-reference-bench --benchmark_counters_tabular=true
#include <cmath>
#include <random>

#include <benchmark/benchmark.h>

#include "runtime/reference/MobaReference.h"

namespace {

using namespace mobagen::reference;

struct Problem {
  AttentionShape shape;
  std::vector<double> q, k, v;
  std::vector<int32_t> cu;
};

Problem makeProblem(int64_t tokens, int64_t hq, int64_t hkv, int64_t d) {
  Problem p;
  p.shape = {tokens, tokens, hq, hkv, d};
  p.cu = {0, static_cast<int32_t>(tokens)};
  std::mt19937 rng(0);
  std::normal_distribution<double> normal;
  for (auto *x : {&p.q, &p.k, &p.v}) {
    x->resize(static_cast<size_t>(tokens * (x == &p.q ? hq : hkv) * d));
    for (double &e : *x)
      e = normal(rng);
  }
  return p;
}

// Arguments: tokens, block size, top-k. One sequence, 4 query heads, 2 kv heads, D 128.
void BM_MobaForward(benchmark::State &state) {
  const Problem p = makeProblem(state.range(0), 4, 2, 128);
  const AttentionInputs in{p.shape, p.q, p.k, p.v, p.cu, p.cu};
  const MobaParams params{.blockSize = state.range(1), .topK = state.range(2), .causal = true};
  for (auto _ : state) {
    auto r = mobaForward(in, params);
    benchmark::DoNotOptimize(r);
  }
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(p.shape.totalQ * p.shape.numQHeads),
                         benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_MobaForward)
    ->Args({2048, 512, 3})
    ->Args({4096, 512, 3})
    ->Args({4096, 128, 8})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_DenseCausal(benchmark::State &state) {
  const Problem p = makeProblem(state.range(0), 4, 2, 128);
  const AttentionInputs in{p.shape, p.q, p.k, p.v, p.cu, p.cu};
  for (auto _ : state) {
    auto r = denseAttention(in, true);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_DenseCausal)->Arg(2048)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
