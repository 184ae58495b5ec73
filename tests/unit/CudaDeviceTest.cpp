// CudaDevice over the fake driver (tests/unit/fakecuda): what it asks of the
// driver (contexts, modules, launches, streams, events) and every error path's
// message, without a GPU. The fake records and never executes kernels.
#include "runtime/cuda/CudaDevice.h"

#include <cstdlib>
#include <thread>

#include <dlfcn.h>
#include <gtest/gtest.h>

#include "runtime/device/OpenDevice.h"
#include "tests/unit/fakecuda/FakeCudaControl.h"

namespace mobagen::cuda {
namespace {

using device::KernelArgs;
using device::LaunchConfig;

/// The fake's control functions, taken from the library CudaDriver loads.
struct FakeControl {
  void *handle = ::dlopen(MOBAGEN_FAKE_CUDA_DRIVER, RTLD_NOW | RTLD_LOCAL);
  template <typename F> F *get(const char *name) { return reinterpret_cast<F *>(::dlsym(handle, name)); }
#define FAKE_FN(name) decltype(&::name) name = get<decltype(::name)>(#name);
  FAKE_FN(fakeCuda_reset)
  FAKE_FN(fakeCuda_failCall)
  FAKE_FN(fakeCuda_setJitErrorLog)
  FAKE_FN(fakeCuda_setElapsedMs)
  FAKE_FN(fakeCuda_setMemoryLimit)
  FAKE_FN(fakeCuda_launchCount)
  FAKE_FN(fakeCuda_launch)
  FAKE_FN(fakeCuda_moduleCount)
  FAKE_FN(fakeCuda_moduleImage)
  FAKE_FN(fakeCuda_liveModules)
  FAKE_FN(fakeCuda_liveEvents)
  FAKE_FN(fakeCuda_liveStreams)
  FAKE_FN(fakeCuda_liveAllocations)
  FAKE_FN(fakeCuda_primaryRetains)
  FAKE_FN(fakeCuda_dynamicSharedOptIns)
  FAKE_FN(fakeCuda_streamSyncs)
#undef FAKE_FN
  FakeCudaLaunch launch(int i) {
    FakeCudaLaunch l{};
    EXPECT_EQ(fakeCuda_launch(i, &l), 0) << "no launch " << i;
    return l;
  }
};

FakeControl &fake() {
  static FakeControl control;
  return control;
}

constexpr const char *kSaxpyPtx = R"(.version 8.0
.target sm_90
.address_size 64
.visible .entry saxpy(
  .param .u64 saxpy_param_0,
  .param .u32 saxpy_param_1
)
{
  ret;
}
.visible .entry fill(
  .param .u64 fill_param_0
)
{
  ret;
}
)";

LaunchConfig config(uint32_t gridX, uint32_t blockX, uint32_t dynamicShared = 0) {
  LaunchConfig c;
  c.grid = {gridX, 2, 1};
  c.block = {blockX, 1, 1};
  c.dynamicSharedBytes = dynamicShared;
  return c;
}

class CudaDeviceFake : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_NE(fake().handle, nullptr) << ::dlerror();
    fake().fakeCuda_reset();
    auto driver = CudaDriver::load(MOBAGEN_FAKE_CUDA_DRIVER);
    ASSERT_TRUE(driver.ok()) << driver.status().message();
    driver_ = *driver;
  }
  void TearDown() override {
    ::unsetenv("FAKE_CUDA_MISSING");
    ::unsetenv("FAKE_CUDA_DEVICE_COUNT");
    ::unsetenv("MOBAGEN_CUDA_DRIVER");
  }

  std::unique_ptr<CudaDevice> open(int ordinal = 0) {
    auto dev = CudaDevice::open(driver_, ordinal);
    EXPECT_TRUE(dev.ok()) << dev.status().message();
    return dev.ok() ? std::move(*dev) : nullptr;
  }
  device::ModuleId loadSaxpy(CudaDevice &dev) {
    auto module = dev.loadModule(kSaxpyPtx, "saxpy.ptx");
    EXPECT_TRUE(module.ok()) << module.status().message();
    return module.ok() ? *module : 0;
  }
  static KernelArgs saxpyArgs(uint64_t ptr = 0x1234, int32_t n = 77) { return KernelArgs().add(ptr).add(n); }

  std::shared_ptr<CudaDriver> driver_;
};

