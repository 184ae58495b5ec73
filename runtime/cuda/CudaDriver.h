//===- CudaDriver.h - The CUDA driver API, loaded at run time ----------------===//
//
// mobagen never links libcuda: every binary must start on machines without a GPU
// (development and CI machines have none). CudaDriver dlopen()s the driver library,
// takes cuInit / cuDriverGetVersion / cuGetProcAddress by name and resolves every
// other entry point through cuGetProcAddress, which returns the ABI version matching
// the cuda.h mobagen was built with (e.g. cuMemAlloc_v2 for "cuMemAlloc").
//
// Failures are Status values that say what is missing: no driver library, the CUDA
// toolkit's stub library (it answers CUDA_ERROR_STUB_LIBRARY to everything), a
// driver too old, no device.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <cuda.h>

#include "runtime/support/Status.h"

namespace mobagen::cuda {

// X(name) for every driver entry point the runtime uses. The table member is
// called `name` and has the type of the cuda.h declaration (through its _v2
// macros); cuGetProcAddress is asked for the unversioned name.
#define MOBAGEN_CUDA_DRIVER_FUNCTIONS(X)                                                     \
  X(cuGetErrorName)                                                                          \
  X(cuGetErrorString)                                                                        \
  X(cuDeviceGetCount)                                                                        \
  X(cuDeviceGet)                                                                             \
  X(cuDeviceGetName)                                                                         \
  X(cuDeviceGetAttribute)                                                                    \
  X(cuDeviceTotalMem)                                                                        \
  X(cuDevicePrimaryCtxRetain)                                                                \
  X(cuDevicePrimaryCtxRelease)                                                               \
  X(cuCtxSetCurrent)                                                                         \
  X(cuCtxSynchronize)                                                                        \
  X(cuModuleLoadDataEx)                                                                      \
  X(cuModuleUnload)                                                                          \
  X(cuModuleGetFunction)                                                                     \
  X(cuFuncGetAttribute)                                                                      \
  X(cuFuncSetAttribute)                                                                      \
  X(cuLaunchKernel)                                                                          \
  X(cuMemAlloc)                                                                              \
  X(cuMemFree)                                                                               \
  X(cuMemcpyHtoD)                                                                            \
  X(cuMemcpyDtoH)                                                                            \
  X(cuMemsetD8)                                                                              \
  X(cuStreamCreate)                                                                          \
  X(cuStreamDestroy)                                                                         \
  X(cuStreamSynchronize)                                                                     \
  X(cuEventCreate)                                                                           \
  X(cuEventRecord)                                                                           \
  X(cuEventSynchronize)                                                                      \
  X(cuEventElapsedTime)                                                                      \
  X(cuEventDestroy)

// Entry points newer than kMinimumDriverVersion: null when the driver lacks them,
// and their users fall back (cuFuncGetParamInfo is CUDA 12.4+: without it, launch
// argument sizes cannot be checked against the kernel's parameters).
#define MOBAGEN_CUDA_OPTIONAL_DRIVER_FUNCTIONS(X)                                            \
  X(cuFuncGetParamInfo)

/// The resolved entry points.
struct DriverApi {
#define MOBAGEN_CUDA_MEMBER(name) decltype(&::name) name = nullptr;
  MOBAGEN_CUDA_DRIVER_FUNCTIONS(MOBAGEN_CUDA_MEMBER)
  MOBAGEN_CUDA_OPTIONAL_DRIVER_FUNCTIONS(MOBAGEN_CUDA_MEMBER)
#undef MOBAGEN_CUDA_MEMBER
};

/// The oldest driver mobagen accepts (CUDA 12.0): the ABIs of every function above
/// are stable from there to the toolkit mobagen is built with.
inline constexpr int kMinimumDriverVersion = 12000;

class CudaDriver {
public:
  /// Loads the driver from `library` (a name for dlopen's search, or a path) and
  /// initializes it. Never throws; never aborts.
  static Expected<std::shared_ptr<CudaDriver>> load(const std::string &library = "libcuda.so.1");

  ~CudaDriver();
  CudaDriver(const CudaDriver &) = delete;
  CudaDriver &operator=(const CudaDriver &) = delete;

  const DriverApi &api() const { return api_; }
  /// The driver's CUDA version, e.g. 12080 for 12.8.
  int driverVersion() const { return driverVersion_; }
  const std::string &library() const { return library_; }

  /// Success for CUDA_SUCCESS; otherwise "`what` failed: CUDA_ERROR_... (text)".
  Status check(CUresult result, const char *what) const;

private:
  CudaDriver() = default;
  void *handle_ = nullptr;
  std::string library_;
  int driverVersion_ = 0;
  DriverApi api_;
};

/// What `mobagen info` and the autotuner's cache key need to know of a GPU.
struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  int computeMajor = 0, computeMinor = 0;
  int multiprocessors = 0;
  size_t totalMemoryBytes = 0;
};

Expected<std::vector<DeviceInfo>> listDevices(const CudaDriver &driver);

} // namespace mobagen::cuda
