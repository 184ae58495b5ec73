//===- HostOverheadBench.cpp - Host cost of one forward call ---------------===//
//
// What one MoBA forward costs the host before the GPU does anything: the
// argument and shape checks, the workspace layout, the variant lookup and the
// three launches' parameter setup, on a context whose modules are already
// loaded. The device is a recording one that counts enqueues and runs nothing,
// so the numbers are the runtime's own overhead (target: under 5 us per call).
// Results: docs/perf.md.
//
//===----------------------------------------------------------------------===//
#include <benchmark/benchmark.h>

#include "runtime/api/Context.h"
#include "tests/unit/api/RecordingDevice.h"
#include "tools/mobagen/InProcessBundle.h"

namespace {

using namespace mobagen;

/// A context for block 512, top-k 3, D 128, Hq 32, Hkv 8, bf16 on a recording device.
struct Setup {
  std::shared_ptr<testing::RecordingDevice> device = std::make_shared<testing::RecordingDevice>(false);
  std::unique_ptr<api::Context> context;
  mobagen_shape shape{};
  launch::ForwardBuffers buffers;
  std::string error;

  Setup() {
    const compiler::MobaKernelConfig config{.blockSize = 512, .topK = 3, .headDim = 128, .numQHeads = 32,
                                            .numKvHeads = 8};
    auto files = cli::generateBundle(config);
    if (!files) {
      error = files.status().message();
      return;
    }
    std::vector<bundle::FileView> views;
    for (const auto &[name, bytes] : *files)
      views.push_back({name, bytes});
    auto b = bundle::Bundle::fromFiles(views, "bench");
    if (!b) {
      error = b.status().message();
      return;
    }
    if (api::ApiStatus s = api::Context::create(device, std::move(*b), {}, context); !s.ok()) {
      error = s.message;
      return;
    }
    // 8 prefills of up to 4096 tokens.
    shape = {.batch = 8, .total_q = 20000, .total_k = 20000, .max_seqlen_q = 4096, .max_seqlen_k = 4096,
             .num_q_heads = 32, .num_kv_heads = 8, .head_dim = 128, .dtype = MOBAGEN_DTYPE_BF16};
    uint64_t bytes = 0;
    if (api::ApiStatus s = context->workspaceSize(shape, bytes); !s.ok()) {
      error = s.message;
      return;
    }
    buffers = {.q = 0x100000, .k = 0x200000, .v = 0x300000, .cuSeqlensQ = 0x400000, .cuSeqlensK = 0x400100,
               .out = 0x500000, .lse = 0x600000, .workspace = 0x700000, .workspaceBytes = bytes};
    // Load the modules (the first forward does).
    if (api::ApiStatus s = context->forward(shape, buffers, 0); !s.ok())
      error = s.message;
  }
};

Setup &setup() {
  static Setup s;
  return s;
}

void BM_ForwardHostOverhead(benchmark::State &state) {
  Setup &s = setup();
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  const uint64_t before = s.device->enqueues();
  for (auto _ : state) {
    api::ApiStatus status = s.context->forward(s.shape, s.buffers, 0);
    benchmark::DoNotOptimize(status);
  }
  // 3 when every call reached the device (a failed check would launch nothing).
  state.counters["launches/call"] = double(s.device->enqueues() - before) / double(state.iterations());
}
BENCHMARK(BM_ForwardHostOverhead)->Unit(benchmark::kMicrosecond);

/// The shape checks and the workspace layout alone (mobagen_workspace_size's work).
void BM_WorkspaceSize(benchmark::State &state) {
  Setup &s = setup();
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return;
  }
  for (auto _ : state) {
    uint64_t bytes = 0;
    api::ApiStatus status = s.context->workspaceSize(s.shape, bytes);
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(bytes);
  }
}
BENCHMARK(BM_WorkspaceSize)->Unit(benchmark::kMicrosecond);

} // namespace

BENCHMARK_MAIN();