TEST_F(CudaDeviceFake, OpensThePrimaryContextAndReadsProperties) {
  {
    auto dev = open(0);
    ASSERT_TRUE(dev);
    const device::DeviceProperties p = dev->properties();
    EXPECT_EQ(p.kind, "cuda");
    EXPECT_EQ(p.name, "Fake GPU sm_90");
    EXPECT_EQ(dev->name(), "Fake GPU sm_90");
    EXPECT_EQ(p.computeMajor, 9);
    EXPECT_EQ(p.computeMinor, 0);
    EXPECT_EQ(p.multiprocessors, 132);
    EXPECT_EQ(p.driverVersion, 12080);
    EXPECT_EQ(p.maxSharedBytesPerBlock, 232448u);
    EXPECT_EQ(fake().fakeCuda_primaryRetains(), 1);
    auto second = open(1);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->properties().computeMajor, 8);
    EXPECT_EQ(second->properties().maxSharedBytesPerBlock, 166912u);
    EXPECT_EQ(fake().fakeCuda_primaryRetains(), 2);
  }
  EXPECT_EQ(fake().fakeCuda_primaryRetains(), 0) << "the destructor releases the primary context";
}

TEST_F(CudaDeviceFake, BadOrdinalAndFailedRetainAreErrors) {
  auto dev = CudaDevice::open(driver_, 2);
  ASSERT_FALSE(dev.ok());
  EXPECT_EQ(dev.status().message(), "cannot open CUDA device 2: the driver sees 2 devices (ordinals 0..1)");
  EXPECT_EQ(CudaDevice::open(driver_, -1).status().message(),
            "cannot open CUDA device -1: the driver sees 2 devices (ordinals 0..1)");
  EXPECT_EQ(CudaDevice::open(nullptr, 0).status().message(),
            "cannot open a CUDA device: no CUDA driver was loaded");
  fake().fakeCuda_failCall("cuDevicePrimaryCtxRetain", CUDA_ERROR_OUT_OF_MEMORY);
  EXPECT_EQ(CudaDevice::open(driver_, 0).status().message(),
            "CUDA device 0: cuDevicePrimaryCtxRetain failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)");
}

TEST_F(CudaDeviceFake, NoDeviceIsAnError) {
  ::setenv("FAKE_CUDA_DEVICE_COUNT", "0", 1);
  EXPECT_EQ(CudaDevice::open(driver_, 0).status().message(),
            fmt::format("cannot open CUDA device 0: the driver ({}) sees no CUDA device", MOBAGEN_FAKE_CUDA_DRIVER));
  ::setenv("FAKE_CUDA_DEVICE_COUNT", "1", 1);
  EXPECT_EQ(CudaDevice::open(driver_, 1).status().message(),
            "cannot open CUDA device 1: the driver sees 1 device (ordinals 0..0)");
}

TEST_F(CudaDeviceFake, EveryCallReportsAContextThatCannotBeMadeCurrent) {
  auto dev = open();
  ASSERT_TRUE(dev);
  const auto module = loadSaxpy(*dev);
  fake().fakeCuda_failCall("cuCtxSetCurrent", CUDA_ERROR_INVALID_CONTEXT);
  const std::string expected = "cuCtxSetCurrent failed: CUDA_ERROR_INVALID_CONTEXT (invalid device context)";
  EXPECT_EQ(dev->allocate(16).status().message(), expected);
  EXPECT_EQ(dev->loadModule(kSaxpyPtx, "k.ptx").status().message(), expected);
  EXPECT_EQ(dev->launch(module, "saxpy", config(1, 32), saxpyArgs()).message(), expected);
  EXPECT_EQ(dev->synchronize(0).message(), expected);
  EXPECT_EQ(dev->createStream().status().message(), expected);
  EXPECT_EQ(fake().fakeCuda_launchCount(), 0);
}

TEST_F(CudaDeviceFake, StreamAndEventCreationFailuresAreReported) {
  auto dev = open();
  ASSERT_TRUE(dev);
  const auto module = loadSaxpy(*dev);
  fake().fakeCuda_failCall("cuStreamCreate", CUDA_ERROR_OUT_OF_MEMORY);
  EXPECT_EQ(dev->createStream().status().message(),
            "CUDA device 0: cuStreamCreate failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)");
  EXPECT_EQ(dev->destroyStream(0x1234).message(),
            "destroying stream 0x1234: cuStreamDestroy failed: CUDA_ERROR_INVALID_HANDLE (invalid resource handle)");
  fake().fakeCuda_failCall("cuEventCreate", CUDA_ERROR_OUT_OF_MEMORY);
  auto m = dev->measure([&] { return dev->enqueue(module, "saxpy", config(1, 32), saxpyArgs(), 0); }, 1, 4, 0);
  EXPECT_EQ(m.status().message(), "measure: cuEventCreate failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)");
  EXPECT_EQ(fake().fakeCuda_liveEvents(), 0);
}

