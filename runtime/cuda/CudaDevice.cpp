//===- CudaDevice.cpp - A CUDA GPU as a Device, through the driver API ------===//
#include "runtime/cuda/CudaDevice.h"

#include <algorithm>
#include <cstring>

namespace mobagen::cuda {
namespace {

using device::DevicePtr;
using device::Dim3;
using device::ModuleId;
using device::Stream;

/// What the JIT writes into its error log buffer at most; ptxas's diagnostics for
/// a generated kernel fit easily.
constexpr size_t kJitLogBytes = 16 * 1024;

/// cuLaunchKernel's grid limits (CUDA C Programming Guide, "Compute Capabilities").
constexpr uint64_t kMaxGridX = (1ull << 31) - 1;
constexpr uint32_t kMaxGridYZ = 65535;

CUstream toCuStream(Stream stream) { return reinterpret_cast<CUstream>(static_cast<uintptr_t>(stream)); }

std::string dims(const Dim3 &d) { return fmt::format("({},{},{})", d.x, d.y, d.z); }

/// Trims a JIT log to its text: NUL-terminated within the buffer, trailing newlines dropped.
std::string jitLog(const char *buffer, size_t capacity) {
  std::string log(buffer, strnlen(buffer, capacity));
  while (!log.empty() && (log.back() == '\n' || log.back() == '\r'))
    log.pop_back();
  return log;
}

/// Destroys the events of one measure() call on every return path.
class EventPool {
public:
  explicit EventPool(const DriverApi &api) : api_(api) {}
  ~EventPool() {
    for (CUevent e : events_)
      api_.cuEventDestroy(e);
  }
  std::vector<CUevent> &events() { return events_; }

private:
  const DriverApi &api_;
  std::vector<CUevent> events_;
};

} // namespace

CudaDevice::CudaDevice(std::shared_ptr<CudaDriver> driver, int ordinal)
    : driver_(std::move(driver)), ordinal_(ordinal) {}

Expected<std::unique_ptr<CudaDevice>> CudaDevice::open(std::shared_ptr<CudaDriver> driver, int ordinal) {
  if (!driver)
    return Status::error("cannot open a CUDA device: no CUDA driver was loaded");
  const DriverApi &api = driver->api();
  int count = 0;
  MOBAGEN_RETURN_IF_ERROR(driver->check(api.cuDeviceGetCount(&count), "cuDeviceGetCount"));
  if (count == 0)
    return Status::errorf("cannot open CUDA device {}: the driver ({}) sees no CUDA device", ordinal,
                          driver->library());
  if (ordinal < 0 || ordinal >= count)
    return Status::errorf("cannot open CUDA device {}: the driver sees {} device{} (ordinals 0..{})",
                          ordinal, count, count == 1 ? "" : "s", count - 1);

  std::unique_ptr<CudaDevice> dev(new CudaDevice(driver, ordinal));
  const std::string where = fmt::format("CUDA device {}: ", ordinal);
  auto check = [&](CUresult r, const char *what) { return driver->check(r, what).withContext(where); };
  MOBAGEN_RETURN_IF_ERROR(check(api.cuDeviceGet(&dev->device_, ordinal), "cuDeviceGet"));
  CUcontext context = nullptr;
  MOBAGEN_RETURN_IF_ERROR(
      check(api.cuDevicePrimaryCtxRetain(&context, dev->device_), "cuDevicePrimaryCtxRetain"));
  dev->context_ = context; // from here on the destructor releases it

  device::DeviceProperties &p = dev->properties_;
  p.kind = "cuda";
  char name[256] = {};
  MOBAGEN_RETURN_IF_ERROR(check(api.cuDeviceGetName(name, sizeof(name) - 1, dev->device_), "cuDeviceGetName"));
  p.name = name;
  int sharedOptIn = 0;
  const std::pair<CUdevice_attribute, int *> attributes[] = {
      {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, &p.computeMajor},
      {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, &p.computeMinor},
      {CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, &p.multiprocessors},
      {CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, &sharedOptIn}};
  for (const auto &[attribute, value] : attributes)
    MOBAGEN_RETURN_IF_ERROR(check(api.cuDeviceGetAttribute(value, attribute, dev->device_),
                                  fmt::format("cuDeviceGetAttribute({})", static_cast<int>(attribute)).c_str()));
  p.maxSharedBytesPerBlock = static_cast<uint32_t>(std::max(sharedOptIn, 0));
  p.driverVersion = driver->driverVersion();
  return dev;
}

CudaDevice::~CudaDevice() {
  if (!context_)
    return;
  const DriverApi &api = driver_->api();
  // Errors here have nowhere to go; the context's release frees what is left.
  if (api.cuCtxSetCurrent(context_) == CUDA_SUCCESS)
    for (const Module &m : modules_)
      if (m.handle)
        api.cuModuleUnload(m.handle);
  api.cuDevicePrimaryCtxRelease(device_);
}

Status CudaDevice::makeCurrent() const {
  return driver_->check(driver_->api().cuCtxSetCurrent(context_), "cuCtxSetCurrent");
}

Expected<DevicePtr> CudaDevice::allocate(size_t bytes) {
  MOBAGEN_RETURN_IF_ERROR(makeCurrent());
  // cuMemAlloc refuses 0 bytes; an empty tensor still gets a distinct address, as
  // on the emulator.
  CUdeviceptr ptr = 0;
  const CUresult r = driver_->api().cuMemAlloc(&ptr, std::max<size_t>(bytes, 1));
  if (r != CUDA_SUCCESS)
    return driver_->check(r, "cuMemAlloc")
        .withContext(fmt::format("allocating {} bytes on CUDA device {}: ", bytes, ordinal_));
  return static_cast<DevicePtr>(ptr);
}

Status CudaDevice::free(DevicePtr ptr) {
  MOBAGEN_RETURN_IF_ERROR(makeCurrent());
  return driver_->check(driver_->api().cuMemFree(static_cast<CUdeviceptr>(ptr)), "cuMemFree")
      .withContext(fmt::format("freeing device address {:#x}: ", ptr));
}

Status CudaDevice::copyToDevice(DevicePtr dst, const void *src, size_t bytes) {
  if (bytes == 0)
    return Status::success();
  if (!src)
    return Status::errorf("copy of {} bytes to device address {:#x}: the host source is null", bytes, dst);
  MOBAGEN_RETURN_IF_ERROR(makeCurrent());
  return driver_->check(driver_->api().cuMemcpyHtoD(static_cast<CUdeviceptr>(dst), src, bytes), "cuMemcpyHtoD")
      .withContext(fmt::format("copy of {} bytes to device address {:#x}: ", bytes, dst));
}

Status CudaDevice::copyToHost(void *dst, DevicePtr src, size_t bytes) {
  if (bytes == 0)
    return Status::success();
  if (!dst)
    return Status::errorf("copy of {} bytes from device address {:#x}: the host destination is null", bytes,
                          src);
  MOBAGEN_RETURN_IF_ERROR(makeCurrent());
  return driver_->check(driver_->api().cuMemcpyDtoH(dst, static_cast<CUdeviceptr>(src), bytes), "cuMemcpyDtoH")
      .withContext(fmt::format("copy of {} bytes from device address {:#x}: ", bytes, src));
}

Expected<ModuleId> CudaDevice::loadModule(std::string_view ptx, std::string_view name) {
  if (ptx.find(".entry") == std::string_view::npos && ptx.find(".version") == std::string_view::npos)
    return Status::errorf("loading module '{}' on CUDA device {}: {} bytes of text that are not PTX "
                          "(no .version directive)",
                          name, ordinal_, ptx.size());
  const std::string text(ptx); // the driver wants it NUL-terminated
  return loadImage(text.c_str(), name, /*isPtx=*/true);
}

Expected<ModuleId> CudaDevice::loadCubin(const void *image, size_t size, std::string_view name) {
  static constexpr unsigned char kElfMagic[4] = {0x7f, 'E', 'L', 'F'};
  if (!image || size < sizeof(kElfMagic) || std::memcmp(image, kElfMagic, sizeof(kElfMagic)) != 0)
    return Status::errorf("loading module '{}' on CUDA device {}: {} bytes that are not a cubin "
                          "(a cubin is an ELF file, starting with 7f 45 4c 46)",
                          name, ordinal_, image ? size : 0);
  return loadImage(image, name, /*isPtx=*/false);
}

Expected<ModuleId> CudaDevice::loadImage(const void *image, std::string_view name, bool isPtx) {
  MOBAGEN_RETURN_IF_ERROR(makeCurrent());
  std::vector<char> errorLog(kJitLogBytes, '\0');
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {errorLog.data(), reinterpret_cast<void *>(static_cast<uintptr_t>(errorLog.size()))};
  CUmodule module = nullptr;
  const CUresult r = driver_->api().cuModuleLoadDataEx(&module, image, 2, options, values);
  if (r != CUDA_SUCCESS) {
    Status failed = driver_->check(r, "cuModuleLoadDataEx")
                        .withContext(fmt::format("loading module '{}' ({}) on CUDA device {} (sm_{}{}): ", name,
                                                 isPtx ? "PTX" : "cubin", ordinal_, properties_.computeMajor,
                                                 properties_.computeMinor));
    const std::string log = jitLog(errorLog.data(), errorLog.size());
    if (log.empty())
      return failed;
    return Status::errorf("{}; JIT log: {}", failed.message(), log);
  }
  std::lock_guard lock(mutex_);
  modules_.push_back({module, std::string(name)});
  kernels_.emplace_back();
  return static_cast<ModuleId>(modules_.size() - 1);
}

Expected<CudaDevice::Kernel *> CudaDevice::kernel(ModuleId moduleId, std::string_view name) {
  std::lock_guard lock(mutex_);
  if (moduleId >= modules_.size())
    return Status::errorf("launch of '{}': module id {} was never loaded on CUDA device {}", name, moduleId,
                          ordinal_);
  auto &cache = kernels_[moduleId];
  if (auto it = cache.find(name); it != cache.end())
    return it->second.get();

  const Module &module = modules_[moduleId];
  const DriverApi &api = driver_->api();
  const std::string where = fmt::format("kernel '{}' of module '{}': ", name, module.name);
  auto kernel = std::make_unique<Kernel>();
  const std::string entry(name);
  if (const CUresult r = api.cuModuleGetFunction(&kernel->function, module.handle, entry.c_str());
      r != CUDA_SUCCESS)
    return driver_->check(r, "cuModuleGetFunction").withContext(where);

  int maxDynamicShared = 0;
  const std::pair<CUfunction_attribute, int *> attributes[] = {
      {CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, &kernel->maxThreadsPerBlock},
      {CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, &kernel->staticSharedBytes},
      {CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, &maxDynamicShared}};
  for (const auto &[attribute, value] : attributes)
    if (const CUresult r = api.cuFuncGetAttribute(value, attribute, kernel->function); r != CUDA_SUCCESS)
      return driver_->check(r, fmt::format("cuFuncGetAttribute({})", static_cast<int>(attribute)).c_str())
          .withContext(where);
  kernel->maxDynamicSharedBytes = static_cast<uint32_t>(std::max(maxDynamicShared, 0));

  // cuFuncGetParamInfo answers CUDA_ERROR_INVALID_VALUE one past the last
  // parameter; any other answer at the first index means the driver cannot tell.
  if (api.cuFuncGetParamInfo) {
    constexpr size_t kMaxParams = 4096; // PTX allows 4 KiB of .param space; >= 1 byte each
    kernel->paramsKnown = true;
    for (size_t i = 0; i <= kMaxParams; ++i) {
      size_t offset = 0, size = 0;
      const CUresult r = api.cuFuncGetParamInfo(kernel->function, i, &offset, &size);
      if (r == CUDA_SUCCESS) {
        kernel->paramSizes.push_back(size);
        continue;
      }
      if (r != CUDA_ERROR_INVALID_VALUE) {
        kernel->paramsKnown = false;
        kernel->paramSizes.clear();
      }
      break;
    }
  }
  Kernel *result = kernel.get();
  cache.emplace(entry, std::move(kernel));
  return result;
}

Status CudaDevice::enqueue(ModuleId moduleId, std::string_view name, const device::LaunchConfig &config,
                           const device::KernelArgs &args, Stream stream) {
  MOBAGEN_RETURN_IF_ERROR(makeCurrent());
  auto found = kernel(moduleId, name);
  if (!found)
    return found.status();
  Kernel &k = **found;

  const uint64_t threads = config.block.count();
  if (threads == 0 || threads > static_cast<uint64_t>(k.maxThreadsPerBlock))
    return Status::errorf("launch of '{}': block {} has {} threads; the kernel allows 1..{} "
                          "(CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK on {})",
                          name, dims(config.block), threads, k.maxThreadsPerBlock, properties_.name);
  if (config.grid.count() == 0 || config.grid.x > kMaxGridX || config.grid.y > kMaxGridYZ ||
      config.grid.z > kMaxGridYZ)
    return Status::errorf("launch of '{}': grid {} is empty or over the limits (x <= {}, y, z <= {})", name,
                          dims(config.grid), kMaxGridX, kMaxGridYZ);
  const uint64_t shared = uint64_t(k.staticSharedBytes) + config.dynamicSharedBytes;
  if (shared > properties_.maxSharedBytesPerBlock)
    return Status::errorf("launch of '{}': {} bytes of shared memory ({} static + {} dynamic) exceed the "
                          "limit of {} per block on {}",
                          name, shared, k.staticSharedBytes, config.dynamicSharedBytes,
                          properties_.maxSharedBytesPerBlock, properties_.name);

  if (k.paramsKnown) {
    if (args.size() != k.paramSizes.size())
      return Status::errorf("launch of '{}': {} arguments given, the kernel takes {}", name, args.size(),
                            k.paramSizes.size());
    for (size_t i = 0; i < args.size(); ++i)
      if (args.bytes(i).size() != k.paramSizes[i])
        return Status::errorf("launch of '{}': argument {} has {} bytes, the parameter has {}", name, i,
                              args.bytes(i).size(), k.paramSizes[i]);
  }

  const DriverApi &api = driver_->api();
  if (config.dynamicSharedBytes > k.maxDynamicSharedBytes) {
    // Above the default (48 KiB less the static part) a kernel must opt in.
    std::lock_guard lock(mutex_);
    if (config.dynamicSharedBytes > k.maxDynamicSharedBytes) {
      const CUresult r = api.cuFuncSetAttribute(k.function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                                static_cast<int>(config.dynamicSharedBytes));
      if (r != CUDA_SUCCESS)
        return driver_->check(r, "cuFuncSetAttribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)")
            .withContext(fmt::format("launch of '{}' with {} bytes of dynamic shared memory: ", name,
                                     config.dynamicSharedBytes));
      k.maxDynamicSharedBytes = config.dynamicSharedBytes;
    }
  }

  // Without the kernel's parameter sizes, the driver reads as many bytes as each
  // parameter has: give it zero-padded copies so that a short argument cannot
  // make it read past the argument's storage.
  std::vector<void *> params(args.size());
  std::vector<std::vector<uint8_t>> padded;
  if (!k.paramsKnown)
    padded.resize(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    if (k.paramsKnown) {
      params[i] = const_cast<uint8_t *>(args.bytes(i).data());
    } else {
      padded[i] = args.bytes(i);
      padded[i].resize(std::max<size_t>(padded[i].size(), 16), 0);
      params[i] = padded[i].data();
    }
  }
  const CUresult r = api.cuLaunchKernel(k.function, config.grid.x, config.grid.y, config.grid.z,
                                        config.block.x, config.block.y, config.block.z,
                                        config.dynamicSharedBytes, toCuStream(stream),
                                        params.empty() ? nullptr : params.data(), nullptr);
  if (r != CUDA_SUCCESS)
    return driver_->check(r, "cuLaunchKernel")
        .withContext(fmt::format("launch of '{}' (grid {}, block {}, {} bytes dynamic shared, stream {:#x}): ",
                                 name, dims(config.grid), dims(config.block), config.dynamicSharedBytes,
                                 stream));
  return Status::success();
}

Status CudaDevice::synchronize(Stream stream) {
  MOBAGEN_RETURN_IF_ERROR(makeCurrent());
  return driver_->check(driver_->api().cuStreamSynchronize(toCuStream(stream)), "cuStreamSynchronize")
      .withContext(fmt::format("waiting for stream {:#x} on CUDA device {}: ", stream, ordinal_));
}

Expected<device::Measurement> CudaDevice::measure(const std::function<Status()> &work, int warmup,
                                                  int repetitions, Stream stream) {
  if (warmup < 0 || repetitions < 1)
    return Status::errorf("measure: {} warm-up runs and {} repetitions; need >= 0 and >= 1", warmup,
                          repetitions);
  MOBAGEN_RETURN_IF_ERROR(makeCurrent());
  for (int i = 0; i < warmup; ++i)
    MOBAGEN_RETURN_IF_ERROR(work().withContext(fmt::format("measure: warm-up run {}: ", i)));
  MOBAGEN_RETURN_IF_ERROR(synchronize(stream).withContext("measure: after the warm-up: "));

  const DriverApi &api = driver_->api();
  EventPool pool(api);
  std::vector<CUevent> &events = pool.events();
  events.reserve(2 * size_t(repetitions));
  for (int i = 0; i < 2 * repetitions; ++i) {
    CUevent event = nullptr;
    MOBAGEN_RETURN_IF_ERROR(driver_->check(api.cuEventCreate(&event, CU_EVENT_DEFAULT), "cuEventCreate")
                                .withContext("measure: "));
    events.push_back(event);
  }
  // All repetitions are enqueued back to back and read once at the end, so the
  // host's waiting never sits between two measured runs.
  for (int i = 0; i < repetitions; ++i) {
    const std::string where = fmt::format("measure: repetition {}: ", i);
    MOBAGEN_RETURN_IF_ERROR(
        driver_->check(api.cuEventRecord(events[2 * i], toCuStream(stream)), "cuEventRecord").withContext(where));
    MOBAGEN_RETURN_IF_ERROR(work().withContext(where));
    MOBAGEN_RETURN_IF_ERROR(driver_->check(api.cuEventRecord(events[2 * i + 1], toCuStream(stream)),
                                           "cuEventRecord")
                                .withContext(where));
  }
  device::Measurement m;
  m.unit = "ms";
  m.samples.reserve(repetitions);
  for (int i = 0; i < repetitions; ++i) {
    const std::string where = fmt::format("measure: repetition {}: ", i);
    MOBAGEN_RETURN_IF_ERROR(
        driver_->check(api.cuEventSynchronize(events[2 * i + 1]), "cuEventSynchronize").withContext(where));
    float ms = 0;
    MOBAGEN_RETURN_IF_ERROR(driver_->check(api.cuEventElapsedTime(&ms, events[2 * i], events[2 * i + 1]),
                                           "cuEventElapsedTime")
                                .withContext(where));
    m.samples.push_back(ms);
  }
  return m;
}

Expected<Stream> CudaDevice::createStream() {
  MOBAGEN_RETURN_IF_ERROR(makeCurrent());
  CUstream stream = nullptr;
  // A blocking stream: it orders with the legacy default stream that the
  // synchronous cuMemcpy calls of copyToDevice / copyToHost use.
  MOBAGEN_RETURN_IF_ERROR(driver_->check(driver_->api().cuStreamCreate(&stream, CU_STREAM_DEFAULT), "cuStreamCreate")
                              .withContext(fmt::format("CUDA device {}: ", ordinal_)));
  return static_cast<Stream>(reinterpret_cast<uintptr_t>(stream));
}

Status CudaDevice::destroyStream(Stream stream) {
  if (stream == 0)
    return Status::error("destroyStream: stream 0 is the default stream, which cannot be destroyed");
  MOBAGEN_RETURN_IF_ERROR(makeCurrent());
  return driver_->check(driver_->api().cuStreamDestroy(toCuStream(stream)), "cuStreamDestroy")
      .withContext(fmt::format("destroying stream {:#x}: ", stream));
}

} // namespace mobagen::cuda
