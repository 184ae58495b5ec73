//===- EmulatorBench.cpp - Emulator speed on an nvcc-compiled bf16 GEMM ----===//
//
// The GEMM of tests/emulator/kernels/gemm.cu (3-stage cp.async pipeline,
// ldmatrix.trans, mma.sync m16n8k16 bf16 -> f32), compiled by nvcc for sm_80,
// run on the emulator with every check on. Reports thread-instructions per
// second and tensor-core GFLOP/s; the thread count shows the CTA-parallel
// speed-up. Results: docs/emulator.md.
//
//===----------------------------------------------------------------------===//
#include <fstream>
#include <sstream>

#include <benchmark/benchmark.h>

#include "runtime/emulator/Emulator.h"
#include "runtime/support/FloatFormats.h"

namespace {

using namespace mobagen;

void BM_EmulatorGemmBf16(benchmark::State &state) {
  const int n = int(state.range(0));
  const unsigned threads = unsigned(state.range(1));
  std::ifstream in(MOBAGEN_BENCH_GEMM_PTX);
  std::stringstream ptx;
  ptx << in.rdbuf();
  emu::EmulatorDevice dev(emu::EmulatorOptions{.threads = threads});
  auto module = dev.loadModule(ptx.str(), "gemm.sm_80.ptx");
  if (!module) {
    state.SkipWithError(module.status().message().c_str());
    return;
  }
  std::vector<uint16_t> a(size_t(n) * n), b(size_t(n) * n);
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = encodeDType(double(int(i * 7 % 13) - 6) / 8.0, DType::BF16);
    b[i] = encodeDType(double(int(i * 5 % 11) - 5) / 8.0, DType::BF16);
  }
  auto da = dev.allocate(a.size() * 2), db = dev.allocate(b.size() * 2), dc = dev.allocate(size_t(n) * n * 4);
  (void)dev.copyToDevice(*da, a.data(), a.size() * 2);
  (void)dev.copyToDevice(*db, b.data(), b.size() * 2);
  const device::LaunchConfig config{{uint32_t(n / 64), uint32_t(n / 64)}, {128}, 0};
  uint64_t threadInstructions = 0, flops = 0;
  for (auto _ : state) {
    Status s = dev.launch(*module, "gemm_bf16_nn", config,
                          device::KernelArgs().add(n).add(n).add(n).add(*da).add(*db).add(*dc));
    if (!s) {
      state.SkipWithError(s.message().c_str());
      return;
    }
    threadInstructions += dev.counters().threadInstructions;
    flops += dev.counters().tensorCoreFlops;
  }
  state.counters["thread_instr_per_s"] =
      benchmark::Counter(double(threadInstructions), benchmark::Counter::kIsRate);
  state.counters["tc_GFLOP_per_s"] = benchmark::Counter(double(flops) / 1e9, benchmark::Counter::kIsRate);
}

BENCHMARK(BM_EmulatorGemmBf16)
    ->ArgNames({"n", "threads"})
    ->Args({1024, 1})
    ->Args({1024, 2})
    ->Args({256, 1})
    ->Unit(benchmark::kSecond)
    ->UseRealTime()
    ->Iterations(1);

} // namespace

BENCHMARK_MAIN();