TEST_F(CudaDeviceFake, CopiesRoundTripThroughDeviceMemory) {
  auto dev = open();
  ASSERT_TRUE(dev);
  std::vector<int32_t> host(1000);
  for (size_t i = 0; i < host.size(); ++i)
    host[i] = static_cast<int32_t>(i * 7 - 3000);
  auto ptr = dev->allocate(host.size() * 4);
  ASSERT_TRUE(ptr.ok()) << ptr.status().message();
  ASSERT_TRUE(dev->copyToDevice(*ptr, host.data(), host.size() * 4).ok());
  std::vector<int32_t> back(host.size(), 0);
  ASSERT_TRUE(dev->copyToHost(back.data(), *ptr, back.size() * 4).ok());
  EXPECT_EQ(back, host);
  // A copy past the allocation's end is the driver's error, with the call and sizes.
  const Status past = dev->copyToHost(back.data(), *ptr + 8, host.size() * 4);
  EXPECT_EQ(past.message(), fmt::format("copy of 4000 bytes from device address {:#x}: cuMemcpyDtoH failed: "
                                        "CUDA_ERROR_INVALID_VALUE (invalid argument)",
                                        *ptr + 8));
  EXPECT_EQ(dev->copyToDevice(*ptr, nullptr, 4).message(),
            fmt::format("copy of 4 bytes to device address {:#x}: the host source is null", *ptr));
  EXPECT_TRUE(dev->free(*ptr).ok());
  EXPECT_EQ(fake().fakeCuda_liveAllocations(), 0);
  EXPECT_EQ(dev->free(*ptr).message(), fmt::format("freeing device address {:#x}: cuMemFree failed: "
                                                   "CUDA_ERROR_INVALID_VALUE (invalid argument)",
                                                   *ptr));
  auto empty = dev->allocate(0);
  EXPECT_TRUE(empty.ok()) << "an empty tensor still gets an address";
}

TEST_F(CudaDeviceFake, OutOfMemoryNamesTheSize) {
  auto dev = open();
  ASSERT_TRUE(dev);
  fake().fakeCuda_setMemoryLimit(1 << 20);
  auto ptr = dev->allocate(3 << 20);
  ASSERT_FALSE(ptr.ok());
  EXPECT_EQ(ptr.status().message(),
            "allocating 3145728 bytes on CUDA device 0: cuMemAlloc failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)");
}

TEST_F(CudaDeviceFake, LoadsPtxAndUnloadsOnDestruction) {
  {
    auto dev = open();
    ASSERT_TRUE(dev);
    loadSaxpy(*dev);
    auto second = dev->loadModule(kSaxpyPtx, "again.ptx");
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(*second, 1u);
    ASSERT_EQ(fake().fakeCuda_moduleCount(), 2);
    size_t size = 0;
    const char *image = fake().fakeCuda_moduleImage(0, &size);
    EXPECT_EQ(std::string(image, size), kSaxpyPtx) << "the driver received the PTX text unchanged";
    EXPECT_EQ(fake().fakeCuda_liveModules(), 2);
  }
  EXPECT_EQ(fake().fakeCuda_liveModules(), 0);
}

TEST_F(CudaDeviceFake, JitFailureCarriesTheLog) {
  auto dev = open();
  ASSERT_TRUE(dev);
  fake().fakeCuda_failCall("cuModuleLoadDataEx", CUDA_ERROR_INVALID_PTX);
  fake().fakeCuda_setJitErrorLog("ptxas application ptx input, line 9; error   : Unknown symbol 'x'\n");
  auto module = dev->loadModule(kSaxpyPtx, "gate_topk.m16w4.ptx");
  ASSERT_FALSE(module.ok());
  EXPECT_EQ(module.status().message(),
            "loading module 'gate_topk.m16w4.ptx' (PTX) on CUDA device 0 (sm_90): cuModuleLoadDataEx failed: "
            "CUDA_ERROR_INVALID_PTX (a PTX JIT compilation failed); JIT log: ptxas application ptx input, "
            "line 9; error   : Unknown symbol 'x'");
  fake().fakeCuda_setJitErrorLog("");
  EXPECT_EQ(dev->loadModule(kSaxpyPtx, "k.ptx").status().message(),
            "loading module 'k.ptx' (PTX) on CUDA device 0 (sm_90): cuModuleLoadDataEx failed: "
            "CUDA_ERROR_INVALID_PTX (a PTX JIT compilation failed)");
}

