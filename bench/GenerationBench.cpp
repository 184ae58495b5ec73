// How long generating kernels takes: a MoBA configuration -> the PTX of its three
// kernels (templates, baseline lowering, NVPTX backend), and that PTX -> cubin
// (nvJitLink). An autotuning sweep over dozens of variants pays this per variant.
//
//   build/bench/mobagen-generation-bench
#include <benchmark/benchmark.h>

#include "compiler/Pipeline/MobaKernels.h"
#include "compiler/Target/PtxEmitter.h"

namespace {

using mobagen::compiler::MobaKernelConfig;

MobaKernelConfig configOf(const benchmark::State &state) {
  return {.blockSize = state.range(0), .topK = state.range(1), .headDim = state.range(2),
          .numQHeads = 4, .numKvHeads = 1, .causal = true};
}

// Arguments: block size, top-k, head dim.
void BM_ConfigToPtx(benchmark::State &state) {
  mobagen::compiler::GenerationTimes t;
  for (auto _ : state) {
    auto kernels = mobagen::compiler::generateMobaKernels(configOf(state), &t);
    if (!kernels) {
      state.SkipWithError(kernels.status().message().c_str());
      return;
    }
    benchmark::DoNotOptimize(kernels->ptx.data());
  }
  state.counters["kernels"] = 3;
  // Per-stage milliseconds per iteration.
  const double n = static_cast<double>(state.iterations());
  state.counters["context_ms"] = t.contextMs / n;
  state.counters["build_ms"] = t.buildMs / n;
  state.counters["passes_ms"] = t.passesMs / n;
  state.counters["translate_ms"] = t.ptx.translateMs / n;
  state.counters["tm_ms"] = t.ptx.targetMachineMs / n;
  state.counters["opt_ms"] = t.ptx.optimizeMs / n;
  state.counters["codegen_ms"] = t.ptx.codegenMs / n;
}
BENCHMARK(BM_ConfigToPtx)->Args({512, 3, 128})->Args({128, 8, 128})->Args({64, 4, 64})
    ->Unit(benchmark::kMillisecond);

void BM_PtxToCubin(benchmark::State &state) {
  auto kernels = mobagen::compiler::generateMobaKernels(configOf(state));
  if (!kernels) {
    state.SkipWithError(kernels.status().message().c_str());
    return;
  }
  for (auto _ : state) {
    auto cubin = mobagen::compiler::assembleCubin(kernels->ptx, "sm_80");
    if (!cubin) {
      state.SkipWithError(cubin.status().message().c_str());
      return;
    }
    benchmark::DoNotOptimize(cubin->image.data());
  }
}
BENCHMARK(BM_PtxToCubin)->Args({512, 3, 128})->Args({64, 4, 64})->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
