// How long generating kernels takes: a MoBA configuration -> the PTX of its kernels'
// tuning variants (templates, baseline lowering, NVPTX backend), and that PTX ->
// cubin (nvJitLink). An autotuning sweep pays this per variant. Counters: variants
// made, wall milliseconds per variant, and per stage the milliseconds per variant
// summed over threads (docs/perf.md).
//
//   build/bench/mobagen-generation-bench
#include <benchmark/benchmark.h>

#include <chrono>

#include "compiler/Pipeline/MobaKernels.h"
#include "compiler/Target/PtxEmitter.h"

namespace {

using mobagen::compiler::GenerateOptions;
using mobagen::compiler::GenerationTimes;
using mobagen::compiler::MobaKernelConfig;

MobaKernelConfig configOf(const benchmark::State &state) {
  return {.blockSize = state.range(0), .topK = state.range(1), .headDim = state.range(2),
          .numQHeads = 4, .numKvHeads = 1, .causal = true};
}

size_t variantCount(const mobagen::compiler::MobaKernels &kernels) {
  size_t n = 0;
  for (const auto &k : kernels.kernels)
    n += k.variants.size();
  return n;
}

void generate(benchmark::State &state, bool allVariants) {
  GenerationTimes t;
  const GenerateOptions options{.allVariants = allVariants,
                                .threads = static_cast<unsigned>(state.range(3)),
                                .optLevel = static_cast<unsigned>(state.range(4)),
                                .verifyLowering = state.range(5) != 0,
                                .times = &t};
  size_t variants = 0;
  double wallMs = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    auto kernels = mobagen::compiler::generateMobaKernels(configOf(state), options);
    if (!kernels) {
      state.SkipWithError(kernels.status().message().c_str());
      return;
    }
    wallMs += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                  .count();
    variants = variantCount(*kernels);
    benchmark::DoNotOptimize(kernels->kernels.data());
  }
  const double n = static_cast<double>(state.iterations() * variants);
  state.counters["variants"] = static_cast<double>(variants);
  state.counters["ms_per_variant"] = wallMs / n;
  state.counters["context_ms"] = t.contextMs / n;
  state.counters["build_ms"] = t.buildMs / n;
  state.counters["passes_ms"] = t.passesMs / n;
  state.counters["translate_ms"] = t.ptx.translateMs / n;
  state.counters["tm_ms"] = t.ptx.targetMachineMs / n;
  state.counters["opt_ms"] = t.ptx.optimizeMs / n;
  state.counters["codegen_ms"] = t.ptx.codegenMs / n;
}

// Arguments: block size, top-k, head dim, threads, LLVM -O level, verify each
// lowering pass (1) or not (0). The first rows are the settings before this
// benchmark's measurements (docs/perf.md): one thread, -O3, verified.
void BM_DefaultVariantsToPtx(benchmark::State &state) { generate(state, false); }
BENCHMARK(BM_DefaultVariantsToPtx)
    ->Args({512, 3, 128, 1, 3, 1})->Args({64, 4, 64, 1, 3, 1})
    ->Args({512, 3, 128, 1, 3, 0})->Args({512, 3, 128, 2, 3, 0})
    ->Args({512, 3, 128, 1, 2, 0})->Args({512, 3, 128, 1, 1, 0})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_AllVariantsToPtx(benchmark::State &state) { generate(state, true); }
BENCHMARK(BM_AllVariantsToPtx)
    ->Args({512, 3, 128, 1, 3, 1})->Args({512, 3, 128, 1, 3, 0})->Args({512, 3, 128, 2, 3, 0})
    ->Args({512, 3, 128, 2, 2, 0})->Args({512, 3, 128, 1, 2, 0})
    ->Args({64, 4, 64, 1, 3, 1})->Args({64, 4, 64, 2, 3, 0})->Args({64, 4, 64, 2, 2, 0})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

// The default variants' PTX to cubins (sm_80). Arguments: block size, top-k, head dim.
void BM_PtxToCubin(benchmark::State &state) {
  auto kernels = mobagen::compiler::generateMobaKernels(configOf(state));
  if (!kernels) {
    state.SkipWithError(kernels.status().message().c_str());
    return;
  }
  for (auto _ : state) {
    for (const auto &kernel : kernels->kernels) {
      auto cubin = mobagen::compiler::assembleCubin(kernel.defaultVariant().ptx, "sm_80");
      if (!cubin) {
        state.SkipWithError(cubin.status().message().c_str());
        return;
      }
      benchmark::DoNotOptimize(cubin->image.data());
    }
  }
}
BENCHMARK(BM_PtxToCubin)->Args({512, 3, 128})->Args({64, 4, 64})->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