TEST_F(CudaDeviceFake, RefusesTextThatIsNotPtxAndBytesThatAreNotACubin) {
  auto dev = open();
  ASSERT_TRUE(dev);
  EXPECT_EQ(dev->loadModule("hello", "notes.txt").status().message(),
            "loading module 'notes.txt' on CUDA device 0: 5 bytes of text that are not PTX (no .version directive)");
  const char notElf[] = "PK\x03\x04 zip";
  EXPECT_EQ(dev->loadCubin(notElf, sizeof(notElf), "k.cubin").status().message(),
            "loading module 'k.cubin' on CUDA device 0: 9 bytes that are not a cubin (a cubin is an ELF "
            "file, starting with 7f 45 4c 46)");
  EXPECT_EQ(fake().fakeCuda_moduleCount(), 0) << "nothing reached the driver";
}

TEST_F(CudaDeviceFake, LoadsACubinAndLaunchesFromIt) {
  auto dev = open();
  ASSERT_TRUE(dev);
  // The fake's cubin: ELF magic, a uint32 length, then entry declarations.
  const std::string entries = ".entry pool_keys_w4(.param .u64 a, .param .u64 b, .param .u64 c)";
  std::string image = "\x7f" "ELF";
  const uint32_t length = static_cast<uint32_t>(entries.size());
  image.append(reinterpret_cast<const char *>(&length), 4);
  image += entries;
  auto module = dev->loadCubin(image.data(), image.size(), "pool_keys.w4.sm_90.cubin");
  ASSERT_TRUE(module.ok()) << module.status().message();
  const Status s = dev->launch(*module, "pool_keys_w4", config(3, 128),
                               KernelArgs().add(uint64_t{1}).add(uint64_t{2}).add(uint64_t{3}));
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_STREQ(fake().launch(0).kernel, "pool_keys_w4");
}

TEST_F(CudaDeviceFake, EnqueueRecordsTheLaunchOnItsStream) {
  auto dev = open();
  ASSERT_TRUE(dev);
  const auto module = loadSaxpy(*dev);
  auto stream = dev->createStream();
  ASSERT_TRUE(stream.ok()) << stream.status().message();
  EXPECT_EQ(fake().fakeCuda_liveStreams(), 1);
  ASSERT_TRUE(dev->enqueue(module, "saxpy", config(4, 256), saxpyArgs(0xABCDEF0123, -5), *stream).ok());
  ASSERT_TRUE(dev->synchronize(*stream).ok());
  uint64_t synced = 0;
  EXPECT_EQ(fake().fakeCuda_streamSyncs(&synced), 1);
  EXPECT_EQ(synced, *stream);

  ASSERT_EQ(fake().fakeCuda_launchCount(), 1);
  const FakeCudaLaunch l = fake().launch(0);
  EXPECT_STREQ(l.kernel, "saxpy");
  EXPECT_EQ(l.grid[0], 4u);
  EXPECT_EQ(l.grid[1], 2u);
  EXPECT_EQ(l.grid[2], 1u);
  EXPECT_EQ(l.block[0], 256u);
  EXPECT_EQ(l.sharedBytes, 0u);
  EXPECT_EQ(l.stream, *stream);
  ASSERT_EQ(l.paramCount, 2);
  EXPECT_EQ(l.paramSizes[0], 8u);
  EXPECT_EQ(l.paramSizes[1], 4u);
  uint64_t ptr = 0;
  int32_t n = 0;
  std::memcpy(&ptr, l.params[0], 8);
  std::memcpy(&n, l.params[1], 4);
  EXPECT_EQ(ptr, 0xABCDEF0123u);
  EXPECT_EQ(n, -5);
  EXPECT_EQ(l.contextCurrent, 1);

  ASSERT_TRUE(dev->destroyStream(*stream).ok());
  EXPECT_EQ(fake().fakeCuda_liveStreams(), 0);
  EXPECT_EQ(dev->destroyStream(0).message(),
            "destroyStream: stream 0 is the default stream, which cannot be destroyed");
}

