// A stand-in for libcuda.so.1 with which the tests drive CudaDriver and CudaDevice
// on machines without a GPU. It keeps device memory in host RAM, records every
// module image and launch, finds kernels and their parameter sizes by reading
// the PTX's .entry declarations (it never executes PTX), returns fixed event
// times, and fails any call on request (FakeCudaControl.h). Like the real driver
// it refuses work on a thread where the primary context is not current.
//
// Environment knobs for CudaDriver's loading paths: FAKE_CUDA_DRIVER_VERSION
// (default 12080), FAKE_CUDA_MISSING (an entry point cuGetProcAddress pretends
// not to have), FAKE_CUDA_INIT_RESULT, FAKE_CUDA_DEVICE_COUNT (fewer than the two devices).
#include <cuda.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/fakecuda/FakeCudaControl.h"

// The driver's opaque handle types, defined here.
struct CUctx_st {
  int device;
};
struct CUfunc_st {
  std::string name;
  std::vector<size_t> paramSizes;
  int maxDynamicShared = 48 * 1024;
  CUmod_st *module = nullptr;
};
struct CUmod_st {
  std::string firstEntry;
  std::vector<std::unique_ptr<CUfunc_st>> functions;
};
struct CUstream_st {};
struct CUevent_st {};

namespace {

constexpr int kDeviceCount = 2;
CUctx_st primaryContexts[kDeviceCount] = {{0}, {1}};

struct State {
  std::mutex mutex;
  std::map<uint64_t, std::vector<unsigned char>> memory; // base -> bytes
  uint64_t nextAddress = 0x7f0000000000ull;
  size_t memoryLimit = size_t{256} << 20;
  std::vector<std::string> images;
  std::set<CUmod_st *> modules;
  std::set<CUstream_st *> streams;
  std::set<CUevent_st *> events;
  std::vector<FakeCudaLaunch> launches;
  std::map<std::string, CUresult> failures;
  std::string jitErrorLog;
  std::vector<float> elapsedMs{1.0f};
  size_t elapsedIndex = 0;
  int retains = 0;
  int dynamicSharedOptIns = 0;
  int streamSyncs = 0;
  uint64_t lastSyncStream = 0;
};

State &state() {
  static State s;
  return s;
}

thread_local CUctx_st *currentContext = nullptr;

int envInt(const char *name, int fallback) {
  const char *v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

CUresult unimplemented() { return CUDA_ERROR_NOT_SUPPORTED; }

/// The injected result for `call`, or CUDA_SUCCESS. Takes the state lock itself.
CUresult injected(const char *call) {
  State &s = state();
  std::lock_guard lock(s.mutex);
  auto it = s.failures.find(call);
  return it == s.failures.end() ? CUDA_SUCCESS : it->second;
}

#define FAKE_INJECT(call)                                                                    \
  if (CUresult injected_ = injected(call); injected_ != CUDA_SUCCESS)                        \
  return injected_
#define FAKE_NEED_CONTEXT()                                                                  \
  if (!currentContext)                                                                       \
  return CUDA_ERROR_INVALID_CONTEXT

/// The allocation holding [address, address + bytes), or null. Caller holds the lock.
std::vector<unsigned char> *findRange(uint64_t address, size_t bytes, size_t *offset) {
  State &s = state();
  auto it = s.memory.upper_bound(address);
  if (it == s.memory.begin())
    return nullptr;
  --it;
  const uint64_t end = it->first + it->second.size();
  if (address < it->first || address + bytes > end)
    return nullptr;
  *offset = address - it->first;
  return &it->second;
}

/// Bytes of a PTX parameter type: .u64 -> 8, .b32 -> 4, `.align 8 .b8 name[24]` -> 24.
size_t paramBytes(const std::string &decl) {
  if (size_t open = decl.find('['); open != std::string::npos)
    return std::strtoul(decl.c_str() + open + 1, nullptr, 10);
  for (const char *t : {"64", "32", "16", "8"})
    for (const char *prefix : {".u", ".s", ".b", ".f"})
      if (decl.find(std::string(prefix) + t + " ") != std::string::npos)
        return std::strtoul(t, nullptr, 10) / 8;
  return 0;
}

/// Every `.entry NAME(...)` of a PTX text, with its parameters' sizes.
void readEntries(const std::string &text, CUmod_st *module) {
  size_t at = 0;
  while ((at = text.find(".entry", at)) != std::string::npos) {
    at += 6;
    size_t nameBegin = text.find_first_not_of(" \t\r\n", at);
    size_t nameEnd = text.find_first_of(" \t\r\n(", nameBegin);
    if (nameBegin == std::string::npos || nameEnd == std::string::npos)
      return;
    auto function = std::make_unique<CUfunc_st>();
    function->name = text.substr(nameBegin, nameEnd - nameBegin);
    function->module = module;
    size_t open = text.find('(', nameEnd), close = text.find(')', nameEnd);
    if (open != std::string::npos && close != std::string::npos && open < close) {
      const std::string params = text.substr(open + 1, close - open - 1);
      size_t p = 0;
      while ((p = params.find(".param", p)) != std::string::npos) {
        size_t end = params.find(',', p);
        function->paramSizes.push_back(paramBytes(params.substr(p, end == std::string::npos ? end : end - p) + " "));
        p += 6;
      }
    }
    if (module->firstEntry.empty())
      module->firstEntry = function->name;
    module->functions.push_back(std::move(function));
    at = nameEnd;
  }
}

} // namespace

extern "C" {

// --- Control surface (FakeCudaControl.h) -------------------------------------------

void fakeCuda_reset() {
  State &s = state();
  std::lock_guard lock(s.mutex);
  s.memory.clear();
  s.memoryLimit = size_t{256} << 20;
  s.images.clear();
  for (CUmod_st *m : s.modules)
    delete m;
  s.modules.clear();
  for (CUstream_st *st : s.streams)
    delete st;
  s.streams.clear();
  for (CUevent_st *e : s.events)
    delete e;
  s.events.clear();
  s.launches.clear();
  s.failures.clear();
  s.jitErrorLog.clear();
  s.elapsedMs = {1.0f};
  s.elapsedIndex = 0;
  s.retains = 0;
  s.dynamicSharedOptIns = 0;
  s.streamSyncs = 0;
  s.lastSyncStream = 0;
}

void fakeCuda_failCall(const char *call, int result) {
  std::lock_guard lock(state().mutex);
  state().failures[call] = static_cast<CUresult>(result);
}

void fakeCuda_setJitErrorLog(const char *log) {
  std::lock_guard lock(state().mutex);
  state().jitErrorLog = log;
}

void fakeCuda_setElapsedMs(const float *values, int count) {
  std::lock_guard lock(state().mutex);
  state().elapsedMs.assign(values, values + count);
  state().elapsedIndex = 0;
}

void fakeCuda_setMemoryLimit(size_t bytes) {
  std::lock_guard lock(state().mutex);
  state().memoryLimit = bytes;
}

int fakeCuda_launchCount() {
  std::lock_guard lock(state().mutex);
  return static_cast<int>(state().launches.size());
}

int fakeCuda_launch(int index, FakeCudaLaunch *out) {
  std::lock_guard lock(state().mutex);
  if (index < 0 || static_cast<size_t>(index) >= state().launches.size())
    return -1;
  *out = state().launches[index];
  return 0;
}

int fakeCuda_moduleCount() {
  std::lock_guard lock(state().mutex);
  return static_cast<int>(state().images.size());
}

const char *fakeCuda_moduleImage(int index, size_t *size) {
  std::lock_guard lock(state().mutex);
  const std::string &image = state().images.at(index);
  *size = image.size();
  return image.data();
}

int fakeCuda_liveModules() {
  std::lock_guard lock(state().mutex);
  return static_cast<int>(state().modules.size());
}
int fakeCuda_liveEvents() {
  std::lock_guard lock(state().mutex);
  return static_cast<int>(state().events.size());
}
int fakeCuda_liveStreams() {
  std::lock_guard lock(state().mutex);
  return static_cast<int>(state().streams.size());
}
int fakeCuda_liveAllocations() {
  std::lock_guard lock(state().mutex);
  return static_cast<int>(state().memory.size());
}
int fakeCuda_primaryRetains() {
  std::lock_guard lock(state().mutex);
  return state().retains;
}
int fakeCuda_dynamicSharedOptIns() {
  std::lock_guard lock(state().mutex);
  return state().dynamicSharedOptIns;
}
int fakeCuda_streamSyncs(uint64_t *lastStream) {
  std::lock_guard lock(state().mutex);
  *lastStream = state().lastSyncStream;
  return state().streamSyncs;
}

// --- Initialization, errors, devices -------------------------------------------------

CUresult cuInit(unsigned) { return static_cast<CUresult>(envInt("FAKE_CUDA_INIT_RESULT", 0)); }

CUresult cuDriverGetVersion(int *version) {
  *version = envInt("FAKE_CUDA_DRIVER_VERSION", 12080);
  return CUDA_SUCCESS;
}

namespace {
struct ErrorText {
  CUresult result;
  const char *name, *text;
};
const ErrorText kErrors[] = {
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {CUDA_ERROR_INVALID_PTX, "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
     "too many resources requested for launch"},
    {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
};
} // namespace

CUresult cuGetErrorName(CUresult result, const char **name) {
  for (const ErrorText &e : kErrors)
    if (e.result == result) {
      *name = e.name;
      return CUDA_SUCCESS;
    }
  return CUDA_ERROR_INVALID_VALUE; // unknown to this fake
}

CUresult cuGetErrorString(CUresult result, const char **text) {
  for (const ErrorText &e : kErrors)
    if (e.result == result) {
      *text = e.text;
      return CUDA_SUCCESS;
    }
  return CUDA_ERROR_INVALID_VALUE;
}

CUresult cuDeviceGetCount(int *count) {
  *count = std::min(kDeviceCount, envInt("FAKE_CUDA_DEVICE_COUNT", kDeviceCount));
  return CUDA_SUCCESS;
}

// Two "devices": an sm_90 with 132 SMs and an sm_80 with 108, as H100/H200 and A100.
CUresult cuDeviceGet(CUdevice *device, int ordinal) {
  if (ordinal < 0 || ordinal >= kDeviceCount)
    return CUDA_ERROR_INVALID_DEVICE;
  *device = ordinal;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char *name, int length, CUdevice device) {
  std::strncpy(name, device == 0 ? "Fake GPU sm_90" : "Fake GPU sm_80", length);
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int *value, CUdevice_attribute attribute, CUdevice device) {
  switch (attribute) {
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR:
    *value = device == 0 ? 9 : 8;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR:
    *value = 0;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT:
    *value = device == 0 ? 132 : 108;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN:
    *value = device == 0 ? 232448 : 166912; // 227 KiB (sm_90), 163 KiB (sm_80)
    return CUDA_SUCCESS;
  default:
    return CUDA_ERROR_INVALID_VALUE;
  }
}

CUresult cuDeviceTotalMem(size_t *bytes, CUdevice device) {
  *bytes = (device == 0 ? size_t{141} : size_t{80}) << 30;
  return CUDA_SUCCESS;
}

// --- Contexts ----------------------------------------------------------------------

CUresult cuDevicePrimaryCtxRetain(CUcontext *context, CUdevice device) {
  FAKE_INJECT("cuDevicePrimaryCtxRetain");
  if (device < 0 || device >= kDeviceCount)
    return CUDA_ERROR_INVALID_DEVICE;
  std::lock_guard lock(state().mutex);
  ++state().retains;
  *context = &primaryContexts[device];
  return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRelease(CUdevice device) {
  std::lock_guard lock(state().mutex);
  --state().retains;
  return CUDA_SUCCESS;
}

CUresult cuCtxSetCurrent(CUcontext context) {
  FAKE_INJECT("cuCtxSetCurrent");
  currentContext = context;
  return CUDA_SUCCESS;
}

CUresult cuCtxSynchronize() {
  FAKE_NEED_CONTEXT();
  return injected("cuCtxSynchronize");
}

// --- Modules and functions ---------------------------------------------------------

CUresult cuModuleLoadDataEx(CUmodule *module, const void *image, unsigned numOptions, CUjit_option *options,
                            void **values) {
  FAKE_NEED_CONTEXT();
  const unsigned char *bytes = static_cast<const unsigned char *>(image);
  const bool cubin = bytes[0] == 0x7f && bytes[1] == 'E' && bytes[2] == 'L' && bytes[3] == 'F';
  // A fake cubin is the ELF magic followed by a size (uint32) and PTX-like text
  // naming its entries. A real one (ptxas's ELF64, little-endian, version 1) is
  // recorded whole: its extent is where its section header table ends.
  std::string text;
  const bool realElf64 = cubin && bytes[4] == 2 && bytes[5] == 1 && bytes[6] == 1;
  if (realElf64) {
    uint64_t sectionHeaders = 0;
    uint16_t entrySize = 0, entries = 0;
    std::memcpy(&sectionHeaders, bytes + 0x28, sizeof(sectionHeaders));
    std::memcpy(&entrySize, bytes + 0x3a, sizeof(entrySize));
    std::memcpy(&entries, bytes + 0x3c, sizeof(entries));
    text.assign(reinterpret_cast<const char *>(bytes), sectionHeaders + uint64_t(entrySize) * entries);
  } else if (cubin) {
    uint32_t size = 0;
    std::memcpy(&size, bytes + 4, sizeof(size));
    text.assign(reinterpret_cast<const char *>(bytes), 8 + size_t(size));
  } else {
    text = static_cast<const char *>(image);
  }
  {
    std::lock_guard lock(state().mutex);
    state().images.push_back(text);
  }
  if (CUresult r = injected("cuModuleLoadDataEx"); r != CUDA_SUCCESS) {
    std::lock_guard lock(state().mutex);
    char *log = nullptr;
    size_t capacity = 0;
    for (unsigned i = 0; i < numOptions; ++i) {
      if (options[i] == CU_JIT_ERROR_LOG_BUFFER)
        log = static_cast<char *>(values[i]);
      if (options[i] == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
        capacity = reinterpret_cast<uintptr_t>(values[i]);
    }
    if (log && capacity > 0) {
      std::strncpy(log, state().jitErrorLog.c_str(), capacity - 1);
      log[capacity - 1] = '\0';
    }
    return r;
  }
  if (!cubin && text.find(".version") == std::string::npos)
    return CUDA_ERROR_INVALID_IMAGE;
  auto *m = new CUmod_st();
  readEntries(text, m);
  std::lock_guard lock(state().mutex);
  state().modules.insert(m);
  *module = m;
  return CUDA_SUCCESS;
}

CUresult cuModuleUnload(CUmodule module) {
  FAKE_NEED_CONTEXT();
  std::lock_guard lock(state().mutex);
  if (!state().modules.erase(module))
    return CUDA_ERROR_INVALID_HANDLE;
  delete module;
  return CUDA_SUCCESS;
}

CUresult cuModuleGetFunction(CUfunction *function, CUmodule module, const char *name) {
  FAKE_NEED_CONTEXT();
  FAKE_INJECT("cuModuleGetFunction");
  std::lock_guard lock(state().mutex);
  if (!state().modules.count(module))
    return CUDA_ERROR_INVALID_HANDLE;
  for (auto &f : module->functions)
    if (f->name == name) {
      *function = f.get();
      return CUDA_SUCCESS;
    }
  return CUDA_ERROR_NOT_FOUND;
}

CUresult cuFuncGetAttribute(int *value, CUfunction_attribute attribute, CUfunction function) {
  switch (attribute) {
  case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK:
    *value = 1024;
    return CUDA_SUCCESS;
  case CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES:
    *value = 0;
    return CUDA_SUCCESS;
  case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: {
    std::lock_guard lock(state().mutex);
    *value = function->maxDynamicShared;
    return CUDA_SUCCESS;
  }
  default:
    return CUDA_ERROR_INVALID_VALUE;
  }
}

CUresult cuFuncSetAttribute(CUfunction function, CUfunction_attribute attribute, int value) {
  FAKE_INJECT("cuFuncSetAttribute");
  if (attribute != CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)
    return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard lock(state().mutex);
  if (value < 0 || value > 232448)
    return CUDA_ERROR_INVALID_VALUE;
  function->maxDynamicShared = value;
  ++state().dynamicSharedOptIns;
  return CUDA_SUCCESS;
}

CUresult cuFuncGetParamInfo(CUfunction function, size_t index, size_t *offset, size_t *size) {
  if (index >= function->paramSizes.size())
    return CUDA_ERROR_INVALID_VALUE;
  size_t at = 0;
  for (size_t i = 0; i < index; ++i)
    at += function->paramSizes[i];
  *offset = at;
  *size = function->paramSizes[index];
  return CUDA_SUCCESS;
}

CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                        unsigned bz, unsigned shared, CUstream stream, void **params, void **extra) {
  FAKE_NEED_CONTEXT();
  FAKE_INJECT("cuLaunchKernel");
  std::lock_guard lock(state().mutex);
  if (stream && !state().streams.count(stream))
    return CUDA_ERROR_INVALID_HANDLE;
  if (int(shared) > f->maxDynamicShared)
    return CUDA_ERROR_INVALID_VALUE; // as the driver does without the opt-in
  FakeCudaLaunch l{};
  std::strncpy(l.kernel, f->name.c_str(), sizeof(l.kernel) - 1);
  std::strncpy(l.module, f->module->firstEntry.c_str(), sizeof(l.module) - 1);
  l.grid[0] = gx, l.grid[1] = gy, l.grid[2] = gz;
  l.block[0] = bx, l.block[1] = by, l.block[2] = bz;
  l.sharedBytes = shared;
  l.stream = reinterpret_cast<uintptr_t>(stream);
  l.paramCount = static_cast<int>(f->paramSizes.size());
  for (size_t i = 0; i < f->paramSizes.size() && i < 32; ++i) {
    l.paramSizes[i] = static_cast<unsigned>(f->paramSizes[i]);
    std::memcpy(l.params[i], params[i], std::min<size_t>(f->paramSizes[i], 16));
  }
  l.contextCurrent = currentContext == &primaryContexts[0] || currentContext == &primaryContexts[1];
  state().launches.push_back(l);
  return CUDA_SUCCESS;
}

// --- Memory ------------------------------------------------------------------------

CUresult cuMemAlloc(CUdeviceptr *ptr, size_t bytes) {
  FAKE_NEED_CONTEXT();
  FAKE_INJECT("cuMemAlloc");
  State &s = state();
  std::lock_guard lock(s.mutex);
  if (bytes == 0)
    return CUDA_ERROR_INVALID_VALUE;
  if (bytes > s.memoryLimit)
    return CUDA_ERROR_OUT_OF_MEMORY;
  const uint64_t base = s.nextAddress;
  s.nextAddress += (bytes + 255) / 256 * 256 + 256; // a gap: a range never spans two allocations
  s.memory[base].assign(bytes, 0xA5);
  *ptr = base;
  return CUDA_SUCCESS;
}

CUresult cuMemFree(CUdeviceptr ptr) {
  FAKE_NEED_CONTEXT();
  std::lock_guard lock(state().mutex);
  return state().memory.erase(ptr) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuMemcpyHtoD(CUdeviceptr dst, const void *src, size_t bytes) {
  FAKE_NEED_CONTEXT();
  std::lock_guard lock(state().mutex);
  size_t offset = 0;
  auto *allocation = findRange(dst, bytes, &offset);
  if (!allocation)
    return CUDA_ERROR_INVALID_VALUE;
  std::memcpy(allocation->data() + offset, src, bytes);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyDtoH(void *dst, CUdeviceptr src, size_t bytes) {
  FAKE_NEED_CONTEXT();
  std::lock_guard lock(state().mutex);
  size_t offset = 0;
  auto *allocation = findRange(src, bytes, &offset);
  if (!allocation)
    return CUDA_ERROR_INVALID_VALUE;
  std::memcpy(dst, allocation->data() + offset, bytes);
  return CUDA_SUCCESS;
}

CUresult cuMemsetD8(CUdeviceptr dst, unsigned char value, size_t bytes) {
  FAKE_NEED_CONTEXT();
  std::lock_guard lock(state().mutex);
  size_t offset = 0;
  auto *allocation = findRange(dst, bytes, &offset);
  if (!allocation)
    return CUDA_ERROR_INVALID_VALUE;
  std::memset(allocation->data() + offset, value, bytes);
  return CUDA_SUCCESS;
}

// --- Streams and events ------------------------------------------------------------

CUresult cuStreamCreate(CUstream *stream, unsigned) {
  FAKE_NEED_CONTEXT();
  FAKE_INJECT("cuStreamCreate");
  std::lock_guard lock(state().mutex);
  *stream = new CUstream_st();
  state().streams.insert(*stream);
  return CUDA_SUCCESS;
}

CUresult cuStreamDestroy(CUstream stream) {
  FAKE_NEED_CONTEXT();
  std::lock_guard lock(state().mutex);
  if (!state().streams.erase(stream))
    return CUDA_ERROR_INVALID_HANDLE;
  delete stream;
  return CUDA_SUCCESS;
}

CUresult cuStreamSynchronize(CUstream stream) {
  FAKE_NEED_CONTEXT();
  {
    std::lock_guard lock(state().mutex);
    if (stream && !state().streams.count(stream))
      return CUDA_ERROR_INVALID_HANDLE;
    ++state().streamSyncs;
    state().lastSyncStream = reinterpret_cast<uintptr_t>(stream);
  }
  return injected("cuStreamSynchronize"); // where an asynchronous launch failure surfaces
}

CUresult cuEventCreate(CUevent *event, unsigned) {
  FAKE_NEED_CONTEXT();
  FAKE_INJECT("cuEventCreate");
  std::lock_guard lock(state().mutex);
  *event = new CUevent_st();
  state().events.insert(*event);
  return CUDA_SUCCESS;
}

CUresult cuEventRecord(CUevent event, CUstream stream) {
  FAKE_NEED_CONTEXT();
  std::lock_guard lock(state().mutex);
  if (!state().events.count(event) || (stream && !state().streams.count(stream)))
    return CUDA_ERROR_INVALID_HANDLE;
  return CUDA_SUCCESS;
}

CUresult cuEventSynchronize(CUevent event) {
  FAKE_INJECT("cuEventSynchronize");
  std::lock_guard lock(state().mutex);
  return state().events.count(event) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUresult cuEventElapsedTime(float *ms, CUevent start, CUevent stop) {
  std::lock_guard lock(state().mutex);
  State &s = state();
  if (!s.events.count(start) || !s.events.count(stop))
    return CUDA_ERROR_INVALID_HANDLE;
  *ms = s.elapsedMs[s.elapsedIndex++ % s.elapsedMs.size()];
  return CUDA_SUCCESS;
}

CUresult cuEventDestroy(CUevent event) {
  std::lock_guard lock(state().mutex);
  if (!state().events.erase(event))
    return CUDA_ERROR_INVALID_HANDLE;
  delete event;
  return CUDA_SUCCESS;
}

// --- Entry-point lookup ------------------------------------------------------------

CUresult cuGetProcAddress(const char *symbol, void **pfn, int, cuuint64_t,
                          CUdriverProcAddressQueryResult *status) {
  const char *missing = std::getenv("FAKE_CUDA_MISSING");
  if (missing && std::strcmp(missing, symbol) == 0) {
    *pfn = nullptr;
    *status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
    return CUDA_ERROR_NOT_FOUND;
  }
#define FAKE_ENTRY(name) {#name, reinterpret_cast<void *>(&name)}
  const struct {
    const char *name;
    void *function;
  } known[] = {FAKE_ENTRY(cuGetErrorName),      FAKE_ENTRY(cuGetErrorString),
               FAKE_ENTRY(cuDeviceGetCount),    FAKE_ENTRY(cuDeviceGet),
               FAKE_ENTRY(cuDeviceGetName),     FAKE_ENTRY(cuDeviceGetAttribute),
               FAKE_ENTRY(cuDeviceTotalMem),    FAKE_ENTRY(cuDevicePrimaryCtxRetain),
               FAKE_ENTRY(cuDevicePrimaryCtxRelease), FAKE_ENTRY(cuCtxSetCurrent),
               FAKE_ENTRY(cuCtxSynchronize),    FAKE_ENTRY(cuModuleLoadDataEx),
               FAKE_ENTRY(cuModuleUnload),      FAKE_ENTRY(cuModuleGetFunction),
               FAKE_ENTRY(cuFuncGetAttribute),  FAKE_ENTRY(cuFuncSetAttribute),
               FAKE_ENTRY(cuFuncGetParamInfo),  FAKE_ENTRY(cuLaunchKernel),
               FAKE_ENTRY(cuMemAlloc),          FAKE_ENTRY(cuMemFree),
               FAKE_ENTRY(cuMemcpyHtoD),        FAKE_ENTRY(cuMemcpyDtoH),
               FAKE_ENTRY(cuMemsetD8),          FAKE_ENTRY(cuStreamCreate),
               FAKE_ENTRY(cuStreamDestroy),     FAKE_ENTRY(cuStreamSynchronize),
               FAKE_ENTRY(cuEventCreate),       FAKE_ENTRY(cuEventRecord),
               FAKE_ENTRY(cuEventSynchronize),  FAKE_ENTRY(cuEventElapsedTime),
               FAKE_ENTRY(cuEventDestroy)};
#undef FAKE_ENTRY
  *pfn = reinterpret_cast<void *>(&unimplemented);
  for (const auto &entry : known)
    if (std::strcmp(symbol, entry.name) == 0)
      *pfn = entry.function;
  *status = CU_GET_PROC_ADDRESS_SUCCESS;
  return CUDA_SUCCESS;
}

} // extern "C"
