//===- Device.h - What the runtime needs from a GPU ------------------------===//
//
// The runtime talks to a GPU through this interface only: device memory,
// modules loaded from PTX text, and kernel launches. Two implementations:
// the PTX emulator (runtime/emulator, on the CPU) and the CUDA driver API loaded
// with dlopen (runtime/cuda). Every call returns a Status; nothing throws.
//
// Work is enqueued on a Stream (a CUstream on CUDA, 0 = the default stream); the
// emulator runs each launch to completion as it is enqueued, on any stream value.
// measure() is what the autotuner compares variants with: event-timed
// milliseconds on a GPU, a deterministic cost from the counters on the emulator.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "runtime/support/Status.h"

namespace mobagen::device {

/// A device address, as a kernel sees it (a generic/global pointer).
using DevicePtr = uint64_t;

struct Dim3 {
  uint32_t x = 1, y = 1, z = 1;
  uint64_t count() const { return uint64_t(x) * y * z; }
};

struct LaunchConfig {
  Dim3 grid;
  Dim3 block;
  uint32_t dynamicSharedBytes = 0;
};

/// The kernel's arguments in order, each as the bytes of its .param (like the
/// `void **kernelParams` of cuLaunchKernel, but with sizes so that a mismatch
/// with the kernel's signature is an error rather than garbage).
class KernelArgs {
public:
  template <typename T> KernelArgs &add(const T &value) {
    static_assert(std::is_trivially_copyable_v<T>);
    Arg arg;
    arg.bytes.resize(sizeof(T));
    std::memcpy(arg.bytes.data(), &value, sizeof(T));
    args_.push_back(std::move(arg));
    return *this;
  }
  KernelArgs &addBytes(const void *data, size_t size) {
    Arg arg;
    arg.bytes.assign(static_cast<const uint8_t *>(data), static_cast<const uint8_t *>(data) + size);
    args_.push_back(std::move(arg));
    return *this;
  }
  size_t size() const { return args_.size(); }
  const std::vector<uint8_t> &bytes(size_t i) const { return args_[i].bytes; }

private:
  struct Arg {
    std::vector<uint8_t> bytes;
  };
  std::vector<Arg> args_;
};

/// A module loaded on a device; owned by the device, valid until the device dies.
using ModuleId = uint32_t;

/// A queue of device work: the CUstream's value on CUDA; 0 is the default stream.
using Stream = uint64_t;

/// What the autotuner's cache key and `mobagen info` need to know of a device.
struct DeviceProperties {
  std::string kind;          ///< "cuda" or "emulator"
  std::string name;          ///< "NVIDIA H200", "emulator"
  int computeMajor = 0;      ///< 9 for sm_90
  int computeMinor = 0;
  int multiprocessors = 0;   ///< SMs (the emulator models those of an H200)
  int driverVersion = 0;     ///< CUDA driver version (12080 = 12.8); 0 on the emulator
  uint32_t maxSharedBytesPerBlock = 0; ///< opt-in maximum (static + dynamic)
};

/// What Device::measure returns: one cost per measured repetition of the work.
struct Measurement {
  std::vector<double> samples;
  /// "ms" (CUDA events) or "model-us" (the emulator's deterministic cost model).
  std::string unit;
};

class Device {
public:
  virtual ~Device() = default;

  /// "emulator", or the GPU's name.
  virtual std::string name() const = 0;
  virtual DeviceProperties properties() const = 0;

  virtual Expected<DevicePtr> allocate(size_t bytes) = 0;
  virtual Status free(DevicePtr ptr) = 0;
  virtual Status copyToDevice(DevicePtr dst, const void *src, size_t bytes) = 0;
  virtual Status copyToHost(void *dst, DevicePtr src, size_t bytes) = 0;

  /// Loads PTX text; `name` only appears in messages (a file name, a kernel bundle).
  virtual Expected<ModuleId> loadModule(std::string_view ptx, std::string_view name) = 0;
  /// Loads a cubin (ptxas's ELF image for one GPU architecture), skipping the JIT.
  /// Devices that run only PTX (the emulator) refuse it.
  virtual Expected<ModuleId> loadCubin(const void *image, size_t size, std::string_view name) {
    (void)image;
    return Status::errorf("cannot load the cubin '{}' ({} bytes): the {} device runs PTX only", name, size,
                          this->name());
  }

  /// Enqueues `kernel` of `module` on `stream`. Errors the device can see before
  /// the kernel runs (unknown kernel, argument sizes, limits) are returned here.
  virtual Status enqueue(ModuleId module, std::string_view kernel, const LaunchConfig &config,
                         const KernelArgs &args, Stream stream) = 0;
  /// Waits for the work enqueued on `stream`; returns the first error it raised.
  virtual Status synchronize(Stream stream) = 0;

  /// Runs `kernel` of `module` to completion on the default stream.
  Status launch(ModuleId module, std::string_view kernel, const LaunchConfig &config,
                const KernelArgs &args) {
    if (Status s = enqueue(module, kernel, config, args, 0); !s)
      return s;
    return synchronize(0);
  }

  /// Runs `work` (which enqueues on `stream`) `warmup` times unmeasured, then
  /// `repetitions` times, each measured on its own. Lower is faster; samples are
  /// comparable only within one device.
  virtual Expected<Measurement> measure(const std::function<Status()> &work, int warmup,
                                        int repetitions, Stream stream) = 0;
};

} // namespace mobagen::device