TEST_F(CudaDeviceFake, KernelHandlesAreLookedUpOnce) {
  auto dev = open();
  ASSERT_TRUE(dev);
  const auto module = loadSaxpy(*dev);
  ASSERT_TRUE(dev->launch(module, "saxpy", config(1, 32), saxpyArgs()).ok());
  // From now on a lookup would fail: the cached handle must be used.
  fake().fakeCuda_failCall("cuModuleGetFunction", CUDA_ERROR_INVALID_HANDLE);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(dev->launch(module, "saxpy", config(1, 32), saxpyArgs()).ok());
  EXPECT_EQ(fake().fakeCuda_launchCount(), 4);
  EXPECT_EQ(dev->launch(module, "fill", config(1, 32), KernelArgs().add(uint64_t{0})).message(),
            "kernel 'fill' of module 'saxpy.ptx': cuModuleGetFunction failed: CUDA_ERROR_INVALID_HANDLE "
            "(invalid resource handle)");
}

TEST_F(CudaDeviceFake, UnknownKernelOrModuleIsNamed) {
  auto dev = open();
  ASSERT_TRUE(dev);
  const auto module = loadSaxpy(*dev);
  EXPECT_EQ(dev->launch(module, "gemm", config(1, 32), saxpyArgs()).message(),
            "kernel 'gemm' of module 'saxpy.ptx': cuModuleGetFunction failed: CUDA_ERROR_NOT_FOUND "
            "(named symbol not found)");
  EXPECT_EQ(dev->launch(7, "saxpy", config(1, 32), saxpyArgs()).message(),
            "launch of 'saxpy': module id 7 was never loaded on CUDA device 0");
}

TEST_F(CudaDeviceFake, ArgumentsAreCheckedAgainstTheParameters) {
  auto dev = open();
  ASSERT_TRUE(dev);
  const auto module = loadSaxpy(*dev);
  EXPECT_EQ(dev->launch(module, "saxpy", config(1, 32), KernelArgs().add(uint64_t{1})).message(),
            "launch of 'saxpy': 1 arguments given, the kernel takes 2");
  EXPECT_EQ(dev->launch(module, "saxpy", config(1, 32), KernelArgs().add(uint64_t{1}).add(uint64_t{2})).message(),
            "launch of 'saxpy': argument 1 has 8 bytes, the parameter has 4");
  EXPECT_EQ(fake().fakeCuda_launchCount(), 0);
}

TEST_F(CudaDeviceFake, WithoutParamInfoTheArgumentCheckIsSkipped) {
  ::setenv("FAKE_CUDA_MISSING", "cuFuncGetParamInfo", 1);
  auto driver = CudaDriver::load(MOBAGEN_FAKE_CUDA_DRIVER);
  ASSERT_TRUE(driver.ok()) << "cuFuncGetParamInfo is optional: " << driver.status().message();
  EXPECT_EQ((*driver)->api().cuFuncGetParamInfo, nullptr);
  auto dev = CudaDevice::open(*driver, 0);
  ASSERT_TRUE(dev.ok());
  auto module = (*dev)->loadModule(kSaxpyPtx, "saxpy.ptx");
  ASSERT_TRUE(module.ok());
  // A 4-byte argument for the u64 parameter reaches the driver, zero-padded.
  ASSERT_TRUE((*dev)->launch(*module, "saxpy", config(1, 32), KernelArgs().add(uint32_t{0xFFFFFFFF}).add(3)).ok());
  const FakeCudaLaunch l = fake().launch(0);
  uint64_t first = 0;
  std::memcpy(&first, l.params[0], 8);
  EXPECT_EQ(first, 0xFFFFFFFFu);
}

TEST_F(CudaDeviceFake, LaunchLimitsAreCheckedBeforeTheDriver) {
  auto dev = open();
  ASSERT_TRUE(dev);
  const auto module = loadSaxpy(*dev);
  EXPECT_EQ(dev->launch(module, "saxpy", config(1, 2048), saxpyArgs()).message(),
            "launch of 'saxpy': block (2048,1,1) has 2048 threads; the kernel allows 1..1024 "
            "(CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK on Fake GPU sm_90)");
  EXPECT_EQ(dev->launch(module, "saxpy", config(0, 32), saxpyArgs()).message(),
            "launch of 'saxpy': grid (0,2,1) is empty or over the limits (x <= 2147483647, y, z <= 65535)");
  EXPECT_EQ(dev->launch(module, "saxpy", config(1, 32, 300000), saxpyArgs()).message(),
            "launch of 'saxpy': 300000 bytes of shared memory (0 static + 300000 dynamic) exceed the limit of "
            "232448 per block on Fake GPU sm_90");
  EXPECT_EQ(fake().fakeCuda_launchCount(), 0);
}

