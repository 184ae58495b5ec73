// The fake CUDA driver's control surface: what the tests read back (launches,
// modules, live handles) and the failures they inject. The test binary takes
// these functions with dlsym from the same library CudaDriver dlopen()ed, so both
// see one state.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {

/// One recorded cuLaunchKernel.
struct FakeCudaLaunch {
  char kernel[128];
  char module[64];          ///< the module's first .entry name ("" if none)
  unsigned grid[3];
  unsigned block[3];
  unsigned sharedBytes;
  uint64_t stream;          ///< the CUstream's value
  int paramCount;
  unsigned paramSizes[32];
  unsigned char params[32][16]; ///< each parameter's bytes (the first 16)
  int contextCurrent;       ///< the primary context was current on the launching thread
};

/// Forgets every allocation, module, stream, event, launch and injected failure.
void fakeCuda_reset();
/// Makes every later call of `call` (e.g. "cuMemAlloc") return `result`, until reset.
void fakeCuda_failCall(const char *call, int result);
/// The log a failing cuModuleLoadDataEx writes into CU_JIT_ERROR_LOG_BUFFER.
void fakeCuda_setJitErrorLog(const char *log);
/// The values cuEventElapsedTime returns, in order, cycling.
void fakeCuda_setElapsedMs(const float *values, int count);
/// Allocations larger than this fail with CUDA_ERROR_OUT_OF_MEMORY (default 256 MiB).
void fakeCuda_setMemoryLimit(size_t bytes);

int fakeCuda_launchCount();
/// Copies launch `index` into `out`; 0 on success, -1 if there is no such launch.
int fakeCuda_launch(int index, FakeCudaLaunch *out);
/// Every module image ever loaded, in order (PTX text or cubin bytes).
int fakeCuda_moduleCount();
const char *fakeCuda_moduleImage(int index, size_t *size);
/// Handles alive now.
int fakeCuda_liveModules();
int fakeCuda_liveEvents();
int fakeCuda_liveStreams();
int fakeCuda_liveAllocations();
/// Primary-context retains minus releases, over all devices.
int fakeCuda_primaryRetains();
/// cuFuncSetAttribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES) calls so far.
int fakeCuda_dynamicSharedOptIns();
/// cuStreamSynchronize calls so far, and the stream of the last one.
int fakeCuda_streamSyncs(uint64_t *lastStream);
}
