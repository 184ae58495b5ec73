//===- TunerBench.cpp - What tuning costs, and what a cached choice costs ---===//
//
// Tunes repeated_fma (tests/emulator/kernels/costs.cu, nvcc-compiled for sm_90)
// on the emulator among three variants (8, 64, 256 multiply-adds per element),
// cold (every candidate measured) and from the disk cache (one entry read,
// checksummed and parsed). Also reports the cost model's value for each variant
// and for shared_stride's bank conflicts, the numbers docs/tuning.md quotes. Results: docs/tuning.md.
//
//===----------------------------------------------------------------------===//
#include <filesystem>
#include <fstream>
#include <sstream>

#include <benchmark/benchmark.h>
#include <unistd.h>

#include "runtime/emulator/Emulator.h"
#include "runtime/tune/Tuner.h"

namespace {

using namespace mobagen;

constexpr int kElements = 2048;

struct FmaSetup {
  emu::EmulatorDevice dev{emu::EmulatorOptions{.threads = 1}};
  device::ModuleId module = 0;
  device::DevicePtr x = 0, y = 0;

  Status init() {
    std::ifstream in(MOBAGEN_BENCH_COSTS_PTX);
    std::stringstream ptx;
    ptx << in.rdbuf();
    Expected<device::ModuleId> id = dev.loadModule(ptx.str(), "costs.sm_90.ptx");
    MOBAGEN_RETURN_IF_ERROR(id.status());
    module = *id;
    const std::vector<float> init(kElements, 0.5f);
    Expected<device::DevicePtr> dx = dev.allocate(kElements * 4), dy = dev.allocate(kElements * 4);
    MOBAGEN_RETURN_IF_ERROR(dx.status());
    MOBAGEN_RETURN_IF_ERROR(dy.status());
    x = *dx;
    y = *dy;
    MOBAGEN_RETURN_IF_ERROR(dev.copyToDevice(x, init.data(), kElements * 4));
    return dev.copyToDevice(y, init.data(), kElements * 4);
  }
  Status launch(int reps, uint32_t block) {
    return dev.enqueue(module, "repeated_fma", {{(kElements + block - 1) / block}, {block}, 0},
                       device::KernelArgs().add(kElements).add(reps).add(0.75f).add(x).add(y), 0);
  }
  std::vector<tune::Candidate> candidates() {
    std::vector<tune::Candidate> out;
    for (int reps : {64, 8, 256})
      out.push_back({"reps" + std::to_string(reps), {}, [this, reps] { return launch(reps, 128); }});
    return out;
  }
  tune::TuningKey key() {
    tune::TuningKey k;
    k.kernel = "repeated_fma";
    k.config = "bench";
    k.bucket = *tune::ShapeBucket::of(1, kElements, kElements);
    k.device = dev.properties();
    return k;
  }
};

/// The model's value, the pure roofline's (no share of the non-bottleneck terms),
/// and the counters that drive them.
void reportModel(benchmark::State &state, const emu::Counters &c) {
  emu::CostModelParams roofline;
  roofline.nonBottleneckShare = 0;
  state.counters["model_us"] = emu::modeledMicroseconds(c);
  state.counters["roofline_us"] = emu::modeledMicroseconds(c, roofline);
  state.counters["warp_instr"] = double(c.totalWarpInstructions());
  state.counters["conflicts"] = double(c.sharedBankConflicts);
}

void BM_ModelCost(benchmark::State &state) {
  FmaSetup s;
  if (Status st = s.init(); !st) {
    state.SkipWithError(st.message().c_str());
    return;
  }
  for (auto _ : state) {
    Status st = s.launch(int(state.range(0)), uint32_t(state.range(1)));
    if (!st) {
      state.SkipWithError(st.message().c_str());
      return;
    }
  }
  reportModel(state, s.dev.counters());
  state.counters["ctas"] = double(s.dev.counters().ctas);
}
BENCHMARK(BM_ModelCost)->ArgNames({"reps", "block"})->Args({8, 128})->Args({64, 128})->Args({256, 128})
    ->Args({64, 32})->Args({64, 256})->Unit(benchmark::kMicrosecond);

// 8 CTAs of 32 lanes, 16 rounds of a shared store and load at word lane * stride.
void BM_ModelCostShared(benchmark::State &state) {
  FmaSetup s;
  if (Status st = s.init(); !st) {
    state.SkipWithError(st.message().c_str());
    return;
  }
  const int stride = int(state.range(0));
  for (auto _ : state) {
    Status st = s.dev.launch(s.module, "shared_stride", {{8}, {32}, 0},
                             device::KernelArgs().add(stride).add(16).add(s.x).add(s.y));
    if (!st) {
      state.SkipWithError(st.message().c_str());
      return;
    }
  }
  reportModel(state, s.dev.counters());
}
BENCHMARK(BM_ModelCostShared)->ArgName("stride")->Arg(1)->Arg(2)->Arg(32)->Unit(benchmark::kMicrosecond);

void BM_TuneCold(benchmark::State &state) {
  FmaSetup s;
  if (Status st = s.init(); !st) {
    state.SkipWithError(st.message().c_str());
    return;
  }
  tune::Tuner tuner(s.dev, nullptr);
  const std::vector<tune::Candidate> candidates = s.candidates();
  double cost = 0;
  for (auto _ : state) {
    Expected<tune::TuningChoice> choice = tuner.choose(s.key(), candidates);
    if (!choice) {
      state.SkipWithError(choice.status().message().c_str());
      return;
    }
    cost = choice->cost;
  }
  state.counters["chosen_model_us"] = cost;
}
BENCHMARK(BM_TuneCold)->Unit(benchmark::kMillisecond);

void BM_TuneFromCache(benchmark::State &state) {
  FmaSetup s;
  if (Status st = s.init(); !st) {
    state.SkipWithError(st.message().c_str());
    return;
  }
  const auto dir = std::filesystem::temp_directory_path() / ("mobagen-tuner-bench-" + std::to_string(::getpid()));
  Expected<DiskCache> cache = DiskCache::open(dir);
  if (!cache) {
    state.SkipWithError(cache.status().message().c_str());
    return;
  }
  tune::Tuner tuner(s.dev, &*cache);
  const std::vector<tune::Candidate> candidates = s.candidates();
  if (!tuner.choose(s.key(), candidates)) { // fills the entry
    state.SkipWithError("the first tuning failed");
    return;
  }
  for (auto _ : state) {
    Expected<tune::TuningChoice> choice = tuner.choose(s.key(), candidates);
    if (!choice || !choice->fromCache) {
      state.SkipWithError("no cached choice");
      break;
    }
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_TuneFromCache)->Unit(benchmark::kMicrosecond);

} // namespace

BENCHMARK_MAIN();