TEST_F(CudaDeviceFake, DynamicSharedMemoryOver48KiBOptsIn) {
  auto dev = open();
  ASSERT_TRUE(dev);
  const auto module = loadSaxpy(*dev);
  ASSERT_TRUE(dev->launch(module, "saxpy", config(1, 128, 40 * 1024), saxpyArgs()).ok());
  EXPECT_EQ(fake().fakeCuda_dynamicSharedOptIns(), 0);
  // The fake, like the driver, refuses more than 48 KiB without the attribute.
  const Status big = dev->launch(module, "saxpy", config(1, 128, 100 * 1024), saxpyArgs());
  ASSERT_TRUE(big.ok()) << big.message();
  EXPECT_EQ(fake().fakeCuda_dynamicSharedOptIns(), 1);
  EXPECT_EQ(fake().launch(1).sharedBytes, 100u * 1024);
  ASSERT_TRUE(dev->launch(module, "saxpy", config(1, 128, 64 * 1024), saxpyArgs()).ok());
  EXPECT_EQ(fake().fakeCuda_dynamicSharedOptIns(), 1) << "already allowed: no second opt-in";

  fake().fakeCuda_failCall("cuFuncSetAttribute", CUDA_ERROR_INVALID_VALUE);
  EXPECT_EQ(dev->launch(module, "fill", config(1, 128, 200 * 1024), KernelArgs().add(uint64_t{0})).message(),
            "launch of 'fill' with 204800 bytes of dynamic shared memory: "
            "cuFuncSetAttribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES) failed: "
            "CUDA_ERROR_INVALID_VALUE (invalid argument)");
}

TEST_F(CudaDeviceFake, LaunchFailuresAreReportedWhereTheyHappen) {
  auto dev = open();
  ASSERT_TRUE(dev);
  const auto module = loadSaxpy(*dev);
  fake().fakeCuda_failCall("cuLaunchKernel", CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES);
  EXPECT_EQ(dev->enqueue(module, "saxpy", config(4, 256), saxpyArgs(), 0).message(),
            "launch of 'saxpy' (grid (4,2,1), block (256,1,1), 0 bytes dynamic shared, stream 0x0): "
            "cuLaunchKernel failed: CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES (too many resources requested for launch)");
  fake().fakeCuda_reset();
  auto again = open();
  const auto module2 = loadSaxpy(*again);
  // An error raised while the kernel runs surfaces at the next synchronization.
  ASSERT_TRUE(again->enqueue(module2, "saxpy", config(4, 256), saxpyArgs(), 0).ok());
  fake().fakeCuda_failCall("cuStreamSynchronize", CUDA_ERROR_LAUNCH_FAILED);
  EXPECT_EQ(again->synchronize(0).message(),
            "waiting for stream 0x0 on CUDA device 0: cuStreamSynchronize failed: CUDA_ERROR_LAUNCH_FAILED "
            "(unspecified launch failure)");
}

