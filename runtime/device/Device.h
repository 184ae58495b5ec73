//===- Device.h - What the runtime needs from a GPU ------------------------===//
//
// The runtime talks to a GPU through this interface only: device memory,
// modules loaded from PTX text, and kernel launches. Two implementations:
// the PTX emulator (runtime/emulator, on the CPU) and, later, the CUDA driver
// API loaded with dlopen. Every call returns a Status; nothing throws.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <cstring>
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

class Device {
public:
  virtual ~Device() = default;

  /// "emulator", or the GPU's name.
  virtual std::string name() const = 0;

  virtual Expected<DevicePtr> allocate(size_t bytes) = 0;
  virtual Status free(DevicePtr ptr) = 0;
  virtual Status copyToDevice(DevicePtr dst, const void *src, size_t bytes) = 0;
  virtual Status copyToHost(void *dst, DevicePtr src, size_t bytes) = 0;

  /// Loads PTX text; `name` only appears in messages (a file name, a kernel bundle).
  virtual Expected<ModuleId> loadModule(std::string_view ptx, std::string_view name) = 0;

  /// Runs `kernel` of `module` to completion (launches are synchronous).
  virtual Status launch(ModuleId module, std::string_view kernel, const LaunchConfig &config,
                        const KernelArgs &args) = 0;
};

} // namespace mobagen::device
