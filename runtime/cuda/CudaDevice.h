//===- CudaDevice.h - A CUDA GPU as a Device, through the driver API --------===//
//
// CudaDevice runs the generated kernels on one GPU through the CUDA driver API that
// CudaDriver loaded with dlopen (libcuda is never linked). It works in the GPU's
// primary context, the one the CUDA runtime (and so PyTorch) uses, so device
// pointers pass freely between a host program's other CUDA code and mobagen.
//
// Thread safety: every method may be called from several host threads at once.
// Each call makes the primary context current on its calling thread
// (cuCtxSetCurrent), so a thread needs no setup; the module table and the kernel
// handle cache are guarded by a mutex, launches and copies are not serialized.
//
// Errors: every failing CUresult becomes a Status naming the driver call, its
// arguments that matter (sizes, kernel, module) and the result's name and text.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/cuda/CudaDriver.h"
#include "runtime/device/Device.h"

namespace mobagen::cuda {

class CudaDevice final : public device::Device {
public:
  /// Retains the primary context of GPU `ordinal` and reads its properties.
  static Expected<std::unique_ptr<CudaDevice>> open(std::shared_ptr<CudaDriver> driver,
                                                    int ordinal = 0);
  /// Unloads the modules and releases the primary context (memory still allocated
  /// stays with the context, as with the CUDA runtime).
  ~CudaDevice() override;
  CudaDevice(const CudaDevice &) = delete;
  CudaDevice &operator=(const CudaDevice &) = delete;

  std::string name() const override { return properties_.name; }
  /// kind "cuda"; read once when the device opens.
  device::DeviceProperties properties() const override { return properties_; }
  int ordinal() const { return ordinal_; }
  const CudaDriver &driver() const { return *driver_; }

  Expected<device::DevicePtr> allocate(size_t bytes) override;
  Status free(device::DevicePtr ptr) override;
  Status copyToDevice(device::DevicePtr dst, const void *src, size_t bytes) override;
  Status copyToHost(void *dst, device::DevicePtr src, size_t bytes) override;

  /// JIT-compiles PTX text for this GPU; on failure the message carries the JIT's
  /// error log (ptxas's diagnostics with their PTX line numbers).
  Expected<device::ModuleId> loadModule(std::string_view ptx, std::string_view name) override;
  /// Loads a cubin (an ELF image for this GPU's architecture, as `mobagen generate
  /// --cubin` writes), skipping the JIT.
  Expected<device::ModuleId> loadCubin(const void *image, size_t size, std::string_view name) override;

  /// Looks the kernel up once per (module, name) and caches its handle and limits;
  /// checks the block against the kernel's thread limit, the shared memory against
  /// the GPU's opt-in maximum and, where the driver has cuFuncGetParamInfo, the
  /// argument count and byte sizes against the kernel's parameters. Dynamic shared
  /// memory over 48 KiB raises the kernel's CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES.
  Status enqueue(device::ModuleId module, std::string_view kernel, const device::LaunchConfig &config,
                 const device::KernelArgs &args, device::Stream stream) override;
  /// cuStreamSynchronize: returns the first error of the work on `stream`.
  Status synchronize(device::Stream stream) override;
  /// Warm-up runs, a synchronize, then per repetition a CUDA event pair around
  /// `work`; samples in "ms" (cuEventElapsedTime).
  Expected<device::Measurement> measure(const std::function<Status()> &work, int warmup,
                                        int repetitions, device::Stream stream) override;

  /// A new stream (blocking: ordered with the default stream, which the synchronous
  /// copies use) and its destruction.
  Expected<device::Stream> createStream();
  Status destroyStream(device::Stream stream);

private:
  struct Kernel {
    CUfunction function = nullptr;
    int maxThreadsPerBlock = 0;
    int staticSharedBytes = 0;
    /// The parameters' byte sizes; empty and unknown when paramsKnown is false.
    std::vector<size_t> paramSizes;
    bool paramsKnown = false;
    /// The dynamic shared memory the kernel is currently allowed (48 KiB less the
    /// static part by default); read by launches without the lock, raised under it.
    std::atomic<uint32_t> maxDynamicSharedBytes{48 * 1024};
  };
  struct Module {
    CUmodule handle = nullptr;
    std::string name;
  };

  CudaDevice(std::shared_ptr<CudaDriver> driver, int ordinal);
  /// Makes the primary context current on the calling thread.
  Status makeCurrent() const;
  Expected<device::ModuleId> loadImage(const void *image, std::string_view name, bool isPtx);
  /// The cached kernel (looked up on first use); the pointer stays valid while the device lives.
  Expected<Kernel *> kernel(device::ModuleId module, std::string_view name);

  std::shared_ptr<CudaDriver> driver_;
  int ordinal_ = 0;
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
  device::DeviceProperties properties_;

  mutable std::mutex mutex_; // guards modules_ and kernels_
  std::vector<Module> modules_;
  /// Per module (by id), its kernels looked up so far, by entry name.
  std::vector<std::map<std::string, std::unique_ptr<Kernel>, std::less<>>> kernels_;
};

} // namespace mobagen::cuda