TEST_F(CudaDeviceFake, MeasureTimesEachRepetitionWithAnEventPair) {
  auto dev = open();
  ASSERT_TRUE(dev);
  const auto module = loadSaxpy(*dev);
  const float times[] = {3.0f, 1.0f, 2.5f};
  fake().fakeCuda_setElapsedMs(times, 3);
  auto work = [&] { return dev->enqueue(module, "saxpy", config(8, 128), saxpyArgs(), 0); };
  auto m = dev->measure(work, 2, 3, 0);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->unit, "ms");
  EXPECT_EQ(m->samples, (std::vector<double>{3.0, 1.0, 2.5}));
  EXPECT_EQ(fake().fakeCuda_launchCount(), 5) << "2 warm-up runs and 3 measured ones";
  EXPECT_EQ(fake().fakeCuda_liveEvents(), 0) << "every event is destroyed";

  EXPECT_EQ(dev->measure(work, -1, 3, 0).status().message(),
            "measure: -1 warm-up runs and 3 repetitions; need >= 0 and >= 1");
  EXPECT_EQ(dev->measure(work, 0, 0, 0).status().message(),
            "measure: 0 warm-up runs and 0 repetitions; need >= 0 and >= 1");
  int runs = 0;
  auto failsOnThird = [&] {
    return ++runs == 3 ? Status::error("kernel refused") : Status::success();
  };
  EXPECT_EQ(dev->measure(failsOnThird, 1, 5, 0).status().message(), "measure: repetition 1: kernel refused");
  EXPECT_EQ(fake().fakeCuda_liveEvents(), 0) << "events are destroyed on the error path too";
  fake().fakeCuda_failCall("cuEventSynchronize", CUDA_ERROR_LAUNCH_FAILED);
  EXPECT_EQ(dev->measure(work, 0, 2, 0).status().message(),
            "measure: repetition 0: cuEventSynchronize failed: CUDA_ERROR_LAUNCH_FAILED (unspecified launch failure)");
  EXPECT_EQ(fake().fakeCuda_liveEvents(), 0);
}

TEST_F(CudaDeviceFake, ConcurrentCallersEachGetTheContext) {
  auto dev = open();
  ASSERT_TRUE(dev);
  constexpr int kThreads = 4, kLaunches = 50;
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      // Each thread loads its own module and launches from a shared one too;
      // none of them set a context: the device must.
      auto own = dev->loadModule(kSaxpyPtx, fmt::format("thread{}.ptx", t));
      if (!own) {
        errors[t] = own.status().message();
        return;
      }
      auto buffer = dev->allocate(64);
      if (!buffer) {
        errors[t] = buffer.status().message();
        return;
      }
      for (int i = 0; i < kLaunches; ++i) {
        const Status s = dev->launch(*own, i % 2 ? "saxpy" : "fill",
                                     config(1, 32),
                                     i % 2 ? saxpyArgs(*buffer, t) : KernelArgs().add(*buffer));
        if (!s) {
          errors[t] = s.message();
          return;
        }
      }
      if (Status s = dev->free(*buffer); !s)
        errors[t] = s.message();
    });
  for (auto &thread : threads)
    thread.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(errors[t], "") << "thread " << t;
  ASSERT_EQ(fake().fakeCuda_launchCount(), kThreads * kLaunches);
  for (int i = 0; i < kThreads * kLaunches; ++i)
    ASSERT_EQ(fake().launch(i).contextCurrent, 1) << "launch " << i;
}

TEST_F(CudaDeviceFake, OpenDeviceChoosesCudaOrFallsBackWithTheReason) {
  ::setenv("MOBAGEN_CUDA_DRIVER", MOBAGEN_FAKE_CUDA_DRIVER, 1);
  auto gpu = device::openDevice(device::DeviceChoice::Cuda, 1);
  ASSERT_TRUE(gpu.ok()) << gpu.status().message();
  EXPECT_EQ((*gpu)->properties().kind, "cuda");
  EXPECT_EQ((*gpu)->name(), "Fake GPU sm_80");
  std::string why = "unchanged";
  auto automatic = device::openDevice(device::DeviceChoice::Auto, 0, &why);
  ASSERT_TRUE(automatic.ok());
  EXPECT_EQ((*automatic)->properties().kind, "cuda");
  EXPECT_EQ(why, "") << "a usable GPU leaves no reason";
  EXPECT_EQ(device::openDevice(device::DeviceChoice::Cuda, 5).status().message(),
            "cannot open CUDA device 5: the driver sees 2 devices (ordinals 0..1)");

  ::setenv("MOBAGEN_CUDA_DRIVER", "libmobagen-no-such-driver.so.1", 1);
  auto fallback = device::openDevice(device::DeviceChoice::Auto, 0, &why);
  ASSERT_TRUE(fallback.ok());
  EXPECT_EQ((*fallback)->properties().kind, "emulator");
  EXPECT_NE(why.find("cannot load the CUDA driver libmobagen-no-such-driver.so.1"), std::string::npos) << why;
  auto explicitCuda = device::openDevice(device::DeviceChoice::Cuda);
  ASSERT_FALSE(explicitCuda.ok());
  EXPECT_NE(explicitCuda.status().message().find("cannot load the CUDA driver"), std::string::npos);
}

} // namespace
} // namespace mobagen::cuda
